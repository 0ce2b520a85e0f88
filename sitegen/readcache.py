"""Incremental reading with byte offsets: per file, how far it was read and what was parsed, so
a rebuild parses only bytes it has not seen.

Invariants:
- A JSONL entry's ``offset`` is just past the last ``\\n`` consumed. Bytes after it (a record
  still being written) are never cached: each read returns them as the torn tail.
- A cached file is trusted only while its device and inode match. Same size and mtime: nothing
  is parsed. Grown, with the ``tail_check`` bytes before ``offset`` unchanged: only the new
  complete lines are parsed, numbered on from ``lines``. Anything else (shrunk, replaced,
  rewritten in place): read again from the start.
- A cache is a folder (outside the site): ``index.json`` (offsets, sizes, inodes per file) and,
  per cached file, a JSON file of its problems and text values plus, for JSONL, its frame as an
  Arrow IPC file. No pickle: a cache folder is only data, so reading one never runs code.
- A cache is only ever a shortcut: a missing, corrupt or other-layout cache (or one entry of
  it) loads as empty, never an error. Entries load when first asked for; ``save`` writes only
  entries that changed, each file atomically, the index last.
- ``read_json_file`` never raises for bad input or an unreadable file: it returns None and adds
  a ``Problem``. ``read_jsonl`` leaves ``OSError`` to its caller.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable

from runpages import schema
from runpages.sitegen import jsonl
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


_NOT_LOADED = object()        # FileEntry.value of an entry whose files are read on first use


class ReadCache:
    """Byte offsets and parsed rows per file, so a rebuild reads only what changed.

    ``parsed_bytes`` counts the bytes handed to a JSONL parser since the cache was made or
    loaded (tests and the benchmark use it to see that only new bytes were parsed)."""

    VERSION = 3

    @classmethod
    def _layout(cls) -> list:
        """Changes whenever the cached classes change shape, so an old cache is never misread."""
        return [cls.VERSION, schema.SCHEMA_VERSION, [f.name for f in fields(FileEntry)],
                [f.name for f in fields(Parsed)]]

    def __init__(self) -> None:
        self.entries: dict[str, FileEntry] = {}
        self.parsed_bytes = 0
        self.seen: set[str] = set()     # files looked up since made/loaded (see ``prune``)
        self._folder: Path | None = None
        self._stored: dict[str, tuple[FileEntry, str]] = {}   # as on disk: entry, kind

    def count(self, nbytes: int) -> None:
        self.parsed_bytes += nbytes

    def get(self, key: str) -> FileEntry | None:
        self.seen.add(key)
        entry = self.entries.get(key)
        if entry is not None and entry.value is _NOT_LOADED:
            try:
                entry.value = _load_value(self._folder, key, self._stored[key][1])
            except Exception:  # noqa: BLE001 - an unreadable entry is simply not cached
                del self.entries[key]
                return None
        return entry

    @classmethod
    def load(cls, folder: str | Path) -> "ReadCache":
        """The cache in ``folder``; an empty one if it is missing, corrupt or from another
        version (a cache is only ever a shortcut, never a reason to fail)."""
        cache = cls()
        cache._folder = Path(folder)
        try:
            index = json.loads((cache._folder / "index.json").read_text(encoding="utf-8"))
            if not isinstance(index, dict) or index.get("layout") != cls._layout():
                return cache
            for key, e in index["entries"].items():
                entry = FileEntry(int(e["dev"]), int(e["ino"]), int(e["size"]), int(e["mtime_ns"]),
                                  int(e["offset"]), int(e["lines"]), bytes.fromhex(e["tail_check"]),
                                  _NOT_LOADED)
                if e["kind"] not in ("jsonl", "json"):
                    raise ValueError(e["kind"])
                cache.entries[key] = entry
                cache._stored[key] = (entry, e["kind"])
        except Exception:  # noqa: BLE001 - any unreadable cache is simply an empty one
            cache.entries, cache._stored = {}, {}
        return cache

    def save(self, folder: str | Path) -> None:
        """Write what changed since ``load``, each file atomically, then the index."""
        from runpages.sitegen.atomic import write_atomic

        folder = Path(folder)
        same = folder == self._folder
        index: dict[str, dict] = {}
        for key, entry in list(self.entries.items()):
            stored = self._stored.get(key) if same else None
            if stored is not None and stored[0] is entry:
                kind = stored[1]
            else:
                if entry.value is _NOT_LOADED:
                    self.get(key)
                    if key not in self.entries:
                        continue
                kind = "jsonl" if isinstance(entry.value, Parsed) else "json"
                try:
                    _save_value(folder, key, entry.value, kind, write_atomic)
                except Exception:  # noqa: BLE001 - a value the cache cannot hold is re-read next time
                    continue
            index[key] = {"dev": entry.dev, "ino": entry.ino, "size": entry.size,
                          "mtime_ns": entry.mtime_ns, "offset": entry.offset, "lines": entry.lines,
                          "tail_check": entry.tail_check.hex(), "kind": kind}
        write_atomic(folder / "index.json", json.dumps({"layout": self._layout(), "entries": index}))
        if same:
            for key in set(self._stored) - set(index):
                for suffix in (".json", ".arrow"):
                    try:
                        os.unlink(_entry_path(folder, key, suffix))
                    except OSError:
                        pass
        self._folder = folder
        self._stored = {k: (self.entries[k], index[k]["kind"]) for k in index}

    def prune(self, keep: Iterable[str] = ()) -> None:
        """Forget files that are neither in ``keep`` nor looked up by the last ``read_runs``
        (or since the cache was made or loaded), so deleted runs leave the cache; the copy of
        a run that lost to another folder's copy stays, so it is not parsed again next time."""
        keep = self.seen | set(keep)
        for key in [k for k in self.entries if k not in keep]:
            del self.entries[key]


