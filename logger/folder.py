"""A run's folder: finding or making it for ``init(id=..., resume=...)``, reading back what an
earlier process left there (meta, config, summary, the last step).

Invariants: only ``Run.__init__`` calls these, before any writer opens a file. Wrong use raises
(a bad id, ``resume='must'`` without a run, an existing run without ``resume``); an unreadable
or damaged file reads as the default, since the run goes on writing over it.

One writer per run folder: the writing process holds an exclusive ``flock`` on
``schema.WRITER_LOCK_FILE`` until the run ends (the kernel drops it when the process dies,
even by ``kill -9``, so it never goes stale). A second process resuming a run that is being
written is told so (a warning) and writes its records to a new run folder with the same name,
continuing the steps, config and summary, and naming the run it could not join in meta.json
(``resume_conflict``): two writers of one file would interleave records that share steps,
which a reader merges, so one side's values would vanish without a word. Where ``flock`` is
not available (some network file systems) a recent heartbeat is the fallback: it warns.
"""
from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, Callable, NamedTuple

from . import names, schema


class Opened(NamedTuple):
    """What ``open_folder`` found: ``id``/``dir`` are None when the run gets a new folder by
    name; ``meta`` is the existing meta.json when continuing a run; ``last_step`` is -1 when
    no step was written yet; ``source`` the folder continued (``dir`` unless a conflict
    sent this process to a new one); ``conflict`` what meta.json records about that."""

    id: str | None
    dir: str | None
    meta: dict | None
    last_step: int
    source: str | None = None
    conflict: dict | None = None
    lock_fd: int | None = None


def lock_writer(run_dir: str) -> tuple[int | None, str | None]:
    """Take the run's writer lock: ``(fd, None)``, ``(None, holder)`` when another process
    holds it (``holder`` as it wrote itself), ``(None, None)`` when locks are unsupported."""
    try:
        import fcntl  # noqa: PLC0415 (POSIX only)
        fd = os.open(os.path.join(run_dir, schema.WRITER_LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    except (ImportError, OSError):
        return None, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        except OSError:
            holder = ""
        os.close(fd)
        return None, holder or "another process"
    except OSError:
        os.close(fd)
        return None, None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    except OSError:
        pass
    return fd, None


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
        last = last_step_in(os.path.join(path, schema.METRICS_FILE))
        fd, holder = lock_writer(path)
        if holder is not None:
            warn("resume-conflict",
                 f"runpages: run {run_id!r} is being written by {holder}; two writers of "
                 "one run would mix their records, so this process writes to a new run "
                 "folder with the same name (meta.json resume_conflict names this one).")
            return Opened(None, None, meta, last, path,
                          {"id": run_id, "holder": holder, "at": time.time()})
        else:
            beat = meta.get("heartbeat_at")
            if meta.get("status") == schema.RUNNING and isinstance(beat, (int, float)) \
                    and time.time() - beat < schema.LOST_AFTER_S:
                warn("resume-live", f"runpages: run {run_id!r} looks alive in another "
                                    "process (recent heartbeat); two writers of one run "
                                    "interleave their records.")
        return Opened(run_id, path, meta, last, path, None, fd)
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
