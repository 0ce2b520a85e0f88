"""Writing media runs through the real logger and reading them back through the real reader."""
from __future__ import annotations

from pathlib import Path

import runpages
from runpages.sitegen.reader import read_run


def start(tmp_path: Path, **kw):
    return runpages.init(project="media", dir=str(tmp_path / "runs"), system_metrics=False,
                         capture_console=False, save_code=kw.pop("save_code", False), **kw)


def read(run):
    got, problems = read_run(run.dir)
    return got, problems


def by_key(run_read, key):
    return [m for m in run_read.media if m.key == key]
