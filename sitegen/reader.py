"""Tolerant, fast, incremental reading of run folders into ``model.Run`` / ``model.Project``.

Invariants:
- Reading never raises for bad input: every malformed thing becomes a ``Problem`` (file, line,
  reason) and the rest of the run is kept. Only bugs raise.
- A JSONL file is read up to its last ``\\n``; the bytes after it are a record still being
  written and are left for the next read, silently (a run that has ended gets them parsed, and
  a Problem if they are not a whole record).
- With a ``ReadCache`` an unchanged file is not parsed, a file that only grew is parsed from
  where it was left, and a file that shrank or was replaced is read again from the start.
- A run written by a newer format version is skipped with a Problem, never misread.

Parsing JSONL bytes lives in ``sitegen.jsonl``, finding and fingerprinting run folders in
``sitegen.runscan``; their public names are importable from here too.
"""
from __future__ import annotations

import json
import pickle
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from logger import schema
from sitegen import jsonl
from sitegen.jsonl import (NONFINITE, STEP, TIME, Parsed, Problem, describe, finalize,
                           json_error_reason, merge_parsed, parse_torn_line)
from sitegen.model import Artifact, Project, Run, flatten
from sitegen.runscan import find_run_dirs, fingerprint, layout_hint, stat_run_files

# Names that moved out; other modules, tests and benchmarks import them from here.
from sitegen.jsonl import parse_chunk_fast, parse_lines_slow  # noqa: F401
from sitegen.runscan import RUN_FILES, is_run_dir, scan_fingerprints  # noqa: F401

# Copies of the jsonl thresholds, passed on by ``parse_chunk`` at each call, so that setting
# ``reader.FAST_PATH_MIN_BYTES`` (as tests and benchmarks do) still picks the parser.
FAST_PATH_MIN_BYTES = jsonl.FAST_PATH_MIN_BYTES
FAST_PATH_BLOCK_BYTES = jsonl.FAST_PATH_BLOCK_BYTES


def parse_chunk(chunk: bytes, path: str, first_line: int, index_key: str,
                counter: Callable[[int], None] | None = None) -> Parsed:
    """``jsonl.parse_chunk`` with this module's fast-path thresholds."""
    return jsonl.parse_chunk(chunk, path, first_line, index_key, counter,
                             min_fast_bytes=FAST_PATH_MIN_BYTES, block_bytes=FAST_PATH_BLOCK_BYTES)


def summarize_problems(problems: Iterable[Problem], max_examples: int = 3) -> list[str]:
    """One line per file, files in first-seen order:
    ``path: 3 problems (line 57: expected a JSON object, got text; line 60: ...; ...)``."""
    by_path: dict[str, list[Problem]] = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p)
    lines = []
    for path, items in by_path.items():
        if len(items) == 1:
            lines.append(str(items[0]))
            continue
        shown = [f"line {p.line}: {p.reason}" if p.line is not None else p.reason
                 for p in items[:max_examples]]
        more = "; ..." if len(items) > max_examples else ""
        lines.append(f"{path}: {len(items)} problems ({'; '.join(shown)}{more})")
    return lines


# ---------------------------------------------------------------------------------------------
# The cache: per file, where we stopped and what we got
# ---------------------------------------------------------------------------------------------

@dataclass
class FileEntry:
    dev: int
    ino: int
    size: int                 # size when last read
    mtime_ns: int
    offset: int               # bytes consumed: up to and including the last "\n"
    lines: int                # complete lines consumed
    tail_check: bytes         # the bytes just before ``offset``, to spot a replaced file
    value: Any                # Parsed for JSONL files; the decoded value for JSON files


