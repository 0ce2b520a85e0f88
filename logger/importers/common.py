"""What every importer produces, and the one place that turns it into a runpages run folder.

Invariants:
* A format module only reads: it yields ``Imported`` objects (steps, times, values as the
  source had them) and never writes. ``write_run`` writes through the real logger with a
  ``clock`` set to the source's own times, so ``_time``, ``started_at`` and ``ended_at`` are the
  original ones; where a format has no times, the source file's modification time stands in.
* The run id is ``imported-<format>-<hash>`` where the hash covers the source's resolved path,
  its bytes and the run's ``part`` (a session of a text log): importing the same source twice
  finds the folder, in any project of the runs folder, and skips it.
* Records of one step are written as one line when they share a time (to the millisecond);
  metrics of one step logged at different times keep their own times (a line each).
* Nothing is dropped silently: a line, row or record that cannot be read is a ``Problem``
  (file, line, reason) and the rest of the source is still imported.
* ``meta.json`` describes the machine that trained, not the one that imported: the host fields
  go to ``init(meta=...)``, those the source does not know as None. ``imported_from`` (format,
  path, problems) is added to meta.json only after ``finish``: ``init(meta=...)`` does not take
  it, and its presence marks a finished import (``_complete``), so it is written last.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .. import schema
from ..folder import read_json
from ..problems import Problem

IMPORTED_TAG = "imported"
# Host fields the logger would fill from the importing machine; given to init(meta=...) as the
# source knows them (None where it does not).
_HOST_FIELDS = ("user", "host", "os", "python", "command", "cwd", "cpu_count", "memory_gb", "git")


@dataclass
class Imported:
    """One run read from a source, before it is written."""

    format: str
    source: str                       # the file or folder this run came from
    name: str
    hash_files: list[str] = field(default_factory=list)   # files whose bytes identify the run
    config: dict = field(default_factory=dict)
    records: list[tuple[int, float | None, dict]] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    status: str = schema.FINISHED
    reason: str | None = None
    console: str | None = None
    host: dict = field(default_factory=dict)   # meta fields the source knows (user, host, ...)
    problems: list[Problem] = field(default_factory=list)
    project: str | None = None     # the source's own project name, used when none is given
    group: str | None = None       # its experiment folder (Lightning's ``name``): a project
    #                                only when the source holds several
    part: str | None = None        # tells apart runs read from the same files (text sessions)

    def add(self, step: int, time: float | None, values: dict) -> None:
        if values:
            self.records.append((int(step), time, values))


def parse_number(text: str) -> float | int | str:
    """``"3"`` → 3, ``"3.41"``/``"nan"``/``"1e-4"`` → float, anything else stays text."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def run_id(fmt: str, source: str, files: Iterable[str], part: str | None = None) -> str:
    """Deterministic id from the source path, the bytes of the files that make the run and the
    part of them it is (None: all of it)."""
    h = hashlib.sha256(os.path.realpath(source).encode("utf-8"))
    if part is not None:
        h.update(b"\0part\0" + part.encode("utf-8"))
    for path in sorted(set(files)):
        h.update(b"\0" + os.path.relpath(path, source).encode("utf-8") + b"\0")
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            h.update(b"<unreadable>")
    return f"imported-{fmt.replace('_', '-')}-{h.hexdigest()[:12]}"


def walk_files(folder: str) -> Iterator[str]:
    """Every file below ``folder``, in a stable order: sorted names, a folder's files first."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


def find_run_dirs(source: str, is_run_dir: Callable[[str], bool],
                  skip: tuple[str, ...] = ()) -> list[str]:
    """The folders below ``source`` that ``is_run_dir`` takes, sorted; a run folder's own
    subfolders and the folders named in ``skip`` are not searched."""
    found = []
    for root, dirs, _ in os.walk(source):
        dirs.sort()
        if is_run_dir(root):
            found.append(root)
            dirs[:] = []
        else:
            dirs[:] = [d for d in dirs if d not in skip]
    return found


def read_text(path: str, imp: Imported) -> str | None:
    """The file as text (bytes that are not UTF-8 replaced); None, with a Problem, when it
    cannot be opened."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as exc:
        imp.problems.append(Problem(path, None, f"cannot open ({exc.strerror})"))
        return None


def history_shorter(imp: Imported, last_step: Any, who: str, slack: int = 0) -> Problem | None:
    """A Problem when the source says the run reached ``last_step`` (its summary, its
    ``global_step``) but the history read ends more than ``slack`` steps before it."""
    if isinstance(last_step, bool) or not isinstance(last_step, (int, float)):
        return None
    got = max((step for step, _, _ in imp.records), default=None)
    if got is not None and got + slack >= last_step:
        return None
    if got is None:
        if not last_step:
            return None
        return Problem(imp.source, None, f"no step-by-step history was read, but {who} says the "
                       f"run reached step {int(last_step)}; the charts of this run are empty")
    return Problem(imp.source, None, f"the history ends at step {got}, but {who} says the run "
                   f"reached step {int(last_step)}: the steps after {got} are missing from the "
                   "source and were not imported (the summary is kept as the source has it)")


