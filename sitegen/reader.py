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
``sitegen.runscan``, the byte-offset cache in ``sitegen.readcache``; their public names are
importable from here too.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from runpages import schema
from runpages.sitegen import jsonl, jsonsafe, limits, longread, readcache
from runpages.sitegen.jsonl import (NONFINITE, STEP, TIME, Parsed, Problem, describe, finalize,
                           json_error_reason, merge_parsed, parse_torn_line)
from runpages.sitegen.media import read_media, read_reproduce
from runpages.sitegen.model import Artifact, Project, Run, flatten
from runpages.sitegen.metacheck import check_meta
from runpages.sitegen.runscan import (FoundRun, escaping_files, fingerprint, layout_hint, scan_runs,
                                     stat_run_files)

# Names that moved out; other modules, tests and benchmarks import them from here.
from runpages.sitegen.jsonl import parse_chunk_fast, parse_lines_slow  # noqa: F401
from runpages.sitegen.runscan import RUN_FILES, find_run_dirs, is_run_dir, scan_fingerprints  # noqa: F401
from runpages.sitegen.readcache import FileEntry, ReadCache, read_json_file  # noqa: F401
from runpages.sitegen.readcache import StoredParsed, _respell, _unreadable, problems_from_json
from runpages.sitegen.lazyframe import FrameFacts, LazyFrame
from runpages.sitegen.runrecords import RunRecords, recalled_fields

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


def read_jsonl(path: Path, index_key: str, cache: ReadCache | None,
               display: str) -> tuple[Parsed, bytes, int]:
    """``readcache.read_jsonl`` parsing with this module's ``parse_chunk`` (looked up at each
    call, so setting ``reader.parse_chunk`` or the thresholds above still takes effect)."""
    return readcache.read_jsonl(path, index_key, cache, display, parse=parse_chunk)


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
             now: float | None = None, source: str = "",
             found: FoundRun | None = None) -> tuple[Run | None, list[Problem]]:
    """Read one run folder. Returns (None, problems) when it is not readable as a run (a newer
    format version, or nothing in it); otherwise the Run and what was wrong with its files.
    Problem paths are spelled as the folder was given, so with ``runs`` they read
    ``runs/mnist/<run-id>/metrics.jsonl:57: ...``. ``found``: this folder's entry in a
    ``scan_runs`` result, whose stats are used instead of taking them again."""
    run_dir = Path(run_dir)
    now = time.time() if now is None else now

    shown = str(run_dir)

    def show(name: str) -> str:        # printable: a folder name need not be UTF-8
        return jsonsafe.clean_text(os.path.join(shown, name) if name else shown)

    problems: list[Problem] = []
    if found is not None:
        _, real, stats = found
    else:
        real = run_dir.resolve()        # cache keys and Run.dir: one spelling per folder
        stats = stat_run_files(real, run_dir.parent.parent)
    for name in escaping_files(real, stats):
        problems.append(Problem(show(name), None, "a symlink leading outside the run folder "
                                "(or to nothing); not read, not published"))
    if not stats:
        return None, [Problem(show(""), None, "no run files here (meta.json or metrics.jsonl)")]

    meta: dict[str, Any] = {}
    if schema.META_FILE in stats:
        meta = _object(read_json_file(real / schema.META_FILE, cache, show(schema.META_FILE),
                                      problems), show(schema.META_FILE), problems)
    else:
        problems.append(Problem(show(schema.META_FILE), None,
                                "missing; the run is shown with its folder name only"))
    meta, meta_problems = check_meta(meta, show(schema.META_FILE))
    problems.extend(meta_problems)
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

    metrics, text_keys, last_values, nan_steps = None, {}, {}, {}
    zoom = None
    if schema.METRICS_FILE in stats:
        read = _frame_reader(real, schema.METRICS_FILE, show(schema.METRICS_FILE), ended,
                             longread.is_long(stats[schema.METRICS_FILE].st_size))
        parsed, zoom = read(cache, problems)
        if parsed.rows:
            metrics = _run_frame(parsed, lambda: read(None, [])[0])
            last_values, nan_steps = parsed.last_values, dict(parsed.nan_at)
        text_keys = {k: list(v) for k, v in parsed.text.items()}
        problems.extend(_mixed_type_problems(parsed, show(schema.METRICS_FILE)))
    if metrics is None:
        metrics = _no_frame(schema.METRICS_FILE)

    system = None
    if schema.SYSTEM_FILE in stats:
        read_system = _frame_reader(real, schema.SYSTEM_FILE, show(schema.SYSTEM_FILE), ended, False)
        parsed, _ = read_system(cache, problems)
        if parsed.rows:
            system = _run_frame(parsed, lambda: read_system(None, [])[0])
        if parsed.text:
            keys = ", ".join(repr(k) for k in list(parsed.text)[:5])
            problems.append(Problem(show(schema.SYSTEM_FILE), min(parsed.text_first_line.values()),
                                    f"text values under {keys} are not system metrics; ignored"))

    if system is None:
        system = _no_frame(schema.SYSTEM_FILE)

    artifacts: list[Artifact] = []
    manifest_name = f"{schema.ARTIFACTS_DIR}/{schema.ARTIFACT_MANIFEST}"
    if manifest_name in stats:
        artifacts = _read_manifest(real / manifest_name, cache, show(manifest_name), problems)

    media, media_problems = read_media(real, show(schema.MEDIA_INDEX))
    reproduce, repro_problems = read_reproduce(real, show(schema.REPRODUCE_FILE))
    problems += media_problems + repro_problems

    # Summary: the last value of every metric, then what the run wrote in summary.json.
    summary: dict[str, Any] = dict(last_values)
    for key, entries in text_keys.items():
        if key not in summary and entries:
            summary[key] = entries[-1][1]
    summary.update({k: _nonfinite(v) for k, v in summary_file.items()})

    run_id, project_dir = _folder_name(run_dir, problems), _folder_name(run_dir.parent, problems)
    run = Run(
        id=run_id,                      # the folder is what links and merges use
        # The typed project name (the folder holds a path-safe version of it).
        project=meta["project"] if isinstance(meta.get("project"), str) and meta["project"]
        else project_dir,
        name=str(meta.get("name") or meta.get("id") or run_id),
        dir=str(real),                  # a path only, never shown (may not be UTF-8)
        meta=meta,
        config=config,
        summary=summary,
        metrics=metrics,
        system=system,
        text_keys=text_keys,
        nan_steps=nan_steps,
        artifacts=artifacts,
        media=media,
        reproduce=reproduce,
        source=source or str(run_dir.parent.parent),
        fingerprint=fingerprint(stats),
        files={name: st.st_size for name, st in stats.items()},
        zoom=zoom,
    )
    _settle_status(run, now)
    if "status" in meta and (meta["status"] not in schema.STATUSES or meta["status"] == schema.LOST):
        problems.append(Problem(show(schema.META_FILE), None,
                                f"unknown status {meta['status']!r}; shown as {run.status!r}"))
    run.problem_count = len(problems)
    return run, problems


