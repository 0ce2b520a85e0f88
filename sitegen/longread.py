"""Long runs: a metrics file past ``LONG_RUN_BYTES`` is read in chunks and downsampled while
it is read, so its full-resolution frame is never in memory.

Invariants:
- Each chunk (complete lines, ``CHUNK_BYTES``) goes through the same parser and the same
  ``finalize`` as a normal read; Problems (line numbers run on), text values, NaN steps and
  last values are what a normal read of the file gives for a file whose steps go up from chunk
  to chunk (the usual case). Within a chunk any order is fine; a chunk whose steps go back
  below an earlier chunk's keeps its values, but the run gets no zoom levels (they need step
  order) and a step re-logged across chunks is not merged into one row.
- The Run's frame is the overview: per metric the points of the finest min/max level that stays
  small (``zoom_levels``), so best values, last values and every NaN/±inf mark count survive.
  ``Run.zoom`` carries what the overview cannot: every metric's point count and non-finite
  counts, and the zoom levels written (``zoom_levels``) for the run page.
- Levels are written under the read cache's ``levels_dir`` (outside the site); without one the
  run is still read in chunks, without levels. A file read before is not read again while its
  stat is unchanged (the overview is kept in the read cache under ``<path>#long``); a file that
  grew past an unchanged prefix is read on from where the last read stopped (``long_resume``):
  only the new lines are parsed, and only the open tiles and new ones are written.
- Past the 2 GB that ``limits.MAX_JSONL_BYTES`` reads of a whole file, a chunked read goes on
  to ``LONG_MAX_BYTES``; a line past ``limits.MAX_LINE_BYTES`` is skipped without being held.
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from runpages.sitegen import limits, long_resume, readcache, zoom_levels
from runpages.sitegen.atomic import write_atomic
from runpages.sitegen.jsonl import STEP, TIME, Parsed, Problem, finalize, parse_torn_line
from runpages.sitegen.readcache import FileEntry, ReadCache

LONG_RUN_BYTES = 256 * 1024 * 1024     # metrics files above this are read in chunks
# Bytes per chunk: at most limits.MAX_LINE_BYTES, so a chunk is one plain read (a longer line
# makes the window grow, and limits skips it with a Problem as a normal read does).
CHUNK_BYTES = limits.MAX_LINE_BYTES
# The chunked read's own cap: memory no longer grows with a file, so the 2 GB that
# limits.MAX_JSONL_BYTES allows a file read whole does not apply here.
LONG_MAX_BYTES = 64 * 1024 ** 3
INFO_FILE = "info.json"
INFO_VERSION = 1


def is_long(size: int) -> bool:
    return size > LONG_RUN_BYTES


def levels_folder(levels_dir: str | Path, path: Path) -> Path:
    """Where one metrics file's levels go."""
    return Path(levels_dir) / hashlib.sha1(str(path).encode("utf-8", "surrogatepass")).hexdigest()[:20]


