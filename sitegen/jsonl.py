"""Parsing JSONL bytes into columns: a pyarrow fast path, a line-by-line fallback that names
bad lines, and the final shape of a metrics or system frame.

Invariants:
- Parsers take complete lines only (bytes up to a last ``\\n``). The bytes after it are a record
  still being written: the caller keeps them for the next read, or, once the run has ended,
  hands them to ``parse_torn_line``.
- Parsing never raises for bad input: a bad line becomes a ``Problem`` (file, line, reason)
  and every other line is kept. The fast path and the fallback give the same ``Parsed``; the
  fast path returns None rather than guess, and the fallback finds and names the bad lines.
- Numeric values become float64 columns ("NaN"/"Infinity"/"-Infinity" strings included);
  strings under a key go to ``Parsed.text`` as (index value, text), never into a numeric column.
- A NaN in a column is "not logged at this step" unless its index value is in
  ``Parsed.nan_at[key]``: the steps (or times) where the key was logged as NaN (the ``"NaN"``
  token, or a bare ``NaN`` literal other tools write). ``null`` counts as not logged. ±inf are
  values in the column like any other number.
- A record without a usable index value (``_step`` for metrics, ``_time`` for system samples)
  is dropped with a Problem; ``_step`` is stored as int64.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from runpages import schema
from runpages.problems import Problem
from runpages.sitegen import jsonsafe
from runpages.sitegen.model import flatten

STEP = schema.STEP_KEY
TIME = schema.TIME_KEY
NONFINITE = schema.NONFINITE_TOKENS

# Chunks at least this big (bytes of complete lines) try the pyarrow fast path first.
FAST_PATH_MIN_BYTES = 64 * 1024
# When the fast path fails on a big chunk, retry it in blocks of this size, so one bad line
# costs one block of slow parsing rather than the whole file.
FAST_PATH_BLOCK_BYTES = 4 * 1024 * 1024


@dataclass
class Parsed:
    """What a run of complete JSONL lines yielded. ``frame`` holds one row per kept record in
    file order, numeric columns float64; ``text`` maps key -> [(index value, text)]."""
    frame: pd.DataFrame
    text: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)
    text_first_line: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Set by ``finalize``: ``frame`` is then one row per index value, sorted, index keys first
    # (stored back in the cache, so an unchanged file costs no pandas work at all).
    final: bool = False
    last_values: dict[str, float] = field(default_factory=dict)    # NaN when the last logged was
    # key -> index values (int64 steps for metrics) where the key was logged as NaN; once
    # ``final``: sorted, unique, none where the frame holds a number for that key.
    nan_at: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "Parsed":
        return cls(pd.DataFrame())

    @property
    def rows(self) -> int:
        """Rows of ``frame`` (``readcache.StoredParsed`` knows it without reading the frame)."""
        return len(self.frame)


def describe(value: Any) -> str:
    """A JSON value's kind as a user reads it: "a list", "text", "null"..."""
    kinds = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false",
             type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def json_error_reason(err: json.JSONDecodeError | UnicodeDecodeError, raw: str | bytes) -> str:
    """Why ``raw`` is not JSON, in a user's words."""
    if isinstance(err, UnicodeDecodeError):
        return "not valid UTF-8 text"
    lead = len(raw) - len(raw.lstrip())
    if err.msg == "Expecting value" and err.pos == lead:
        return "expected a JSON object, got text"
    return f"malformed JSON ({err.msg} at column {err.colno})"


# ---------------------------------------------------------------------------------------------
# Parsing complete lines
# ---------------------------------------------------------------------------------------------

def parse_chunk(chunk: bytes, path: str, first_line: int, index_key: str,
                counter: Callable[[int], None] | None = None, *,
                min_fast_bytes: int | None = None, block_bytes: int | None = None) -> Parsed:
    """Complete lines -> Parsed: fast path when big and clean; blockwise fallback otherwise.
    The thresholds default to ``FAST_PATH_MIN_BYTES`` / ``FAST_PATH_BLOCK_BYTES``."""
    min_fast_bytes = FAST_PATH_MIN_BYTES if min_fast_bytes is None else min_fast_bytes
    block_bytes = FAST_PATH_BLOCK_BYTES if block_bytes is None else block_bytes
    if len(chunk) < min_fast_bytes:
        return parse_lines_slow(chunk, path, first_line, index_key, counter)
    if counter:
        counter(len(chunk))
    fast = parse_chunk_fast(chunk, path, first_line, index_key)
    if fast is not None:
        return fast
    if len(chunk) <= block_bytes:
        return parse_lines_slow(chunk, path, first_line, index_key)
    parts: list[Parsed] = []
    start, line = 0, first_line
    while start < len(chunk):
        end = chunk.find(b"\n", min(start + block_bytes, len(chunk) - 1))
        end = len(chunk) if end < 0 else end + 1
        block = chunk[start:end]
        part = parse_chunk_fast(block, path, line, index_key)
        parts.append(part if part is not None else parse_lines_slow(block, path, line, index_key))
        line += block.count(b"\n")
        start = end
    return merge_parsed(parts)