def _settle_status(run: Run, now: float) -> None:
    """The run's status at ``now``: what meta.json says, or lost when a running run went quiet."""
    last_seen = run.heartbeat_at
    if last_seen is None:
        last_seen = run.last_record_at if run.last_record_at is not None else run.started_at
    run.status = _resolve_status(run.meta, last_seen, now)


def _frame_reader(real: Path, name: str, shown: str, ended: bool, long: bool):
    """``read(cache, problems) -> (final Parsed, zoom info or None)`` for the run's metrics or
    system file: the one way its frame is read (a long metrics file in chunks, longread.py)."""
    if long:
        return lambda cache, problems: _read_long_file(real / name, cache, shown, problems, ended)
    index_key = STEP if name == schema.METRICS_FILE else TIME
    return lambda cache, problems: (finalize(_read_jsonl_file(real / name, index_key, cache, shown,
                                                              problems, ended), index_key), None)


def _no_frame(name: str) -> pd.DataFrame:
    """The frame of a run that logged nothing to ``name`` (or has no such file)."""
    if name == schema.METRICS_FILE:
        return pd.DataFrame({STEP: np.empty(0, np.int64), TIME: np.empty(0)})
    return pd.DataFrame({TIME: np.empty(0)})


def _run_frame(parsed: Parsed, reread: Callable[[], Parsed]):
    """The frame a Run holds: a shallow copy (a page that adds a column to it leaves the cache
    alone); for a file the cache held unchanged, a ``LazyFrame`` read when a page needs it, and
    read from the file again (``reread``, without the cache) if the cache's copy is gone by then."""
    if not isinstance(parsed, StoredParsed):
        return parsed.frame.copy(deep=False)

    def load():
        try:
            return parsed.frame.copy(deep=False)
        except (OSError, ValueError):       # another build pruned the cache under us
            return reread().frame

    return LazyFrame(load, parsed.facts)