def traceback_reason(console: str) -> str | None:
    """The exception line of a Python traceback in the last lines of the console output."""
    tail = console.rstrip().splitlines()[-40:]
    for i, line in enumerate(tail):
        if line.startswith("Traceback (most recent call last):"):
            for later in reversed(tail[i + 1:]):
                if later and not later.startswith((" ", "\t")):
                    return later.strip()
    return None


def mtime(path: str) -> float | None:
    try:
        return os.path.getmtime(path)
    except OSError:
        return None


def _ms(time: float | None) -> float | None:
    return None if time is None else round(time, 3)    # the logger keeps milliseconds


def _merged_steps(records: list[tuple[int, float | None, dict]]):
    """Sort by step (stable) and merge records of one step and one time (to the millisecond)
    while no key repeats: metrics logged at one step at different times keep their own times
    (one line each)."""
    out: list[list] = []
    for step, time, values in sorted(records, key=lambda r: r[0]):
        if (out and out[-1][0] == step and _ms(out[-1][1]) == _ms(time)
                and not (out[-1][2].keys() & values.keys())):
            out[-1][2].update(values)
        else:
            out.append([step, time, dict(values)])
    return out


def find_imported(runs_dir: str, rid: str) -> str | None:
    """The project folder name that already holds run ``rid``, or None."""
    try:
        projects = sorted(os.listdir(runs_dir))
    except OSError:
        return None
    return next((p for p in projects if os.path.isdir(os.path.join(runs_dir, p, rid))), None)


def _finite_max(*values: float | None) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return max(vals) if vals else None


def write_run(imp: Imported, runs_dir: str, project: str) -> tuple[str, bool, str]:
    """Write ``imp`` as a run folder; returns ``(run_id, written, project folder)``; written is
    False when a finished import of it is already there, in this project or another one."""
    import runpages  # noqa: PLC0415 (the package that holds us; imported late to stay cheap)
    from ..names import safe_dir_name  # noqa: PLC0415

    files = imp.hash_files or [imp.source]
    rid = run_id(imp.format, imp.source, files, imp.part)
    runs_dir = os.path.abspath(runs_dir)
    earlier = find_imported(runs_dir, rid)
    if earlier is not None and _complete(os.path.join(runs_dir, earlier, rid)):
        return rid, False, earlier
    project_dir = earlier or safe_dir_name(project)
    project = earlier or project
    folder = os.path.join(runs_dir, project_dir, rid)
    if os.path.isdir(folder):
        import shutil  # noqa: PLC0415  (an earlier import died half way: redo it)
        shutil.rmtree(folder)

    records = _merged_steps(imp.records)
    times = [t for _, t, _ in records if t is not None]
    fallback = _finite_max(*(mtime(p) for p in files)) or 0.0
    start = imp.started_at if imp.started_at is not None else (min(times) if times else fallback)
    end = imp.ended_at if imp.ended_at is not None else (max(times) if times else start)
    end = max(end, start)
    now = [start]
    tags = [IMPORTED_TAG, imp.format, *[t for t in imp.tags if t not in (IMPORTED_TAG, imp.format)]]
    notes = imp.notes or f"Imported from {imp.format}: {os.path.realpath(imp.source)}"
    run = runpages.init(project=project, name=imp.name, config=imp.config, tags=tags,
                      notes=notes, dir=runs_dir, id=rid, resume="allow",
                      clock=lambda: now[0], system_metrics=False, capture_console=False,
                      save_code=False,   # the importing machine's code is not the run's
                      meta={key: imp.host.get(key) for key in _HOST_FIELDS})
    last = start
    for step, time, values in records:
        if time is not None:
            last = time
        now[0] = last
        run.log(values, step=step)
    for key, value in imp.summary.items():
        run.summary[key] = value
    now[0] = end
    status = imp.status if imp.status in (schema.CRASHED, schema.KILLED) else None
    run.finish(status=status, reason=imp.reason)

    if imp.console:
        with open(os.path.join(folder, schema.CONSOLE_FILE), "w", encoding="utf-8") as f:
            f.write(imp.console)
    _mark_imported(folder, imp)
    return rid, True, project_dir


def _complete(folder: str) -> bool:
    return "imported_from" in read_json(folder, schema.META_FILE, {})


def _mark_imported(folder: str, imp: Imported) -> None:
    """Add ``imported_from`` to the finished run's meta.json (the one key ``init`` cannot set)."""
    path = os.path.join(folder, schema.META_FILE)
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    meta["imported_from"] = {"format": imp.format, "path": os.path.realpath(imp.source),
                             "problems": [str(p) for p in imp.problems]}
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, allow_nan=False, default=str)
    os.replace(tmp, path)