class ReadCache:
    """Byte offsets and parsed rows per file, so a rebuild reads only what changed.

    ``parsed_bytes`` counts the bytes handed to a JSONL parser since the cache was made or
    loaded (tests and the benchmark use it to see that only new bytes were parsed)."""

    VERSION = 2

    @classmethod
    def _layout(cls) -> tuple:
        """Changes whenever the cached classes change shape, so an old cache is never misread."""
        return (cls.VERSION, schema.SCHEMA_VERSION, tuple(f.name for f in fields(FileEntry)),
                tuple(f.name for f in fields(Parsed)))

    def __init__(self) -> None:
        self.entries: dict[str, FileEntry] = {}
        self.parsed_bytes = 0
        self.seen: set[str] = set()     # files looked up since made/loaded (see ``prune``)

    def count(self, nbytes: int) -> None:
        self.parsed_bytes += nbytes

    def get(self, key: str) -> FileEntry | None:
        self.seen.add(key)
        return self.entries.get(key)

    @classmethod
    def load(cls, path: str | Path) -> "ReadCache":
        """The cache at ``path``; an empty one if it is missing, corrupt or from another
        version (a cache is only ever a shortcut, never a reason to fail)."""
        cache = cls()
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
            if (isinstance(data, dict) and data.get("layout") == cls._layout()
                    and isinstance(data.get("entries"), dict)
                    and all(isinstance(e, FileEntry) for e in data["entries"].values())):
                cache.entries = data["entries"]
        except Exception:  # noqa: BLE001 - any unreadable cache is simply an empty one
            pass
        return cache

    def save(self, path: str | Path) -> None:
        """Write atomically: temp file in the same folder, then ``os.replace``."""
        from sitegen.atomic import atomic_file

        with atomic_file(path) as f:
            pickle.dump({"layout": self._layout(), "entries": self.entries}, f,
                        protocol=pickle.HIGHEST_PROTOCOL)

    def prune(self, keep: Iterable[str] = ()) -> None:
        """Forget files that are neither in ``keep`` nor looked up by the last ``read_runs``
        (or since the cache was made or loaded), so deleted runs leave the cache; the copy of
        a run that lost to another folder's copy stays, so it is not parsed again next time."""
        keep = self.seen | set(keep)
        for key in [k for k in self.entries if k not in keep]:
            del self.entries[key]


_TAIL_CHECK = 64


def read_jsonl(path: Path, index_key: str, cache: ReadCache | None,
               display: str) -> tuple[Parsed, bytes, int]:
    """A JSONL file's complete lines (parsed), its torn tail (bytes after the last "\\n")
    and the number of complete lines."""
    st = path.stat()
    key = str(path)
    entry = cache.get(key) if cache is not None else None
    counter = cache.count if cache is not None else None
    if entry is not None and (entry.dev, entry.ino) == (st.st_dev, st.st_ino):
        if entry.size == st.st_size and entry.mtime_ns == st.st_mtime_ns:
            tail = _read_range(path, entry.offset, st.st_size) if st.st_size > entry.offset else b""
            return entry.value, tail, entry.lines
        if st.st_size >= entry.offset and _prefix_unchanged(path, entry):
            data = _read_range(path, entry.offset, st.st_size)
            cut = data.rfind(b"\n") + 1
            new = parse_chunk(data[:cut], display, entry.lines + 1, index_key, counter) \
                if cut else Parsed.empty()
            parsed = merge_parsed([entry.value, new]) if cut else entry.value
            lines = entry.lines + data.count(b"\n", 0, cut)
            cache.entries[key] = FileEntry(
                st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, entry.offset + cut, lines,
                _tail_bytes(data[:cut], entry.tail_check), parsed)
            return parsed, data[cut:], lines
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    parsed = parse_chunk(data[:cut], display, 1, index_key, counter) if cut else Parsed.empty()
    lines = data.count(b"\n", 0, cut)
    if cache is not None:
        cache.entries[key] = FileEntry(st.st_dev, st.st_ino, len(data), st.st_mtime_ns, cut,
                                       lines, data[max(0, cut - _TAIL_CHECK):cut], parsed)
    return parsed, data[cut:], lines


def _tail_bytes(new: bytes, old: bytes) -> bytes:
    return (old + new)[-_TAIL_CHECK:]


