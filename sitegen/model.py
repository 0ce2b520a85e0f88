"""Run and Project: what the pages show, built from what the reader read. No I/O here.

Invariants: a Run's ``metrics`` frame has one row per step, sorted by ``_step``, numeric
columns as float64 (NaN/inf kept), string-valued keys in ``text_keys`` and not in numeric
columns; ``status`` is already resolved (``lost`` for a stale heartbeat).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Artifact:
    name: str
    type: str
    path: str                # relative to the run's artifacts/ folder
    bytes: int
    sha256: str
    files: int = 1
    step: int | None = None
    time: float | None = None


@dataclass
class Run:
    id: str
    project: str
    name: str
    dir: str                                    # absolute path of the run folder
    meta: dict[str, Any]
    config: dict[str, Any]                      # flattened with "/" for tables
    summary: dict[str, Any]
    metrics: pd.DataFrame                       # _step, _time, numeric keys
    system: pd.DataFrame                        # _time, system keys
    text_keys: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    status: str = "running"
    source: str = ""                            # which runs dir it came from
    fingerprint: str = ""                       # changes whenever any of the run's files changed

    @property
    def user(self) -> str: return self.meta.get("user") or ""
    @property
    def host(self) -> str: return self.meta.get("host") or ""
    @property
    def group(self) -> str: return self.meta.get("group") or ""
    @property
    def tags(self) -> list[str]: return list(self.meta.get("tags") or [])
    @property
    def started_at(self) -> float | None: return self.meta.get("started_at")
    @property
    def ended_at(self) -> float | None: return self.meta.get("ended_at")


@dataclass
class Project:
    name: str
    runs: list[Run]
