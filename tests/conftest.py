"""Fixtures every test area shares: runs written through the real logger.

``make_run(...)`` (fixture) and ``log_run(root, ...)`` (plain function) write a whole run with
``runpages.init(clock=...)``, so the folder is exactly what a training script leaves behind,
dated in the past. Hand-written run folders are kept for hostile reader cases and for states
only a live or dead process can leave (a running or lost run).
"""
from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

T0 = 1764000000.0  # 2025-11-24 16:00 UTC

DEFAULT_METRICS: dict[str, Callable[[int], Any]] = {
    "train/loss": lambda s: 2.0 * math.exp(-s / 20) + 0.1,
    "train/lr": lambda s: 1e-3,
    "val/acc": lambda s: 0.5 + 0.4 * (1 - math.exp(-s / 15)),
}
DEFAULT_META = {"user": "ana", "host": "gpu-box-1", "os": "Linux", "python": "3.11.7",
                "command": ["python", "train.py", "--lr", "1e-3"], "cwd": "/home/ana/proj",
                "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main",
                        "remote": "", "dirty": True},
                "gpu": {"count": 1, "names": ["NVIDIA H100"]}, "cpu_count": 16, "memory_gb": 128.0}
DEFAULT_CONFIG = {"lr": 1e-3, "batch_size": 64, "model": {"depth": 4, "width": 256}}


def log_run(root: str | Path, project: str = "demo", name: str = "run", run_id: str | None = None,
            steps: int = 50, metrics: dict[str, Callable[[int], Any]] | None = None,
            config: dict | None = None, meta: dict | None = None, summary: dict | None = None,
            system_every: int = 10, console: str | None = "hello\n",
            artifacts: dict[str, bytes] | None = None, t0: float = T0, status: str = "finished",
            every: dict[str, int] | None = None, tags: list[str] | None = None,
            group: str | None = None, notes: str | None = None,
            series: dict[str, list] | None = None) -> Path:
    """One finished (or crashed/killed) run written by the real logger; returns its folder.

    ``metrics`` maps key -> f(step) -> value, logged every step (``every`` thins a key out);
    a step is 0.5 s of the run's clock and a system sample 5 s. ``meta`` sets descriptive
    meta.json fields (user, host, git, gpu, ...). ``series`` maps key -> list of values, value
    i logged at step i (a shorter list stops early); with it ``metrics`` defaults to none."""
    import runpages

    now = [t0]
    run = runpages.init(project=project, name=name, id=run_id, dir=str(root), config=config
                        if config is not None else DEFAULT_CONFIG, clock=lambda: now[0],
                        meta={**DEFAULT_META, **(meta or {})}, system_metrics=False,
                        capture_console=False, tags=tags, group=group, notes=notes)
    metrics = metrics if metrics is not None else {} if series else DEFAULT_METRICS
    every = every if every is not None else {"val/acc": 5}
    series = series or {}
    for s in range(steps):
        now[0] = t0 + s * 0.5
        values = {k: f(s) for k, f in metrics.items() if s % every.get(k, 1) == 0}
        values.update((k, v[s]) for k, v in series.items() if s < len(v))
        run.log(values, step=s)
    for i in range(max(1, steps // system_every)):
        run.log_system({"cpu/proc_pct": 90.0 + i % 7, "mem/proc_rss_gb": 1.5 + i * 0.01,
                        "gpu/0/util_pct": 97.0 - i % 5, "gpu/0/mem_used_gb": 10.2,
                        "gpu/0/power_w": 250.0 + i}, time=t0 + i * 5.0, source="simulated")
    now[0] = t0 + steps * 0.5
    with tempfile.TemporaryDirectory() as tmp:
        for path, data in (artifacts or {}).items():
            src = Path(tmp) / path
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_bytes(data)
            run.log_artifact(str(src), name=path, type="model")
    for k, v in (summary or {}).items():
        run.summary[k] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if status == "finished":
            run.finish()
        else:
            run.finish(status=status, reason="test")
    folder = Path(run.dir)
    if console is not None:
        (folder / "console.log").write_text(console, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _build_cache_in_tmp(tmp_path_factory, monkeypatch):
    """Builds keep their cache under $XDG_CACHE_HOME: a test's go to a temp folder, never ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def make_run(tmp_path):
    """``make_run(**log_run_kwargs)`` -> run folder under ``tmp_path/runs`` (``make_run.runs``)."""
    runs = tmp_path / "runs"

    def make(**kwargs):
        return log_run(kwargs.pop("root", runs), **kwargs)

    make.runs = runs
    return make
