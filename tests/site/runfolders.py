"""Run folders for the site and browser tests.

``write_run`` goes through the real logger (``tests/conftest.py`` ``log_run``) for every run a
finished process leaves. It writes by hand, per logger/schema.py, only what a process cannot
leave through ``finish()``: a run still ``running`` (or gone ``lost``), or meta fields outside
the logger's descriptive ones (hostile or hand-edited meta.json).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Callable

from runpages import schema

T0 = 1764000000.0  # 2025-11-24


def _enc(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    return v


def write_run(root: str | os.PathLike, project: str = "demo", name: str = "run", run_id: str | None = None,
              steps: int = 50, metrics: dict[str, Callable[[int], Any]] | None = None,
              config: dict | None = None, meta: dict | None = None, summary: dict | None = None,
              system_every: int = 10, console: str | None = "hello\n", artifacts: dict[str, bytes] | None = None,
              t0: float = T0, status: str = "finished", every: dict[str, int] | None = None) -> Path:
    """One run folder; returns its path. ``metrics`` maps key -> f(step) -> value."""
    from runpages.run import DESCRIPTIVE_META
    from tests.conftest import log_run

    run_id = run_id or f"20251124-120000-{name.lower().replace(' ', '-')[:20] or 'x'}-abc123"
    if status in ("finished", "crashed", "killed") and set(meta or {}) <= set(DESCRIPTIVE_META):
        return log_run(root, project=project, name=name, run_id=run_id, steps=steps, metrics=metrics,
                       config=config, meta=meta, summary=summary, system_every=system_every,
                       console=console, artifacts=artifacts, t0=t0, status=status, every=every)
    d = Path(root) / project / run_id
    d.mkdir(parents=True, exist_ok=True)
    metrics = metrics if metrics is not None else {
        "train/loss": lambda s: 2.0 * math.exp(-s / 20) + 0.1,
        "train/lr": lambda s: 1e-3,
        "val/acc": lambda s: 0.5 + 0.4 * (1 - math.exp(-s / 15)),
    }
    every = every or {"val/acc": 5}
    lines = []
    last: dict[str, Any] = {}
    for s in range(steps):
        rec = {"_step": s, "_time": t0 + s * 0.5}
        for k, f in metrics.items():
            if s % every.get(k, 1) == 0:
                v = f(s)
                rec[k] = _enc(v)
                last[k] = v
        lines.append(json.dumps(rec))
    (d / schema.METRICS_FILE).write_text("\n".join(lines) + ("\n" if lines else ""))
    sys_lines = [json.dumps({"_time": t0 + i * 5.0, "cpu/proc_pct": 90.0 + i % 7, "mem/proc_rss_gb": 1.5 + i * 0.01,
                             "gpu/0/util_pct": 97.0 - i % 5, "gpu/0/mem_used_gb": 10.2, "gpu/0/power_w": 250.0 + i})
                 for i in range(0, max(1, steps // system_every))]
    (d / schema.SYSTEM_FILE).write_text("\n".join(sys_lines) + "\n")
    m = {
        "format_version": schema.SCHEMA_VERSION, "id": run_id, "name": name, "project": project,
        "group": "", "tags": [], "notes": "", "user": "ana", "host": "gpu-box-1", "os": "Linux",
        "python": "3.11.7", "command": ["python", "train.py", "--lr", "1e-3"], "cwd": "/home/ana/proj",
        "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main", "remote": "", "dirty": True},
        "gpu": {"count": 1, "names": ["NVIDIA H100"]}, "cpu_count": 16, "memory_gb": 128.0,
        "started_at": t0, "ended_at": t0 + steps * 0.5 if status != "running" else None,
        "duration_s": steps * 0.5, "status": status, "exit": {"reason": "", "traceback": ""},
        "heartbeat_at": t0 + steps * 0.5, "system_source": "psutil",
    }
    m.update(meta or {})
    (d / schema.META_FILE).write_text(json.dumps(m))
    (d / schema.CONFIG_FILE).write_text(json.dumps(config if config is not None else
                                                   {"lr": 1e-3, "batch_size": 64, "model": {"depth": 4, "width": 256}}))
    summ = {k: _enc(v) for k, v in last.items()}
    summ.update({k: _enc(v) for k, v in (summary or {}).items()})
    (d / schema.SUMMARY_FILE).write_text(json.dumps(summ))
    if console is not None:
        (d / schema.CONSOLE_FILE).write_text(console)
    if artifacts:
        ad = d / schema.ARTIFACTS_DIR
        ad.mkdir(exist_ok=True)
        man = []
        for path, data in artifacts.items():
            (ad / path).parent.mkdir(parents=True, exist_ok=True)
            (ad / path).write_bytes(data)
            man.append(json.dumps({"name": path, "type": "model", "path": path, "bytes": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest(), "files": 1,
                                   "step": steps - 1, "time": t0 + steps * 0.5}))
        (ad / schema.ARTIFACT_MANIFEST).write_text("\n".join(man) + "\n")
    return d


def append_steps(run_dir: str | os.PathLike, start: int, count: int, t0: float = T0) -> None:
    """Grow a run: more metric lines at the end of metrics.jsonl."""
    with open(Path(run_dir) / schema.METRICS_FILE, "a") as f:
        for s in range(start, start + count):
            f.write(json.dumps({"_step": s, "_time": t0 + s * 0.5, "train/loss": 1.0 / (s + 1)}) + "\n")
