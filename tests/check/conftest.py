"""Check tests: runs written through the real logger, checked by a real ``runpages`` process."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

T0 = 1_764_000_000.0          # 2025-11-24 16:00 UTC


@pytest.fixture
def make_run(tmp_path):
    """``make_run(name, branch=, commit=, summary={}, series={key: [values]})`` -> run id.

    Each call starts an hour after the previous one, so "newest" is the order of calls."""
    import runpages

    runs = tmp_path / "runs"
    count = [0]

    def make(name, *, branch="main", commit=None, summary=None, series=None, project="mnist",
             status="finished"):
        count[0] += 1
        now = [T0 + 3600 * count[0]]
        commit = commit or f"{count[0]:02d}" + "a" * 38
        run = runpages.init(project=project, name=name, dir=str(runs), clock=lambda: now[0],
                          meta={"git": {"commit": commit, "branch": branch, "dirty": False}},
                          system_metrics=False, capture_console=False)
        series = series or {}
        length = max((len(v) for v in series.values()), default=0)
        for i in range(length):
            now[0] += 1
            run.log({k: v[i] for k, v in series.items() if i < len(v)})
        for k, v in (summary or {}).items():
            run.summary[k] = v
        now[0] += 1
        if status == "finished":
            run.finish()
        else:
            run.finish(status=status, reason="test")
        return run.id

    make.runs = runs
    return make
