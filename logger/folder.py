"""A run's folder: finding or making it for ``init(id=..., resume=...)``, reading back what an
earlier process left there (meta, config, summary, the last step).

Invariants: only ``Run.__init__`` calls these, before any writer opens a file. Wrong use raises
(a bad id, ``resume='must'`` without a run, an existing run without ``resume``); an unreadable
or damaged file reads as the default, since the run goes on writing over it.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, NamedTuple

from . import names, schema


class Opened(NamedTuple):
    """What ``open_folder`` found: ``id``/``dir`` are None when the run gets a new folder by
    name; ``meta`` is the existing meta.json when continuing a run; ``last_step`` is -1 when
    no step was written yet."""

    id: str | None
    dir: str | None
    meta: dict | None
    last_step: int


def open_folder(project_dir: str, run_id: str | None, resume: str | None,
                warn: Callable[[str, str], None]) -> Opened:
    """Resolve ``id``/``resume``: an existing folder to continue, a new one made by id, or none
    (the caller names one)."""
    if run_id is None:
        if resume == "must":
            raise ValueError("runpages: resume='must' needs the id of the run to continue: "
                             "runpages.init(..., id='<run-id>', resume='must').")
        return Opened(None, None, None, -1)
    run_id = str(run_id)
    if not names.is_safe_id(run_id):
        raise ValueError(f"runpages: run id {run_id!r} may only hold letters, digits, "
                         "'.', '_' and '-' (it names a folder).")
    path = os.path.join(project_dir, run_id)
    if os.path.isdir(path):
        if resume is None:
            raise FileExistsError(f"runpages: run {run_id!r} already exists in {project_dir}; "
                                  "pass resume='allow' to continue it.")
        meta = read_json(path, schema.META_FILE, {})
        beat = meta.get("heartbeat_at")
        if meta.get("status") == schema.RUNNING and isinstance(beat, (int, float)) \
                and time.time() - beat < schema.LOST_AFTER_S:
            warn("resume-live", f"runpages: run {run_id!r} looks alive in another "
                                "process (recent heartbeat); two writers of one run "
                                "interleave their records.")
        return Opened(run_id, path, meta, last_step_in(os.path.join(path, schema.METRICS_FILE)))
    if resume == "must":
        raise FileNotFoundError(f"runpages: resume='must' but there is no run {run_id!r} "
                                f"in {project_dir}.")
    os.makedirs(project_dir, exist_ok=True)
    os.mkdir(path)
    return Opened(run_id, path, None, -1)


def read_json(folder: str, file: str, default: Any) -> Any:
    """The JSON object in ``folder/file``; ``default`` when missing, unreadable or not an object."""
    try:
        with open(os.path.join(folder, file), encoding="utf-8") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else default
    except (OSError, ValueError):
        return default


def last_step_in(path: str) -> int:
    """The highest ``_step`` in the last complete lines of a metrics file (-1 when none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            chunk = min(size, 1 << 20)
            f.seek(size - chunk)
            lines = f.read().split(b"\n")
    except OSError:
        return -1
    best = -1
    for raw in lines[-200:]:
        try:
            rec = json.loads(raw)
            if isinstance(rec, dict) and isinstance(rec.get(schema.STEP_KEY), int):
                best = max(best, rec[schema.STEP_KEY])
        except ValueError:
            continue
    return best