def _read_range(path: Path, start: int, end: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(start)
        return f.read(end - start)


def _prefix_unchanged(path: Path, entry: FileEntry) -> bool:
    if not entry.tail_check:
        return entry.offset == 0
    start = entry.offset - len(entry.tail_check)
    return _read_range(path, start, entry.offset) == entry.tail_check


def read_json_file(path: Path, cache: ReadCache | None, display: str,
                   problems: list[Problem]) -> Any:
    """A whole JSON file (meta/config/summary); None with a Problem when it is not JSON."""
    try:
        return _read_json_file(path, cache, display, problems)
    except OSError as err:
        problems.append(_unreadable(display, err))
        return None


def _respell(problems: list[Problem], display: str) -> list[Problem]:
    """Cached Problems under the file's path as given this time (``runs`` vs ``./runs``)."""
    return [p if p.path == display else Problem(display, p.line, p.reason) for p in problems]


def _unreadable(display: str, err: OSError) -> Problem:
    return Problem(display, None, f"cannot read it ({err.strerror or err}); skipped")


def _read_json_file(path: Path, cache: ReadCache | None, display: str,
                    problems: list[Problem]) -> Any:
    st = path.stat()
    key = str(path)
    entry = cache.get(key) if cache is not None else None
    if entry is not None and (entry.dev, entry.ino, entry.size, entry.mtime_ns) == (
            st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
        value, cached_problems = entry.value
        problems.extend(_respell(cached_problems, display))
        return value
    found: list[Problem] = []
    data = path.read_bytes()
    value = None
    if not data.strip():
        found.append(Problem(display, None, "empty file"))
    else:
        try:
            value = json.loads(data)
        except UnicodeDecodeError:
            found.append(Problem(display, None, "not valid UTF-8 text"))
        except json.JSONDecodeError as err:
            found.append(Problem(display, err.lineno, json_error_reason(err, data)))
    problems.extend(found)
    if cache is not None:
        cache.entries[key] = FileEntry(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                       len(data), 0, b"", (value, found))
    return value


# ---------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------

def _nonfinite(value: Any) -> Any:
    if isinstance(value, str) and value in NONFINITE:
        return NONFINITE[value]
    return value


def _object(value: Any, display: str, problems: list[Problem]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(display, None, f"expected a JSON object, got {describe(value)}"))
        return {}
    return value


def _mixed_type_problems(parsed: Parsed, display: str) -> list[Problem]:
    out = []
    for key, first_line in parsed.text_first_line.items():
        if key in parsed.frame.columns and parsed.frame[key].notna().any():
            n = len(parsed.text.get(key, ()))
            out.append(Problem(display, first_line,
                               f"'{key}' holds numbers and text; the numbers are plotted, "
                               f"the {n} text value{'s' if n != 1 else ''} shown in tables"))
    return out


def _format_version(meta: dict[str, Any]) -> Any:
    return meta.get("format_version", 1)


def _resolve_status(meta: dict[str, Any], last_seen: float | None, now: float) -> str:
    status = meta.get("status")
    if status not in schema.STATUSES or status == schema.LOST:
        status = schema.FINISHED if meta.get("ended_at") else schema.RUNNING
    if status == schema.RUNNING and last_seen is not None and now - last_seen > schema.LOST_AFTER_S:
        return schema.LOST
    return status


def read_run(run_dir: str | Path, cache: ReadCache | None = None,
             now: float | None = None, source: str = "") -> tuple[Run | None, list[Problem]]:
    """Read one run folder. Returns (None, problems) when it is not readable as a run (a newer
    format version, or nothing in it); otherwise the Run and what was wrong with its files.
    Problem paths are spelled as the folder was given, so with ``runs`` they read
    ``runs/mnist/<run-id>/metrics.jsonl:57: ...``."""
    run_dir = Path(run_dir)
    now = time.time() if now is None else now

    def show(name: str) -> str:
        return str(run_dir / name) if name else str(run_dir)

    problems: list[Problem] = []
    real = run_dir.resolve()            # cache keys and Run.dir: one spelling per folder
    stats = stat_run_files(real)
    if not stats:
        return None, [Problem(show(""), None, "no run files here (meta.json or metrics.jsonl)")]

    meta: dict[str, Any] = {}
    if schema.META_FILE in stats:
        meta = _object(read_json_file(real / schema.META_FILE, cache, show(schema.META_FILE),
                                      problems), show(schema.META_FILE), problems)
    else:
        problems.append(Problem(show(schema.META_FILE), None,
                                "missing; the run is shown with its folder name only"))
    version = _format_version(meta)
    if not isinstance(version, int) or isinstance(version, bool):
        problems.append(Problem(show(schema.META_FILE), None,
                                f"format_version is {version!r}, not a whole number; "
                                f"read as format {schema.SCHEMA_VERSION}"))
    elif version > schema.SCHEMA_VERSION:
        problems.append(Problem(show(schema.META_FILE), None,
                                f"written by a newer runpages (format {version}); upgrade "
                                f"runpages to read it (this one reads format "
                                f"{schema.SCHEMA_VERSION} and older); run skipped"))
        return None, problems

    config: dict[str, Any] = {}
    if schema.CONFIG_FILE in stats:
        config = flatten(_object(read_json_file(real / schema.CONFIG_FILE, cache,
                                                show(schema.CONFIG_FILE), problems),
                                 show(schema.CONFIG_FILE), problems))
    summary_file: dict[str, Any] = {}
    if schema.SUMMARY_FILE in stats:
        summary_file = flatten(_object(read_json_file(real / schema.SUMMARY_FILE, cache,
                                                      show(schema.SUMMARY_FILE), problems),
                                       show(schema.SUMMARY_FILE), problems))

    status_hint = meta.get("status")
    ended = status_hint in (schema.FINISHED, schema.CRASHED, schema.KILLED)

    metrics, text_keys, last_values = None, {}, {}
    if schema.METRICS_FILE in stats:
        parsed = finalize(_read_jsonl_file(real / schema.METRICS_FILE, STEP, cache,
                                         show(schema.METRICS_FILE), problems, ended), STEP)
        if len(parsed.frame):
            # a lazy copy: a page that adds a column to run.metrics leaves the cache alone
            metrics, last_values = parsed.frame.copy(deep=False), parsed.last_values
        text_keys = {k: list(v) for k, v in parsed.text.items()}
        problems.extend(_mixed_type_problems(parsed, show(schema.METRICS_FILE)))
    if metrics is None:
        metrics = pd.DataFrame({STEP: np.empty(0, np.int64), TIME: np.empty(0)})

    system = None
    if schema.SYSTEM_FILE in stats:
        parsed = finalize(_read_jsonl_file(real / schema.SYSTEM_FILE, TIME, cache,
                                         show(schema.SYSTEM_FILE), problems, ended), TIME)
        if len(parsed.frame):
            system = parsed.frame.copy(deep=False)
        if parsed.text:
            keys = ", ".join(repr(k) for k in list(parsed.text)[:5])
            problems.append(Problem(show(schema.SYSTEM_FILE), min(parsed.text_first_line.values()),
                                    f"text values under {keys} are not system metrics; ignored"))

    if system is None:
        system = pd.DataFrame({TIME: np.empty(0)})

    artifacts: list[Artifact] = []
    manifest_name = f"{schema.ARTIFACTS_DIR}/{schema.ARTIFACT_MANIFEST}"
    if manifest_name in stats:
        artifacts = _read_manifest(real / manifest_name, cache, show(manifest_name), problems)

    # Summary: the last value of every metric, then what the run wrote in summary.json.
    summary: dict[str, Any] = dict(last_values)
    for key, entries in text_keys.items():
        if key not in summary and entries:
            summary[key] = entries[-1][1]
    summary.update({k: _nonfinite(v) for k, v in summary_file.items()})

    run = Run(
        id=run_dir.name,                # the folder is what links and merges use
        # The typed project name (the folder holds a path-safe version of it).
        project=meta["project"] if isinstance(meta.get("project"), str) and meta["project"]
        else run_dir.parent.name,
        name=str(meta.get("name") or meta.get("id") or run_dir.name),
        dir=str(real),
        meta=meta,
        config=config,
        summary=summary,
        metrics=metrics,
        system=system,
        text_keys=text_keys,
        artifacts=artifacts,
        source=source or str(run_dir.parent.parent),
        fingerprint=fingerprint(stats),
        files={name: st.st_size for name, st in stats.items()},
    )
    last_seen = run.heartbeat_at
    if last_seen is None:
        last_seen = run.last_record_at if run.last_record_at is not None else run.started_at
    run.status = _resolve_status(meta, last_seen, now)
    if "status" in meta and (meta["status"] not in schema.STATUSES or meta["status"] == schema.LOST):
        problems.append(Problem(show(schema.META_FILE), None,
                                f"unknown status {meta['status']!r}; shown as {run.status!r}"))
    run.problem_count = len(problems)
    return run, problems


def _read_jsonl_file(path: Path, index_key: str, cache: ReadCache | None, display: str,
                     problems: list[Problem], ended: bool) -> Parsed:
    try:
        parsed, tail, n_lines = read_jsonl(path, index_key, cache, display)
    except OSError as err:               # unreadable, or deleted while we looked
        problems.append(_unreadable(display, err))
        return Parsed.empty()
    if ended and index_key == STEP and n_lines == 0 and not tail.strip():
        # A running run may not have logged yet, and system samples may be switched off;
        # an ended run with an empty metrics file is worth a word.
        problems.append(Problem(display, None, "empty file"))
    problems.extend(_respell(parsed.problems, display))
    if tail.strip() and ended:
        # The run has stopped, so nobody will finish this line: read it if it is whole.
        extra = parse_torn_line(tail, display, n_lines + 1, index_key)
        problems.extend(extra.problems)
        if len(extra.frame):
            parsed = merge_parsed([parsed, extra])
    return parsed


def _read_manifest(path: Path, cache: ReadCache | None, display: str,
                   problems: list[Problem]) -> list[Artifact]:
    try:
        data = path.read_bytes()
    except OSError as err:
        problems.append(_unreadable(display, err))
        return []
    out: list[Artifact] = []
    for i, raw in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")[:-1], 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            problems.append(Problem(display, i, json_error_reason(err, raw)))
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("path") or rec.get("name"), str):
            problems.append(Problem(display, i, "expected an artifact record with a name and path"))
            continue
        try:
            out.append(Artifact(
                name=str(rec.get("name") or rec.get("path")), type=str(rec.get("type") or ""),
                path=str(rec.get("path") or rec.get("name")), bytes=int(rec.get("bytes") or 0),
                sha256=str(rec.get("sha256") or ""), files=int(rec.get("files") or 1),
                step=int(rec["step"]) if isinstance(rec.get("step"), (int, float)) else None,
                time=float(rec["time"]) if isinstance(rec.get("time"), (int, float)) else None))
        except (TypeError, ValueError) as err:
            problems.append(Problem(display, i, f"artifact record has a bad value ({err})"))
    return out


# ---------------------------------------------------------------------------------------------
# Many runs, many folders
# ---------------------------------------------------------------------------------------------

def _data_weight(run: Run) -> tuple:
    return (run.last_activity or 0.0, len(run.metrics), sum(run.files.values()))


def read_runs(dirs: Sequence[str | Path], cache: ReadCache | None = None,
              now: float | None = None) -> tuple[list[Project], list[Problem]]:
    """Every run under every runs dir, merged into Projects (by name; runs newest first).
    The same ``<project>/<run-id>`` in two dirs is one run: the copy with newer activity and
    more data wins, and only its Problems are reported. With a cache, files of runs no longer
    on disk are dropped from it. Problems come in folder order, run by run."""
    now = time.time() if now is None else now
    problems: list[Problem] = []
    chosen: dict[tuple[str, str], Run] = {}
    run_problems: dict[tuple[str, str], list[Problem]] = {}
    if cache is not None:
        cache.seen.clear()
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            problems.append(Problem(str(d), None, "runs folder not found"))
            continue
        run_dirs = find_run_dirs(d)
        if not run_dirs:
            hint = layout_hint(d)
            if hint:
                problems.append(Problem(str(d), None, hint))
        for run_dir in run_dirs:
            run, found = read_run(run_dir, cache, now, source=str(d))
            if run is None:
                problems.extend(found)
                continue
            key = (run.project, run.id)
            other = chosen.get(key)
            if other is None or _data_weight(run) > _data_weight(other):
                chosen[key] = run
                run_problems[key] = found    # the hidden copy's problems would only confuse
    for found in run_problems.values():
        problems.extend(found)
    if cache is not None:
        cache.prune()
    by_project: dict[str, list[Run]] = {}
    for run in chosen.values():
        by_project.setdefault(run.project, []).append(run)
    projects = []
    for name in sorted(by_project):
        runs = sorted(by_project[name], key=lambda r: (r.started_at or r.last_activity or 0.0, r.id),
                      reverse=True)
        projects.append(Project(name=name, runs=runs))
    return projects, problems