class _Totals:
    """What the whole file says, gathered chunk by chunk."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.text: dict[str, list] = {}
        self.text_first_line: dict[str, int] = {}
        self.nan_at: dict[str, list[np.ndarray]] = {}
        self.last: dict[str, tuple[int, float]] = {}     # key -> (step, value) logged last
        self.counts: dict[str, dict[str, list[int]]] = {}  # key -> kind -> [n, first step]
        self.points: dict[str, int] = {}
        self.keys: dict[str, None] = {}
        self.last_step: int | None = None
        self.rows = 0                     # steps logged (one row per step and chunk)
        self.in_order = True

    def add(self, parsed: Parsed) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """One finalized chunk; returns its level-0 points per key (``_time`` included)."""
        self.problems.extend(parsed.problems)
        for k, v in parsed.text.items():
            self.text.setdefault(k, []).extend(v)
        for k, v in parsed.text_first_line.items():
            self.text_first_line.setdefault(k, v)
        frame = parsed.frame
        if not len(frame):
            return {}
        steps = frame[STEP].to_numpy()
        self.rows += len(steps)
        if self.last_step is not None and steps[0] <= self.last_step:
            self.in_order = False
        self.last_step = int(steps[-1]) if self.last_step is None else max(self.last_step, int(steps[-1]))
        points = {}
        if TIME in frame.columns:
            t = frame[TIME].to_numpy(dtype=np.float64)
            ok = np.isfinite(t)
            if ok.any():
                points[TIME] = (steps[ok], t[ok])
        for key in frame.columns:
            if key in (STEP, TIME) or frame[key].dtype.kind not in "fiub":
                continue
            self.keys.setdefault(key, None)
            y = frame[key].to_numpy(dtype=np.float64)
            logged = ~np.isnan(y)
            at = parsed.nan_at.get(key)
            if at is not None and len(at):
                self.nan_at.setdefault(key, []).append(at)
                logged |= np.isin(steps, at)
            if not logged.any():
                continue
            s, v = steps[logged], y[logged]
            points[key] = (s, v)
            self.points[key] = self.points.get(key, 0) + len(s)
            old = self.last.get(key)
            if old is None or int(s[-1]) >= old[0]:
                self.last[key] = (int(s[-1]), parsed.last_values.get(key, float(v[-1])))
            if not np.isfinite(v).all():
                mine = self.counts.setdefault(key, {})
                for kind, hit in (("NaN", np.isnan(v)), ("inf", v == np.inf), ("-inf", v == -np.inf)):
                    n = int(np.count_nonzero(hit))
                    if n:
                        first = int(s[np.argmax(hit)])
                        got = mine.get(kind)
                        mine[kind] = [n, first] if got is None else [got[0] + n, min(got[1], first)]
        return points


def _overview_frame(points: dict[str, tuple[np.ndarray, np.ndarray]], keys: list[str]) -> pd.DataFrame:
    """One row per step some metric kept; a metric is NaN (not logged) at the others' steps."""
    metric = {k: points[k] for k in keys if k in points}
    if not metric:
        return pd.DataFrame()
    steps = np.unique(np.concatenate([s for s, _ in metric.values()]))
    cols: dict[str, np.ndarray] = {STEP: steps.astype(np.int64)}
    if TIME in points:
        ts, tv = points[TIME]
        cols[TIME] = np.interp(steps, ts, tv) if len(ts) else np.full(len(steps), np.nan)
    else:
        cols[TIME] = np.full(len(steps), np.nan)
    for k in keys:
        col = np.full(len(steps), np.nan)
        if k in metric:
            s, v = metric[k]
            col[np.searchsorted(steps, s)] = v
        cols[k] = col
    return pd.DataFrame(cols)