def merge_parsed(parts: Sequence[Parsed]) -> Parsed:
    """Parts of one file, in file order, as one Parsed (not ``final``; None parts skipped)."""
    parts = [p for p in parts if p is not None]
    if len(parts) == 1:
        return parts[0]
    frames = [p.frame for p in parts if len(p.frame)]
    frame = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
    text: dict[str, list[tuple[Any, str]]] = {}
    first: dict[str, int] = {}
    problems: list[Problem] = []
    nan_parts: dict[str, list[np.ndarray]] = {}
    for p in parts:
        for k, v in p.text.items():
            text.setdefault(k, []).extend(v)
        for k, v in p.text_first_line.items():
            first.setdefault(k, v)
        problems.extend(p.problems)
        for k, v in p.nan_at.items():
            nan_parts.setdefault(k, []).append(v)
    nan_at = {k: np.concatenate(v) if len(v) > 1 else v[0] for k, v in nan_parts.items()}
    return Parsed(frame, text, first, problems, nan_at=nan_at)


def parse_torn_line(tail: bytes, path: str, lineno: int, index_key: str) -> Parsed:
    """The bytes after a file's last ``\\n`` once nobody will finish them (the run has ended):
    the record if they are one whole record, else no rows and one Problem saying so."""
    extra = parse_lines_slow(tail, path, lineno, index_key)
    if extra.problems or not len(extra.frame):
        return Parsed(pd.DataFrame(), problems=[Problem(
            path, lineno, "last line is incomplete (the run stopped while writing it); ignored")])
    return extra


_DECODER = json.JSONDecoder(parse_int=jsonsafe.whole_number)


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
    surrogates = jsonsafe.may_hold_surrogates(chunk)
    for i, raw in enumerate(lines):
        lineno = first_line + i
        if not raw.strip():
            continue                     # blank lines carry nothing; not worth a warning
        try:
            value, repaired = jsonsafe.decode(raw, decode if type(raw) is str else jsonsafe.loads,
                                              surrogates)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            problems.append(Problem(path, lineno, json_error_reason(err, raw)))
            continue
        except jsonsafe.TooDeep as err:
            problems.append(Problem(path, lineno, str(err)))
            continue
        if repaired:
            problems.append(Problem(path, lineno, jsonsafe.SURROGATES))
        if type(value) is not dict:
            problems.append(Problem(path, lineno, f"expected a JSON object, got {describe(value)}"))
            continue
        if raw.find("{" if type(raw) is str else b"{", 1) != -1:
            value = flatten(value)       # maybe nested (or a "{" inside a string: harmless)
        records.append(value)
        line_numbers.append(lineno)
    # Only the decoder's bare NaN literal (other tools write it) makes a float NaN in a record;
    # a chunk with no NaN outside quotes has none, and its sparse keys need no look at records.
    bare_nan = chunk.count(b"NaN") > chunk.count(b'"NaN"')
    columns, nan_rows = _columns_of(records, bare_nan)
    parsed = _split_columns(columns, len(records), np.asarray(line_numbers, dtype=np.int64),
                            path, index_key, nan_rows)
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
    nan_rows: dict[str, np.ndarray] = {}
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
            # nulls (key absent on that line) become NaN; an integer past 2**53 becomes the
            # nearest float, as on the line-by-line path (a safe cast would raise)
            values = col.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
            for literal, value in swapped:
                # a hair of tolerance in case a parser rounds the stand-in by an ulp
                hit = np.abs(values - literal) <= abs(literal) * 1e-12
                if hit.any():
                    values = values.copy() if not values.flags.writeable else values
                    values[hit] = value
            # NaN that is not null: logged as NaN (a swapped token or a bare NaN literal)
            n_nan = int(np.count_nonzero(np.isnan(values)))
            if n_nan > col.null_count:
                valid = col.is_valid().to_numpy(zero_copy_only=False)
                nan_rows[name] = np.isnan(values) & valid
            columns[name] = values
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
            try:
                columns[name] = np.asarray(col.to_pylist(), dtype=object)
            except UnicodeDecodeError:   # pyarrow lets bad UTF-8 through; the slow path names it
                return None
        else:
            return None                  # nested objects or lists: let the slow path flatten them
    lines = np.arange(first_line, first_line + table.num_rows, dtype=np.int64)
    return _split_columns(columns, table.num_rows, lines, path, index_key, nan_rows)


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