def _folder_name(folder: Path, problems: list[Problem]) -> str:
    """A folder's name as text a page can hold; a name that is not UTF-8 gets U+FFFD and a Problem."""
    name = jsonsafe.clean_text(folder.name)
    if name != folder.name:
        problems.append(Problem(jsonsafe.clean_text(str(folder)), None,  # noqa: E501
                                f"folder name is not valid UTF-8; shown as {name!r}"))
    return name


def _read_jsonl_file(path: Path, index_key: str, cache: ReadCache | None, display: str,
                     problems: list[Problem], ended: bool) -> Parsed:
    try:
        parsed, tail, n_lines = read_jsonl(path, index_key, cache, display)
    except OSError as err:               # unreadable, or deleted while we looked
        problems.append(_unreadable(display, err))
        return Parsed.empty()
    # An empty metrics file is a normal state (a run that logged nothing yet), not a Problem.
    problems.extend(_respell(parsed.problems, display))
    if tail is limits.LONG_TAIL:
        problems.append(Problem(display, n_lines + 1, limits.long_line()))
        tail = b""
    try:
        if path.stat().st_size > limits.MAX_JSONL_BYTES:
            problems.append(Problem(display, None, limits.past_cap(limits.MAX_JSONL_BYTES)))
    except OSError:
        pass
    if tail.strip() and ended:
        # The run has stopped, so nobody will finish this line: read it if it is whole.
        extra = parse_torn_line(tail, display, n_lines + 1, index_key)
        problems.extend(extra.problems)
        if len(extra.frame):
            parsed = merge_parsed([parsed, extra])
    return parsed


def _read_long_file(path: Path, cache: ReadCache | None, display: str, problems: list[Problem],
                    ended: bool) -> tuple[Parsed, dict | None]:
    try:
        parsed, zoom = longread.read_long_metrics(path, cache, display, ended, parse_chunk)
    except OSError as err:
        problems.append(_unreadable(display, err))
        return Parsed.empty(), None
    problems.extend(_respell(parsed.problems, display))
    return parsed, zoom


def _read_manifest(path: Path, cache: ReadCache | None, display: str,
                   problems: list[Problem]) -> list[Artifact]:
    try:
        size = path.stat().st_size
        if size > limits.MAX_JSON_BYTES:
            problems.append(Problem(display, None, limits.too_big(size, limits.MAX_JSON_BYTES)))
            return []
        data = path.read_bytes()
    except OSError as err:
        problems.append(_unreadable(display, err))
        return []
    out: list[Artifact] = []
    for i, raw in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")[:-1], 1):
        if not raw.strip():
            continue
        try:
            rec, repaired = jsonsafe.decode(raw, jsonsafe.loads)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            problems.append(Problem(display, i, json_error_reason(err, raw)))
            continue
        except jsonsafe.TooDeep as err:
            problems.append(Problem(display, i, str(err)))
            continue
        if repaired:
            problems.append(Problem(display, i, jsonsafe.SURROGATES))
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

def _read_or_recall(entry: FoundRun, cache: ReadCache, records: RunRecords, now: float,
                    source: str) -> tuple[Run | None, list[Problem]]:
    """``read_run``, or the run made from its record when its files did not change."""
    run_dir, real, stats = entry
    fp = fingerprint(stats)
    rec = records.get(str(real), fp, str(run_dir), source)
    if rec is not None:
        try:
            return _recall(rec, real, stats, fp, cache, now, source)
        except (KeyError, TypeError, ValueError):    # a record of another shape: read the run
            pass
    run, problems = read_run(run_dir, cache, now, source=source, found=entry)
    meta_status = run.meta.get("status", schema.FINISHED) if run is not None else None
    # an unknown status's Problem names the status shown, which depends on the time: not kept
    if run is not None and meta_status in schema.STATUSES and meta_status != schema.LOST:
        records.put(run, problems, str(run_dir))
    return run, problems


