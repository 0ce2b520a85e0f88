"""Check tests: runs written through the real logger, checked by a real ``runpages`` process."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

T0 = 1_764_000_000.0          # 2025-11-24 16:00 UTC


@pytest.fixture
def check_run(make_run):
    """``check_run(name, branch=, commit=, summary={}, series={key: [values]})`` -> run id: a
    run by the root ``make_run`` with its git branch and commit set.

    Each call starts an hour after the previous one, so "newest" is the order of calls."""
    count = [0]

    def make(name, *, branch="main", commit=None, summary=None, series=None, project="mnist",
             status="finished"):
        count[0] += 1
        commit = commit or f"{count[0]:02d}" + "a" * 38
        series = series or {}
        folder = make_run(project=project, name=name, t0=T0 + 3600 * count[0], series=series,
                          steps=max((len(v) for v in series.values()), default=0),
                          meta={"git": {"commit": commit, "branch": branch, "dirty": False}},
                          summary=summary, status=status, console=None)
        return folder.name

    make.runs = make_run.runs
    return make
