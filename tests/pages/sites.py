"""Run folders written per logger/schema.py, and sites built from them, for the page tests.

Written directly (not through the logger) so a project of 1,000 runs takes a second; the
logger's own round trip is tested in tests/logger/.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from runpages import schema

NOW = 1_764_000_000.0
USERS = ("ana", "bo", "cy")
STATUSES = ("finished", "finished", "crashed", "killed", "running")


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def write_run(root: Path, project: str, run_id: str, *, name: str, user: str = "ana",
              config: dict | None = None, summary: dict | None = None, status: str = "finished",
              tags: list[str] | None = None, group: str = "", steps: int = 20,
              started_at: float = NOW - 3600, loss0: float = 1.0, host: str = "gpu-1",
              commit: str = "0123456789abcdef0123456789abcdef01234567", dirty: bool = False) -> Path:
    d = Path(root) / project / run_id
    d.mkdir(parents=True, exist_ok=True)
    ended = None if status == "running" else started_at + 60 * steps
    meta = {"format_version": schema.SCHEMA_VERSION, "id": run_id, "name": name, "project": project,
            "group": group, "tags": tags or [], "notes": "", "user": user, "host": host,
            "command": ["python", "train.py"], "git": {"commit": commit, "branch": "main", "dirty": dirty},
            "started_at": started_at, "ended_at": ended, "status": status,
            "heartbeat_at": NOW - 5 if status == "running" else ended}
    (d / schema.META_FILE).write_text(json.dumps(meta))
    (d / schema.CONFIG_FILE).write_text(json.dumps(config or {}))
    lines = []
    for s in range(steps):
        loss = loss0 / (1 + s)
        lines.append(json.dumps({schema.STEP_KEY: s, schema.TIME_KEY: started_at + 60 * s,
                                 "train/loss": loss, "val/acc": 1 - loss / 2}) + "\n")
    (d / schema.METRICS_FILE).write_text("".join(lines))
    last = loss0 / steps if steps else None
    summ = {"train/loss": last, "val/acc": 1 - last / 2} if steps else {}
    summ.update(summary or {})
    (d / schema.SUMMARY_FILE).write_text(json.dumps(_encode(summ)))
    return d


def write_project(root: Path, project: str = "mnist", n: int = 4, steps: int = 20) -> list[dict]:
    """n runs with varied users, statuses, tags and learning rates; returns their specs."""
    specs = []
    for i in range(n):
        lr = [1e-2, 3e-4, 1e-4, 1e-3][i % 4] * (1 + i // 4)
        spec = dict(
            run_id=f"20261125-{100000 + i:06d}-run{i}-{i:06x}", name=f"run-{i:04d}",
            user=USERS[i % 3], status=STATUSES[i % 5], tags=["baseline"] if i % 3 == 0 else ["sweep"],
            group=f"g{i % 2}", config={"lr": lr, "batch_size": [32, 64][i % 2], "optim": ["adam", "sgd"][i % 2],
                                       "seed": 0},
            started_at=NOW - 3600 * (n - i), loss0=1.0 + i * 0.01, steps=steps, host=f"gpu-{i % 2}",
        )
        write_run(root, project, **spec)
        specs.append(spec)
    return specs


def build(runs_dir: Path, out: Path, title: str = "Team logbook"):
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    cfg = SiteConfig(runs_dirs=[Path(runs_dir)], output=Path(out), title=title)
    return build_site(cfg, now=NOW)