def _split_object_column(values: np.ndarray) -> tuple[np.ndarray, list[int], list[int]]:
    """Numbers (and NaN/inf tokens) to float64; the row positions of everything else (text),
    and of the values logged as NaN (a missing key or null is None here, not NaN)."""
    out = np.full(len(values), np.nan)
    text_rows: list[int] = []
    nan_rows: list[int] = []
    for i, v in enumerate(values):
        if v is None:
            continue
        tv = type(v)
        if tv is float or tv is bool:
            out[i] = v
            if v != v:
                nan_rows.append(i)
        elif tv is int:
            try:
                out[i] = v
            except OverflowError:         # beyond float range: keep the digits as text
                text_rows.append(i)
        elif tv is str and v in NONFINITE:
            out[i] = NONFINITE[v]
            if v == "NaN":
                nan_rows.append(i)
        else:
            text_rows.append(i)
    return out, text_rows, nan_rows


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


_NUMBER_TYPES = frozenset((float, int, bool))


def _logged_nan(records: list[dict[str, Any]], key: str, values: np.ndarray) -> np.ndarray | None:
    """Rows of a float column where ``key`` was logged as NaN (a missing key is NaN in the
    column too), or None when there are none."""
    mask = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(np.isnan(values)):
        v = records[i].get(key)
        if v is not None and v != v:
            mask[i] = True
    return mask if mask.any() else None