def _coarse(points: dict) -> dict:
    """One chunk's points as ~1,000 min/max buckets per metric (when there are no levels)."""
    out = {}
    for key, (s, y) in points.items():
        width = max(1, int(s[-1] - s[0]) // 1000 + 1)
        out[key] = zoom_levels.bucket_points(s, y, width)
    return out


def _joined(parts: list[dict]) -> dict:
    """Overview parts in file order as one series per metric, by step (a later part wins a step)."""
    keys = dict.fromkeys(k for p in parts for k in p)
    out = {}
    for key in keys:
        s = np.concatenate([p[key][0] for p in parts if key in p])
        y = np.concatenate([p[key][1] for p in parts if key in p])
        order = np.argsort(s, kind="stable")
        out[key] = (s[order], y[order])
    return out


def _unit(steps: np.ndarray) -> int:
    """A power of two near the typical step spacing (bucket widths are multiples of it)."""
    if len(steps) < 2:
        return 1
    gap = float(np.median(np.diff(steps)))
    return 1 << max(0, int(math.floor(math.log2(gap)))) if gap >= 1 else 1


def cache_key(path: Path) -> str:
    """The read-cache key of a long metrics file's overview."""
    return f"{path}#long"


def read_long_metrics(path: Path, cache: ReadCache | None, display: str, ended: bool,
                      parse: Callable[..., Parsed]) -> tuple[Parsed, dict | None]:
    """A long metrics file as a final ``Parsed`` (the overview frame) and its zoom info
    (None when the file could not be read). Raises ``OSError`` like ``readcache.read_jsonl``."""
    st = path.stat()
    key = cache_key(path)
    levels_dir = getattr(cache, "levels_dir", None) if cache is not None else None
    folder = levels_folder(levels_dir, path) if levels_dir else None
    entry = cache.get(key) if cache is not None else None
    old_info = _load_info(folder) if folder is not None else None
    if (entry is not None and old_info is not None
            and entry.holds(st)
            and old_info.get("stamp") == [st.st_size, st.st_mtime_ns]):
        return _with_tail(entry.value, old_info, path, entry, st, display, ended)
    parsed, info, lines, offset, tail_check = _read_chunks(path, st, display, parse, folder, cache)
    info["stamp"] = [st.st_size, st.st_mtime_ns]
    info["folder"] = str(folder) if folder is not None and info["levels"] else None
    if folder is not None:
        write_atomic(folder / INFO_FILE, json.dumps(info))
    entry = FileEntry(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, offset, lines, tail_check, parsed)
    if cache is not None:
        cache.entries[key] = entry
    return _with_tail(parsed, info, path, entry, st, display, ended)


def _with_tail(parsed: Parsed, info: dict, path: Path, entry: FileEntry, st, display: str,
               ended: bool) -> tuple[Parsed, dict]:
    """The torn last line of a run that has ended, as a normal read handles it (read, or a
    Problem); the levels do not hold it (a tile is never written for a line that may change)."""
    end = min(st.st_size, LONG_MAX_BYTES)
    if not ended or end <= entry.offset:
        return parsed, info
    tail = readcache._read_range(path, entry.offset, min(end, entry.offset + limits.MAX_LINE_BYTES + 1))
    if not tail.strip():
        return parsed, info
    if len(tail) > limits.MAX_LINE_BYTES:
        return parsed, info               # its Problem was noted while reading (``_read_chunks``)
    extra = parse_torn_line(tail, display, entry.lines + 1, STEP)
    if extra.problems or not len(extra.frame):
        return _plus(parsed, extra.problems), info
    # A whole last record: shown in the summary like a normal read would (the overview keeps it).
    extra = finalize(extra, STEP)
    out = _plus(parsed, extra.problems)
    out.last_values = {**parsed.last_values, **extra.last_values}
    frame = pd.concat([parsed.frame, extra.frame], ignore_index=True, sort=False)
    out.frame = frame.drop_duplicates(STEP, keep="last").sort_values(STEP, kind="stable").reset_index(drop=True)
    new_row = not len(parsed.frame) or int(extra.frame[STEP].iloc[0]) not in set(parsed.frame[STEP].tolist()[-1:])
    return out, {**info, "rows": int(info.get("rows", 0)) + int(new_row)}


def _plus(parsed: Parsed, problems: list[Problem]) -> Parsed:
    return Parsed(parsed.frame, parsed.text, parsed.text_first_line, parsed.problems + problems,
                  True, dict(parsed.last_values), parsed.nan_at)


def _read_chunks(path: Path, st, display: str, parse, folder: Path | None, cache: ReadCache | None):
    """Read from where the last read of this file stopped (``long_resume``), else from the start."""
    size = st.st_size
    end = min(size, LONG_MAX_BYTES)
    totals = _Totals()
    chain, offset, line, tail_check = None, 0, 1, b""
    resumed = long_resume.load(folder, path, st, totals, folder) if folder is not None else None
    if resumed is not None:
        chain, offset, lines, tail_check = resumed
        line = lines + 1
    elif folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        totals = _Totals()
    counter = cache.count if cache is not None else None
    fallback: list[dict] = []              # overview parts once steps went back (no levels then)
    long_tail = None                       # line number of a torn last line past the line cap

    def take(part: Parsed) -> None:
        """One parsed chunk into the totals and the levels, in file order."""
        nonlocal chain
        points = totals.add(part)
        if points and totals.in_order:
            if chain is None:
                chain = zoom_levels.LevelChain(folder, _unit(part.frame[STEP].to_numpy()))
            chain.add(points, totals.last_step)
        elif points:
            if chain is not None:          # steps went back: no levels; the overview so far...
                chain.close()
                fallback.append(chain.overview())
                chain = None
            fallback.append(_coarse(points))   # ...then each chunk's own min/max points

    def parse_chunk(got, first_line: int) -> Parsed:
        return finalize(readcache._parse(got, parse, display, first_line, STEP, counter), STEP)

    # One chunk is parsed (pyarrow, mostly outside the GIL) while the one before goes into the
    # totals and the levels (numpy, tile files): the two halves of the work overlap.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="runpages-longread") as pool:
        ahead = None                       # the previous chunk's parse, not taken yet
        while offset < end:
            got = limits.read_lines(path, offset, min(offset + CHUNK_BYTES, end), size)
            if not got.consumed:
                if ahead is not None:      # its Problems come before this one's
                    take(ahead.result())
                    ahead = None
                if offset + CHUNK_BYTES >= end:
                    break                 # only a torn record left (``_with_tail``)
                # No newline in a whole chunk: a line past limits.MAX_LINE_BYTES, skipped unread.
                after = _next_line(path, offset + CHUNK_BYTES, end)
                if after is None:
                    long_tail, offset = line, end
                    break
                totals.problems.append(Problem(display, line, limits.long_line()))
                line, offset, tail_check = line + 1, after, _tail_before(path, after)
                continue
            job = pool.submit(parse_chunk, got, line)
            line += got.data.count(b"\n")
            offset += got.consumed
            tail_check = (tail_check + got.data)[-64:]
            if ahead is not None:
                take(ahead.result())
            ahead = job
        if ahead is not None:
            take(ahead.result())
    if folder is not None:
        if chain is not None and totals.in_order:
            long_resume.save(folder, totals, chain, offset, line - 1, tail_check, st)
        else:
            long_resume.forget(folder)
    parsed, info = _finish(totals, chain, fallback, folder, size, display)
    if long_tail is not None:             # as a normal read says it, ended or not
        parsed.problems.append(Problem(display, long_tail, limits.long_line()))
    return parsed, info, line - 1, offset, tail_check


def _next_line(path: Path, start: int, end: int) -> int | None:
    """The offset just past the next newline at or after ``start``, reading one block at a time
    (memory stays one block whatever the line's length); None when there is none before ``end``."""
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        while pos < end:
            block = f.read(min(limits.BLOCK_BYTES, end - pos))
            if not block:
                return None
            hit = block.find(b"\n")
            if hit >= 0:
                return pos + hit + 1
            pos += len(block)
    return None


def _tail_before(path: Path, offset: int) -> bytes:
    return readcache._read_range(path, max(0, offset - 64), offset)


def _finish(totals: _Totals, chain, fallback: list[dict], folder: Path | None, size: int,
            display: str) -> tuple[Parsed, dict]:
    """Close the levels; the overview as the final ``Parsed``, and the zoom info."""
    if chain is not None:
        chain.close()
    in_order = totals.in_order and chain is not None
    overview = chain.overview() if in_order else _joined(fallback)
    keys = list(totals.keys)
    frame = _overview_frame(overview, keys)
    if size > LONG_MAX_BYTES:
        totals.problems.append(Problem(display, None, limits.past_cap(LONG_MAX_BYTES)))
    nan_at = {k: np.unique(np.concatenate(v)) for k, v in totals.nan_at.items()}
    parsed = Parsed(frame, totals.text, totals.text_first_line, totals.problems, True,
                    {k: v for k, (_, v) in totals.last.items()}, nan_at)
    info: dict[str, Any] = {"version": INFO_VERSION, "points": totals.points, "rows": totals.rows,
                            "nonfinite": {k: {kind: list(v) for kind, v in c.items()}
                                          for k, c in totals.counts.items()},
                            "unit": 1, "levels": [], "written": 0}
    if in_order:
        info.update(chain.info())
        info["written"] = chain.written()
        _remove_stale(folder, chain)
    elif folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return parsed, info


def _remove_stale(folder: Path | None, chain) -> None:
    """Tiles a longer read no longer has (a level that became the overview, a file rewritten)."""
    if folder is None:
        return
    want = {f"{k}/{t}.js" for k, tiles in chain.tile_lists().items() for t in tiles}
    for rel in zoom_levels.tile_files(folder):
        if rel not in want:
            try:
                (folder / rel).unlink()
            except OSError:
                pass


def _load_info(folder: Path | None) -> dict | None:
    if folder is None:
        return None
    try:
        info = json.loads((folder / INFO_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("version") == INFO_VERSION else None