def _entry_path(folder: Path, key: str, suffix: str) -> Path:
    name = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return folder / "files" / name[:2] / (name + suffix)


def _problems_out(problems: list[Problem]) -> list:
    return [[p.path, p.line, p.reason] for p in problems]


def _problems_in(rows: list) -> list[Problem]:
    return [Problem(str(path), None if line is None else int(line), str(reason)) for path, line, reason in rows]


def _save_value(folder: Path, key: str, value: Any, kind: str, write_atomic) -> None:
    if kind == "json":
        doc, problems = value
        write_atomic(_entry_path(folder, key, ".json"),
                     json.dumps({"key": key, "value": doc, "problems": _problems_out(problems)}))
        return
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(value.frame, preserve_index=None)
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    write_atomic(_entry_path(folder, key, ".arrow"), sink.getvalue().to_pybytes())
    write_atomic(_entry_path(folder, key, ".json"), json.dumps({
        "key": key, "text": value.text, "text_first_line": value.text_first_line,
        "problems": _problems_out(value.problems), "final": value.final,
        "last_values": value.last_values}))


def _load_value(folder: Path | None, key: str, kind: str) -> Any:
    if folder is None:
        raise FileNotFoundError(key)
    doc = json.loads(_entry_path(folder, key, ".json").read_text(encoding="utf-8"))
    if doc.get("key") != key:
        raise ValueError("entry of another file")
    if kind == "json":
        return doc["value"], _problems_in(doc["problems"])
    import pyarrow as pa

    with pa.memory_map(str(_entry_path(folder, key, ".arrow"))) as source:
        frame = pa.ipc.open_file(source).read_all().to_pandas()
    return Parsed(frame=frame, text={k: [tuple(x) for x in v] for k, v in doc["text"].items()},
                  text_first_line={k: int(v) for k, v in doc["text_first_line"].items()},
                  problems=_problems_in(doc["problems"]), final=bool(doc["final"]),
                  last_values={k: float(v) for k, v in doc["last_values"].items()})


_TAIL_CHECK = 64

# parse(chunk, display, first_line, index_key, counter) -> Parsed, as ``jsonl.parse_chunk``.
ParseChunk = Callable[..., Parsed]


def read_jsonl(path: Path, index_key: str, cache: ReadCache | None, display: str,
               parse: ParseChunk | None = None) -> tuple[Parsed, bytes, int]:
    """A JSONL file's complete lines (parsed), its torn tail (bytes after the last "\\n")
    and the number of complete lines. ``parse`` defaults to ``jsonl.parse_chunk``;
    ``runpages.sitegen.reader.read_jsonl`` passes its own, which applies its fast-path thresholds."""
    if parse is None:
        parse = jsonl.parse_chunk
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
            new = parse(data[:cut], display, entry.lines + 1, index_key, counter) \
                if cut else Parsed.empty()
            parsed = merge_parsed([entry.value, new]) if cut else entry.value
            lines = entry.lines + data.count(b"\n", 0, cut)
            cache.entries[key] = FileEntry(
                st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, entry.offset + cut, lines,
                _tail_bytes(data[:cut], entry.tail_check), parsed)
            return parsed, data[cut:], lines
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    parsed = parse(data[:cut], display, 1, index_key, counter) if cut else Parsed.empty()
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
