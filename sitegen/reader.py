"""Tolerant, fast, incremental reading of run folders into ``model.Run`` / ``model.Project``.

Invariants:
- Reading never raises for bad input: every malformed thing becomes a ``Problem`` (file, line,
  reason) and the rest of the run is kept. Only bugs raise.
- A JSONL file is read up to its last ``\\n``; the bytes after it are a record still being
  written and are left for the next read, silently (a run that has ended gets them parsed, and
  a Problem if they are not a whole record).
- Numeric values become float64 columns ("NaN"/"Infinity"/"-Infinity" strings included);
  strings under a key go to ``text_keys`` as (step, text), never into a numeric column.
- With a ``ReadCache`` an unchanged file is not parsed, a file that only grew is parsed from
  where it was left, and a file that shrank or was replaced is read again from the start.
- A run written by a newer format version is skipped with a Problem, never misread.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import stat
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from logger import schema
from sitegen.model import Artifact, Project, Run, flatten

STEP = schema.STEP_KEY
TIME = schema.TIME_KEY
NONFINITE = schema.NONFINITE_TOKENS

# Files at least this big (bytes of complete lines) try the pyarrow fast path first.
FAST_PATH_MIN_BYTES = 64 * 1024
# When the fast path fails on a big chunk, retry it in blocks of this size, so one bad line
# costs one block of slow parsing rather than the whole file.
FAST_PATH_BLOCK_BYTES = 4 * 1024 * 1024

RUN_FILES = (schema.META_FILE, schema.CONFIG_FILE, schema.METRICS_FILE, schema.SYSTEM_FILE,
             schema.SUMMARY_FILE, f"{schema.ARTIFACTS_DIR}/{schema.ARTIFACT_MANIFEST}",
             schema.CONSOLE_FILE)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


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
# Parsing one JSONL chunk (complete lines only)
# ---------------------------------------------------------------------------------------------

@dataclass
class Parsed:
    """What a run of complete JSONL lines yielded. ``frame`` holds one row per kept record in
    file order, numeric columns float64; ``text`` maps key -> [(index value, text)]."""
    frame: pd.DataFrame
    text: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)
    text_first_line: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Set by ``_final``: ``frame`` is then one row per index value, sorted, index keys first
    # (stored back in the cache, so an unchanged file costs no pandas work at all).
    final: bool = False
    last_values: dict[str, float] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "Parsed":
        return cls(pd.DataFrame())


def _describe(value: Any) -> str:
    kinds = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false",
             type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _json_error_reason(err: json.JSONDecodeError | UnicodeDecodeError, raw: str | bytes) -> str:
    if isinstance(err, UnicodeDecodeError):
        return "not valid UTF-8 text"
    lead = len(raw) - len(raw.lstrip())
    if err.msg == "Expecting value" and err.pos == lead:
        return "expected a JSON object, got text"
    return f"malformed JSON ({err.msg} at column {err.colno})"


_DECODER = json.JSONDecoder()


def parse_lines_slow(chunk: bytes, path: str, first_line: int, index_key: str,
                     counter: Callable[[int], None] | None = None) -> Parsed:
    """Line by line with the json module: slower, but says which line is wrong and why."""
    records: list[dict[str, Any]] = []
    line_numbers: list[int] = []
    problems: list[Problem] = []
    if counter:
        counter(len(chunk))
    try:
        lines: list[Any] = chunk.decode("utf-8").split("\n")   # one decode for the chunk
    except UnicodeDecodeError:
        lines = chunk.split(b"\n")                            # find the bad line(s) below
    if lines and not lines[-1]:
        lines.pop()
    decode = _DECODER.decode
    for i, raw in enumerate(lines):
        lineno = first_line + i
        if not raw.strip():
            continue                     # blank lines carry nothing; not worth a warning
        try:
            value = decode(raw) if type(raw) is str else json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            problems.append(Problem(path, lineno, _json_error_reason(err, raw)))
            continue
        if type(value) is not dict:
            problems.append(Problem(path, lineno, f"expected a JSON object, got {_describe(value)}"))
            continue
        if raw.find("{" if type(raw) is str else b"{", 1) != -1:
            value = flatten(value)       # maybe nested (or a "{" inside a string: harmless)
        records.append(value)
        line_numbers.append(lineno)
    parsed = _split_columns(_columns_of(records), len(records),
                            np.asarray(line_numbers, dtype=np.int64), path, index_key)
    parsed.problems[:0] = problems
    return parsed


def _arrow_table(chunk: bytes):
    import pyarrow as pa
    import pyarrow.json as pajson
    try:
        return pajson.read_json(pa.BufferReader(chunk))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def parse_chunk_fast(chunk: bytes, path: str, first_line: int, index_key: str) -> Parsed | None:
    """pyarrow's JSON reader on a clean chunk; None when the chunk is not clean (then the
    caller falls back to the line-by-line parser, which finds and names the bad lines)."""
    import pyarrow as pa

    try:
        return _parse_chunk_fast(chunk, path, first_line, index_key, pa)
    except UnicodeDecodeError:          # bad UTF-8 in a key: the slow path names the line
        return None


def _parse_chunk_fast(chunk: bytes, path: str, first_line: int, index_key: str, pa) -> Parsed | None:
    table = _arrow_table(chunk)
    swapped: list[tuple[float, float]] = []
    if table is None:
        # Most often a numeric column holding a few "NaN"s: swap the tokens and try again.
        chunk, swapped = _swap_nonfinite_tokens(chunk)
        table = _arrow_table(chunk) if swapped else None
        if table is None:
            return None
    # pyarrow skips blank lines, which would shift row -> line numbers: slow path for those.
    n_lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    if table.num_rows != n_lines:
        return None
    columns: dict[str, np.ndarray] = {}
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
            # nulls (key absent on that line) become NaN
            values = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
            for literal, value in swapped:
                # a hair of tolerance in case a parser rounds the stand-in by an ulp
                hit = np.abs(values - literal) <= abs(literal) * 1e-12
                if hit.any():
                    values = values.copy() if not values.flags.writeable else values
                    values[hit] = value
            columns[name] = values
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
            try:
                columns[name] = np.asarray(col.to_pylist(), dtype=object)
            except UnicodeDecodeError:   # pyarrow lets bad UTF-8 through; the slow path names it
                return None
        else:
            return None                  # nested objects or lists: let the slow path flatten them
    lines = np.arange(first_line, first_line + table.num_rows, dtype=np.int64)
    return _split_columns(columns, table.num_rows, lines, path, index_key)


# The string tokens for NaN/inf, as values, are swapped for number literals that no logger
# writes (checked per chunk), so a numeric column with some NaN stays numeric for pyarrow.
# A quoted token can only be a whole value or a key: inside a string its quotes would be
# escaped, and swapping an escaped one (`\"NaN"`) leaves an invalid escape (`\1.41...`), so
# such a chunk fails and takes the slow path. A swapped key makes invalid JSON the same way.
_TOKEN_SWAPS = (
    (b'"NaN"', b"1.4142135623730951e+307", 1.4142135623730951e+307, math.nan),
    (b'"Infinity"', b"1.7320508075688772e+307", 1.7320508075688772e+307, math.inf),
    (b'"-Infinity"', b"-1.7320508075688772e+307", -1.7320508075688772e+307, -math.inf),
)


def _swap_nonfinite_tokens(chunk: bytes) -> tuple[bytes, list[tuple[float, float]]]:
    swapped: list[tuple[float, float]] = []
    for token, literal, number, value in _TOKEN_SWAPS:
        if token in chunk:
            if literal in chunk:          # the stand-in is taken: leave the tokens as text
                continue
            chunk = chunk.replace(token, literal)
            swapped.append((number, value))
    return chunk, swapped


def _split_object_column(values: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Numbers (and NaN/inf tokens) to float64; the row positions of everything else (text)."""
    out = np.full(len(values), np.nan)
    text_rows: list[int] = []
    for i, v in enumerate(values):
        if v is None:
            continue
        tv = type(v)
        if tv is float or tv is bool:
            out[i] = v
        elif tv is int:
            try:
                out[i] = v
            except OverflowError:         # beyond float range: keep the digits as text
                text_rows.append(i)
        elif tv is str and v in NONFINITE:
            out[i] = NONFINITE[v]
        else:
            text_rows.append(i)
    return out, text_rows


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_NUMBER_TYPES = frozenset((float, int, bool))


