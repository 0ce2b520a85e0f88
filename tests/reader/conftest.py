"""Run folders written byte for byte per ``logger/schema.py``, without the logger.

``write_run`` writes exactly what the format documents, so reader tests do not depend on the
logger's code (``test_roundtrip_logger.py`` covers the real logger).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from runpages import schema

NOW = 1_764_000_000.0          # a fixed "now" so statuses do not depend on the clock


def encode(value: Any) -> Any:
    """NaN/inf as the schema's strings, like the logger does."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(encode(r), separators=(",", ":")) + "\n" for r in records)


def steps(n: int, start: int = 0, t0: float = NOW - 1000, **keys) -> list[dict[str, Any]]:
    """n metric records; each keyword is a function of the step giving that key's value."""
    out = []
    for s in range(start, start + n):
        rec = {schema.STEP_KEY: s, schema.TIME_KEY: t0 + s}
        rec.update({k: f(s) for k, f in keys.items()})
        out.append(rec)
    return out


def write_run(root: Path, project: str = "mnist", run_id: str = "20261125-190000-base-abc123",
              meta: dict | None = None, config: dict | None = None,
              metrics: list[dict] | str | bytes | None = None, system: list[dict] | None = None,
              summary: dict | None = None, artifacts: list[dict] | None = None,
              console: str | None = None, write_meta: bool = True) -> Path:
    run_dir = Path(root) / project / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if write_meta:
        m = {"format_version": schema.SCHEMA_VERSION, "id": run_id, "name": run_id.split("-")[2],
             "project": project, "user": "ana", "host": "gpu1", "tags": [], "notes": "",
             "command": ["python", "train.py"], "started_at": NOW - 1000,
             "heartbeat_at": NOW - 5, "status": schema.RUNNING}
        m.update(meta or {})
        (run_dir / schema.META_FILE).write_text(json.dumps(encode(m)))
    if config is not None:
        (run_dir / schema.CONFIG_FILE).write_text(json.dumps(config))
    if metrics is not None:
        data = metrics if isinstance(metrics, (str, bytes)) else jsonl(metrics)
        p = run_dir / schema.METRICS_FILE
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    if system is not None:
        (run_dir / schema.SYSTEM_FILE).write_text(jsonl(system))
    if summary is not None:
        (run_dir / schema.SUMMARY_FILE).write_text(json.dumps(encode(summary)))
    if artifacts is not None:
        (run_dir / schema.ARTIFACTS_DIR).mkdir(exist_ok=True)
        (run_dir / schema.ARTIFACTS_DIR / schema.ARTIFACT_MANIFEST).write_text(jsonl(artifacts))
    if console is not None:
        (run_dir / schema.CONSOLE_FILE).write_text(console)
    return run_dir


def append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    d = tmp_path / "runs"
    d.mkdir()
    return d


class RunFolders:
    """The helpers above as one fixture (tests cannot import conftest under importlib mode)."""
    NOW = NOW
    write_run = staticmethod(write_run)
    steps = staticmethod(steps)
    jsonl = staticmethod(jsonl)
    append = staticmethod(append)
    encode = staticmethod(encode)


@pytest.fixture
def rf() -> type[RunFolders]:
    return RunFolders