def _columns_of(records: list[dict[str, Any]], bare_nan: bool = True
                ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Records to one array per key, keys in first-seen order: float64 where every value is a
    number (a missing key NaN), else an object array for ``_split_columns`` (a missing key
    None). Also the rows of float columns logged as a bare NaN literal, looked for only when
    ``bare_nan`` (object columns: ``_split_object_column`` finds them)."""
    keys: dict[str, None] = {}
    for rec in records:
        for k in rec:
            if k not in keys:
                keys[k] = None
    columns = {}
    nan_rows: dict[str, np.ndarray] = {}
    nan = math.nan
    for k in keys:
        values = [rec.get(k, nan) for rec in records]
        types = set(map(type, values))
        if types <= _NUMBER_TYPES:
            try:
                columns[k] = np.array(values, dtype=np.float64)
            except OverflowError:         # an int beyond float range: the careful way below
                pass
            else:
                if bare_nan and float in types:
                    mask = _logged_nan(records, k, columns[k])
                    if mask is not None:
                        nan_rows[k] = mask
                continue
        col = np.empty(len(values), dtype=object)
        col[:] = [rec.get(k) for rec in records]     # missing: None, so a NaN here was logged
        columns[k] = col
    return columns, nan_rows


def _split_columns(columns: dict[str, np.ndarray], n_rows: int, lines: np.ndarray, path: str,
                   index_key: str, nan_rows: dict[str, np.ndarray] | None = None) -> Parsed:
    """Numeric columns to float64, text values out to ``text``; rows without a usable index
    value (``_step`` for metrics, ``_time`` for system samples) dropped with a Problem.
    ``nan_rows``: per key, the rows where it was logged as NaN (they become ``nan_at``)."""
    problems: list[Problem] = []
    if not n_rows:
        return Parsed(pd.DataFrame(), problems=problems)
    numeric: dict[str, np.ndarray] = {}
    text_rows: dict[str, list[int]] = {}
    raw_text: dict[str, np.ndarray] = {}
    nan_rows = dict(nan_rows or {})
    for name, values in columns.items():
        if values.dtype == object:
            nums, rows, nan_at = _split_object_column(values)
            if nan_at:
                mask = np.zeros(n_rows, dtype=bool)
                mask[nan_at] = True
                nan_rows[name] = mask
            if rows:
                text_rows[name] = rows
                raw_text[name] = values
            if len(rows) < len(values) and not (rows and np.isnan(nums).all()):
                numeric[name] = nums
        else:
            numeric[name] = values.astype(np.float64, copy=False)

    index = numeric.get(index_key)
    big = None
    if index is None:
        bad = np.ones(n_rows, dtype=bool)
    else:
        bad = ~np.isfinite(index)
        if index_key == STEP:
            with np.errstate(invalid="ignore"):
                # not a step count a float holds exactly; the logger refuses to write these
                big = np.abs(index) > float(schema.MAX_STEP)
            bad |= big
    if index_key in text_rows:
        # A text _step is not a step: those rows are dropped like missing ones.
        bad[text_rows.pop(index_key)] = True
        raw_text.pop(index_key, None)
    if bad.any():
        for row in np.flatnonzero(bad)[:1000]:
            why = (f"{index_key} above 2**53 (not exact as a number); record skipped"
                   if big is not None and big[row] else f"no usable {index_key}; record skipped")
            problems.append(Problem(path, int(lines[row]), why))
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
    nan_at: dict[str, np.ndarray] = {}
    for name, mask in nan_rows.items():
        if name in numeric and name not in (STEP, TIME):
            at = index_values[mask & keep]
            if len(at):
                nan_at[name] = at.astype(np.int64) if index_key == STEP else at
    if bad.any():
        numeric = {k: v[keep] for k, v in numeric.items()}
    if index_key == STEP:
        # Steps are whole numbers; stored as int64 here so the cached frame and the Run's
        # frame can share memory (no conversion copy per read).
        numeric[STEP] = numeric[STEP].astype(np.int64)
    return Parsed(pd.DataFrame(numeric), text, first_line, problems, nan_at=nan_at)


# ---------------------------------------------------------------------------------------------
# The final frame: what a Run holds
# ---------------------------------------------------------------------------------------------

def finalize(parsed: Parsed, key: str) -> Parsed:
    """Bring ``parsed.frame`` to its final form once (one row per ``key`` value, sorted, index
    keys first, ``_time`` present for metrics), settle ``nan_at`` and note each column's last
    logged value (NaN when the key's last logged step was a NaN)."""
    if parsed.final or not parsed.rows:
        return parsed
    frame = _one_row_per_key(parsed.frame, key)
    if key == STEP and TIME not in frame.columns:
        frame[TIME] = np.nan
    frame = _index_first(frame)
    if key == STEP and frame[STEP].dtype != np.int64:
        frame[STEP] = frame[STEP].astype(np.int64)
    index = frame[key].to_numpy() if key in frame.columns else None
    nan_at: dict[str, np.ndarray] = {}
    last: dict[str, float] = {}
    for name in frame.columns:
        if name in (STEP, TIME):
            continue
        values = frame[name].to_numpy()
        seen = np.flatnonzero(~np.isnan(values))
        at = parsed.nan_at.get(name)
        if at is not None and len(at) and index is not None:
            # a step that also holds a number keeps the number (one value per step)
            at = np.unique(at)
            at = at[~np.isin(at, index[seen])]
            if len(at):
                nan_at[name] = at
        if len(seen) and (name not in nan_at or nan_at[name][-1] < index[seen[-1]]):
            last[name] = float(values[seen[-1]])
        elif name in nan_at:
            last[name] = math.nan
    parsed.frame, parsed.last_values, parsed.nan_at, parsed.final = frame, last, nan_at, True
    return parsed


def _one_row_per_key(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    if not len(frame) or key not in frame.columns:
        return frame
    col = frame[key].to_numpy()
    if len(col) < 2 or bool((col[1:] > col[:-1]).all()):     # strictly increasing: as is
        index = frame.index
        if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
            return frame                                  # (a reset would copy every column)
        return frame.reset_index(drop=True)
    frame = frame.sort_values(key, kind="stable")
    if not frame[key].is_unique:
        frame = frame.groupby(key, sort=True, as_index=False).last()
    return frame.reset_index(drop=True)


def _index_first(frame: pd.DataFrame) -> pd.DataFrame:
    first = [c for c in (STEP, TIME) if c in frame.columns]
    if list(frame.columns[:len(first)]) == first:
        return frame
    return frame[first + [c for c in frame.columns if c not in first]]