def _columns_of(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Records to one array per key, keys in first-seen order: float64 where every value is a
    number, else an object array for ``_split_columns``; a missing key is NaN either way."""
    keys: dict[str, None] = {}
    for rec in records:
        for k in rec:
            if k not in keys:
                keys[k] = None
    columns = {}
    nan = math.nan
    for k in keys:
        values = [rec.get(k, nan) for rec in records]
        if set(map(type, values)) <= _NUMBER_TYPES:
            try:
                columns[k] = np.array(values, dtype=np.float64)
                continue
            except OverflowError:         # an int beyond float range: the careful way below
                pass
        col = np.empty(len(values), dtype=object)
        col[:] = values
        columns[k] = col
    return columns


def _split_columns(columns: dict[str, np.ndarray], n_rows: int, lines: np.ndarray, path: str,
                   index_key: str) -> Parsed:
    """Numeric columns to float64, text values out to ``text``; rows without a usable index
    value (``_step`` for metrics, ``_time`` for system samples) dropped with a Problem."""
    problems: list[Problem] = []
    if not n_rows:
        return Parsed(pd.DataFrame(), problems=problems)
    numeric: dict[str, np.ndarray] = {}
    text_rows: dict[str, list[int]] = {}
    raw_text: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        if values.dtype == object:
            nums, rows = _split_object_column(values)
            if rows:
                text_rows[name] = rows
                raw_text[name] = values
            if len(rows) < len(values) and not (rows and np.isnan(nums).all()):
                numeric[name] = nums
        else:
            numeric[name] = values.astype(np.float64, copy=False)

    index = numeric.get(index_key)
    if index is None:
        bad = np.ones(n_rows, dtype=bool)
    else:
        bad = ~np.isfinite(index)
        if index_key == STEP:
            with np.errstate(invalid="ignore"):
                bad |= np.abs(index) > 2.0 ** 53    # not a step count; would not fit int64
    if index_key in text_rows:
        # A text _step is not a step: those rows are dropped like missing ones.
        bad[text_rows.pop(index_key)] = True
        raw_text.pop(index_key, None)
    if bad.any():
        for row in np.flatnonzero(bad)[:1000]:
            problems.append(Problem(path, int(lines[row]), f"no usable {index_key}; record skipped"))
        extra = int(bad.sum()) - 1000
        if extra > 0:
            problems.append(Problem(path, None, f"{extra} more records without {index_key} skipped"))
    keep = ~bad
    index_values = index if index is not None else np.zeros(n_rows)
    text: dict[str, list[tuple[Any, str]]] = {}
    first_line: dict[str, int] = {}
    for name, rows in text_rows.items():
        values = raw_text[name]
        kept = [r for r in rows if keep[r]]
        if not kept:
            continue
        as_index = int if index_key == STEP else float
        text[name] = [(as_index(index_values[r]), _text_of(values[r])) for r in kept]
        first_line[name] = int(lines[kept[0]])
    if bad.all():
        return Parsed(pd.DataFrame(), text, first_line, problems)
    if bad.any():
        numeric = {k: v[keep] for k, v in numeric.items()}
    if index_key == STEP:
        # Steps are whole numbers; stored as int64 here so the cached frame and the Run's
        # frame can share memory (no conversion copy per read).
        numeric[STEP] = numeric[STEP].astype(np.int64)
    return Parsed(pd.DataFrame(numeric), text, first_line, problems)


def parse_chunk(chunk: bytes, path: str, first_line: int, index_key: str,
                counter: Callable[[int], None] | None = None) -> Parsed:
    """Complete lines -> Parsed: fast path when big and clean; blockwise fallback otherwise."""
    if len(chunk) < FAST_PATH_MIN_BYTES:
        return parse_lines_slow(chunk, path, first_line, index_key, counter)
    if counter:
        counter(len(chunk))
    fast = parse_chunk_fast(chunk, path, first_line, index_key)
    if fast is not None:
        return fast
    if len(chunk) <= FAST_PATH_BLOCK_BYTES:
        return parse_lines_slow(chunk, path, first_line, index_key)
    parts: list[Parsed] = []
    start, line = 0, first_line
    while start < len(chunk):
        end = chunk.find(b"\n", min(start + FAST_PATH_BLOCK_BYTES, len(chunk) - 1))
        end = len(chunk) if end < 0 else end + 1
        block = chunk[start:end]
        part = parse_chunk_fast(block, path, line, index_key)
        parts.append(part if part is not None else parse_lines_slow(block, path, line, index_key))
        line += block.count(b"\n")
        start = end
    return merge_parsed(parts)


def merge_parsed(parts: Sequence[Parsed]) -> Parsed:
    parts = [p for p in parts if p is not None]
    if len(parts) == 1:
        return parts[0]
    frames = [p.frame for p in parts if len(p.frame)]
    frame = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
    text: dict[str, list[tuple[Any, str]]] = {}
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for p in parts:
        for k, v in p.text.items():
            text.setdefault(k, []).extend(v)
        for k, v in p.text_first_line.items():
            first.setdefault(k, v)
        problems.extend(p.problems)
    return Parsed(frame, text, first, problems)


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
            found.append(Problem(display, err.lineno, _json_error_reason(err, data)))
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
        problems.append(Problem(display, None, f"expected a JSON object, got {_describe(value)}"))
        return {}
    return value


def _final(parsed: Parsed, key: str) -> Parsed:
    """Bring ``parsed.frame`` to its final form once (one row per ``key`` value, sorted, index
    keys first, ``_time`` present for metrics) and note each column's last non-NaN value."""
    if parsed.final or not len(parsed.frame):
        return parsed
    frame = _one_row_per_key(parsed.frame, key)
    if key == STEP and TIME not in frame.columns:
        frame[TIME] = np.nan
    frame = _index_first(frame)
    if key == STEP and frame[STEP].dtype != np.int64:
        frame[STEP] = frame[STEP].astype(np.int64)
    last: dict[str, float] = {}
    for name in frame.columns:
        if name in (STEP, TIME):
            continue
        values = frame[name].to_numpy()
        seen = np.flatnonzero(~np.isnan(values))
        if len(seen):
            last[name] = float(values[seen[-1]])
    parsed.frame, parsed.last_values, parsed.final = frame, last, True
    return parsed


def _one_row_per_key(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    if not len(frame) or key not in frame.columns:
        return frame
    col = frame[key].to_numpy()
    if len(col) < 2 or bool((col[1:] > col[:-1]).all()):     # strictly increasing: as is
        return frame.reset_index(drop=True)
    frame = frame.sort_values(key, kind="stable")
    if not frame[key].is_unique:
        frame = frame.groupby(key, sort=True, as_index=False).last()
    return frame.reset_index(drop=True)


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


def _fingerprint(stats: dict[str, os.stat_result]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for name in sorted(stats):
        st = stats[name]
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return h.hexdigest()


def _stat_files(run_dir: Path) -> dict[str, os.stat_result]:
    stats = {}
    for name in RUN_FILES:
        try:
            st = (run_dir / name).stat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            stats[name] = st
    return stats


def is_run_dir(path: Path) -> bool:
    return (path / schema.META_FILE).is_file() or (path / schema.METRICS_FILE).is_file()


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
    stats = _stat_files(real)
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
        parsed = _final(_read_jsonl_file(real / schema.METRICS_FILE, STEP, cache,
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
        parsed = _final(_read_jsonl_file(real / schema.SYSTEM_FILE, TIME, cache,
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
        fingerprint=_fingerprint(stats),
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


def _index_first(frame: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in (STEP, TIME) if c in frame.columns]
    if list(frame.columns[:len(first)]) == first:
        return frame
    return frame[first + [c for c in frame.columns if c not in first]]


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
        lineno = n_lines + 1
        extra = parse_lines_slow(tail, display, lineno, index_key)
        if extra.problems or not len(extra.frame):
            problems.append(Problem(display, lineno,
                                    "last line is incomplete (the run stopped while writing it); ignored"))
        else:
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
            problems.append(Problem(display, i, _json_error_reason(err, raw)))
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

def find_run_dirs(runs_dir: Path) -> list[Path]:
    """``<dir>/<project>/<run-id>/`` folders holding meta.json or metrics.jsonl."""
    found = []
    try:
        projects = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for project in projects:
        try:
            children = sorted(c for c in project.iterdir() if c.is_dir() and not c.name.startswith("."))
        except OSError:
            continue
        found.extend(c for c in children if is_run_dir(c))
    return found


def _layout_hint(d: Path) -> str | None:
    """Why a folder with no runs in it might be the wrong folder."""
    if is_run_dir(d):
        return ("no runs found: this is a run folder; pass the runs folder above it "
                f"(laid out as <runs>/<project>/<run-id>/, here {d.parent.parent})")
    try:
        if any(c.is_dir() and is_run_dir(c) for c in d.iterdir()):
            return ("no runs found: this looks like a project folder; pass the folder above it "
                    f"(laid out as <runs>/<project>/<run-id>/, here {d.parent})")
    except OSError:
        pass
    return None


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
            hint = _layout_hint(d)
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