def _recall(rec: dict, real: Path, stats: dict, fp: str, cache: ReadCache, now: float,
            source: str) -> tuple[Run, list[Problem]]:
    """The Run of a record (``runrecords``): its points are read through the cache by the
    path ``read_run`` takes, only when a page asks (``LazyFrame``)."""
    fields = recalled_fields(rec)
    shown = rec["shown"]
    ended = fields["meta"].get("status") in (schema.FINISHED, schema.CRASHED, schema.KILLED)
    frames = {}
    shown_base = jsonsafe.clean_text(shown) + os.sep       # file names are plain ASCII
    for name in (schema.METRICS_FILE, schema.SYSTEM_FILE):
        facts = FrameFacts.from_json(rec["facts"]["metrics" if name == schema.METRICS_FILE else "system"])
        if name not in stats or not facts.rows:
            frames[name] = _no_frame(name)
            continue
        read = _frame_reader(real, name, shown_base + name, ended, longread.is_long(stats[name].st_size))
        frames[name] = LazyFrame(lambda read=read: _recalled_frame(read, cache), facts)
    # the files it reads through the cache stay there (ReadCache.prune keeps what was seen)
    base = f"{real}{os.sep}"          # as str(real / name), without a Path per file
    cache.seen.update([base + name.replace("/", os.sep) for name in stats])
    cache.seen.add(longread.cache_key(base + schema.METRICS_FILE))
    run = Run(**fields, dir=str(real), metrics=frames[schema.METRICS_FILE],
              system=frames[schema.SYSTEM_FILE], source=source, fingerprint=fp)
    _settle_status(run, now)
    return run, problems_from_json(rec["problems"])


def _recalled_frame(read, cache: ReadCache):
    """A recalled run's frame, through the cache; read from its file again (without the cache)
    when the cache's copy is gone or torn by then, as ``_run_frame`` does."""
    try:
        parsed = read(cache, [])[0]
        return parsed.frame if isinstance(parsed, StoredParsed) else parsed.frame.copy(deep=False)
    except (OSError, ValueError):
        return read(None, [])[0].frame


def _data_weight(run: Run) -> tuple:
    return (run.last_activity or 0.0, len(run.metrics), sum(run.files.values()))


def read_runs(dirs: Sequence[str | Path], cache: ReadCache | None = None,
              now: float | None = None,
              found: dict[str, list[FoundRun]] | None = None,
              records: RunRecords | None = None, skip: set[str] | frozenset = frozenset(),
              only: set[str] | None = None,
              problem_dirs: set[str] | None = None) -> tuple[list[Project], list[Problem]]:
    """Every run under every runs dir, merged into Projects (by name; runs newest first).
    The same ``<project>/<run-id>`` in two dirs is one run: the copy with newer activity and
    more data wins, and only its Problems are reported. With a cache, files of runs no longer
    on disk are dropped from it. Problems come in folder order, run by run. ``found``: a
    ``scan_runs(dirs)`` result just taken (by a build), so folders are not listed again.
    ``records`` (with a cache): what earlier builds read of each run (``runrecords``); a run
    whose files did not change is made from its record instead of being read.

    ``skip``: folders (the parents of resolved run folders) whose runs are not read: a build
    keeps those projects as they were (``build_kept``). ``only``: read just the runs in these
    folders, as a part of the read that already happened (a kept project asked for after all):
    the cache is not pruned and no folder-level Problem is reported. ``problem_dirs``: a set
    that gets the folder of every run that had a Problem."""
    now = time.time() if now is None else now
    if found is None:
        found = scan_runs(dirs)
    problems: list[Problem] = []
    chosen: dict[tuple[str, str], Run] = {}
    run_problems: dict[tuple[str, str], list[Problem]] = {}
    if cache is not None and only is None:
        cache.seen.clear()
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            if only is None:
                problems.append(Problem(str(d), None, "runs folder not found"))
            continue
        run_dirs = found[str(d)]
        if not run_dirs and only is None:
            hint = layout_hint(d)
            if hint:
                problems.append(Problem(str(d), None, hint))
        for entry in run_dirs:
            if skip or only is not None:
                folder = os.path.dirname(str(entry[1]))
                if folder in skip or (only is not None and folder not in only):
                    continue
            if records is not None and cache is not None:
                run, run_found = _read_or_recall(entry, cache, records, now, str(d))
            else:
                run, run_found = read_run(entry[0], cache, now, source=str(d), found=entry)
            if run_found and problem_dirs is not None:
                problem_dirs.add(os.path.dirname(str(entry[1])))
            if run is None:
                problems.extend(run_found)
                continue
            key = (run.project, run.id)
            other = chosen.get(key)
            if other is None or _data_weight(run) > _data_weight(other):
                chosen[key] = run
                run_problems[key] = run_found    # the hidden copy's problems would only confuse
    for run_found in run_problems.values():
        problems.extend(run_found)
    if cache is not None and only is None:
        cache.prune(keep_groups=skip)
    by_project: dict[str, list[Run]] = {}
    for run in chosen.values():
        by_project.setdefault(run.project, []).append(run)
    projects = []
    for name in sorted(by_project):
        runs = sorted(by_project[name], key=lambda r: (r.started_at or r.last_activity or 0.0, r.id),
                      reverse=True)
        projects.append(Project(name=name, runs=runs))
    return projects, problems
