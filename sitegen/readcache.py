"""Incremental reading with byte offsets: per file, how far it was read and what was parsed, so
a rebuild parses only bytes it has not seen.

Invariants:
- A JSONL entry's ``offset`` is just past the last ``\\n`` consumed. Bytes after it (a record
  still being written) are never cached: each read returns them as the torn tail.
- A cached file is trusted only while its device and inode match. Same size and mtime: nothing
  is parsed. Grown, with the ``tail_check`` bytes before ``offset`` unchanged: only the new
  complete lines are parsed, numbered on from ``lines``. Anything else (shrunk, replaced,
  rewritten in place): read again from the start.
- A cache is only ever a shortcut: a missing, corrupt or other-layout cache file loads as an
  empty cache, never an error; ``save`` replaces the file atomically.
- Pickles name classes by module path. Caches written before this module existed name
  ``runpages.sitegen.reader.FileEntry``; ``load`` maps that to ``FileEntry`` here, so they still load.
- ``read_json_file`` never raises for bad input or an unreadable file: it returns None and adds
  a ``Problem``. ``read_jsonl`` leaves ``OSError`` to its caller.
"""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable

from runpages import schema
from runpages.sitegen import jsonl, jsonsafe, limits
from runpages.sitegen.jsonl import Parsed, Problem, json_error_reason, merge_parsed


@dataclass
class FileEntry:
    dev: int
    ino: int
    size: int                 # size when last read
    mtime_ns: int
    offset: int               # bytes consumed: up to and including the last "\n"
    lines: int                # complete lines consumed
    tail_check: bytes         # the bytes just before ``offset``, to spot a replaced file
    value: Any                # Parsed for JSONL files; (value, problems) for JSON files


# Where classes in a cache pickle lived before they moved here.
_MOVED = {("runpages.sitegen.reader", "FileEntry"): FileEntry}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        moved = _MOVED.get((module, name))
        return moved if moved is not None else super().find_class(module, name)


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
                data = _Unpickler(f).load()
            if (isinstance(data, dict) and data.get("layout") == cls._layout()
                    and isinstance(data.get("entries"), dict)
                    and all(isinstance(e, FileEntry) for e in data["entries"].values())):
                cache.entries = data["entries"]
        except Exception:  # noqa: BLE001 - any unreadable cache is simply an empty one
            pass
        return cache

    def save(self, path: str | Path) -> None:
        """Write atomically: temp file in the same folder, then ``os.replace``."""
        from runpages.sitegen.atomic import atomic_file

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

# parse(chunk, display, first_line, index_key, counter) -> Parsed, as ``jsonl.parse_chunk``.
ParseChunk = Callable[..., Parsed]


def read_jsonl(path: Path, index_key: str, cache: ReadCache | None, display: str,
               parse: ParseChunk | None = None) -> tuple[Parsed, bytes, int]:
    """A JSONL file's complete lines (parsed), its torn tail (bytes after the last "\\n")
    and the number of complete lines. ``parse`` defaults to ``jsonl.parse_chunk``;
    ``runpages.sitegen.reader.read_jsonl`` passes its own, which applies its fast-path thresholds.
    Reads at most ``limits.MAX_JSONL_BYTES`` of the file; a line longer than
    ``limits.MAX_LINE_BYTES`` is skipped with a Problem, never held in memory whole."""
    if parse is None:
        parse = jsonl.parse_chunk
    st = path.stat()
    key = str(path)
    end = min(st.st_size, limits.MAX_JSONL_BYTES)
    entry = cache.get(key) if cache is not None else None
    counter = cache.count if cache is not None else None
    if entry is not None and (entry.dev, entry.ino) == (st.st_dev, st.st_ino):
        if entry.size == st.st_size and entry.mtime_ns == st.st_mtime_ns:
            tail = limits.read_lines(path, entry.offset, end, st.st_size).tail \
                if end > entry.offset else b""
            return entry.value, tail, entry.lines
        if st.st_size >= entry.offset and _prefix_unchanged(path, entry):
            got = limits.read_lines(path, entry.offset, end, st.st_size)
            new = _parse(got, parse, display, entry.lines + 1, index_key, counter)
            parsed = merge_parsed([entry.value, new]) if got.data else entry.value
            lines = entry.lines + got.data.count(b"\n")
            offset = entry.offset + got.consumed
            cache.entries[key] = FileEntry(
                st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, offset, lines,
                _tail_bytes(got.data, entry.tail_check) if not got.long_lines
                else _read_range(path, max(0, offset - _TAIL_CHECK), offset), parsed)
            return parsed, got.tail, lines
    got = limits.read_lines(path, 0, end, st.st_size)
    parsed = _parse(got, parse, display, 1, index_key, counter)
    lines = got.data.count(b"\n")
    if cache is not None:
        offset = got.consumed
        check = got.data[-_TAIL_CHECK:] if not got.long_lines \
            else _read_range(path, max(0, offset - _TAIL_CHECK), offset)
        cache.entries[key] = FileEntry(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                       offset, lines, check, parsed)
    return parsed, got.tail, lines


def _parse(got: "limits.Lines", parse: ParseChunk, display: str, first_line: int,
           index_key: str, counter) -> Parsed:
    """Parse the complete lines read; lines skipped for length get their Problem here."""
    parsed = parse(got.data, display, first_line, index_key, counter) if got.data \
        else Parsed.empty()
    if got.long_lines:
        parsed.problems[:0] = [Problem(display, first_line + i, limits.long_line())
                               for i in got.long_lines]
    return parsed


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
    value = None
    data = b""
    if st.st_size > limits.MAX_JSON_BYTES:
        found.append(Problem(display, None, limits.too_big(st.st_size, limits.MAX_JSON_BYTES)))
    else:
        data = path.read_bytes()
    if found:
        pass
    elif not data.strip():
        found.append(Problem(display, None, "empty file"))
    else:
        try:
            value, repaired = jsonsafe.decode(data, jsonsafe.loads)
            if repaired:
                found.append(Problem(display, None, jsonsafe.SURROGATES))
        except UnicodeDecodeError:
            found.append(Problem(display, None, "not valid UTF-8 text"))
        except json.JSONDecodeError as err:
            found.append(Problem(display, err.lineno, json_error_reason(err, data)))
        except jsonsafe.TooDeep as err:
            found.append(Problem(display, None, str(err)))
    problems.extend(found)
    if cache is not None:
        cache.entries[key] = FileEntry(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                       len(data), 0, b"", (value, found))
    return value
