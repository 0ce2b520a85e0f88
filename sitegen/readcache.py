"""Incremental reading with byte offsets: per file, how far it was read and what was parsed, so
a rebuild parses only bytes it has not seen.

Invariants:
- A JSONL entry's ``offset`` is just past the last ``\\n`` consumed. Bytes after it (a record
  still being written) are never cached: each read returns them as the torn tail.
- A cached file is trusted only while its device and inode match. Same size and mtime: nothing
  is parsed. Grown, with the ``tail_check`` bytes before ``offset`` unchanged: only the new
  complete lines are parsed, numbered on from ``lines``. Anything else (shrunk, replaced,
  rewritten in place): read again from the start.
- A cache is a folder: ``shards/``, a few JSON files per project folder (``shard_of``: a header
  line naming its keys and frame files, then its entries: offsets, parsed text values,
  Problems), and one Arrow IPC file per parsed frame. A load reads only the headers; a shard's
  entries are parsed when one of its keys is asked for; a save rewrites only shards that moved.
  Nothing is unpickled or executed on load: the folder may sit where others can write. A
  missing, corrupt, truncated or other-layout cache (or shard) loads as an empty one (or
  without the entries that do not read back), never an error; ``save`` lands every file by temp
  name + rename, the shards last, and writes only frames it does not hold yet.
  A loaded entry stays the JSON it was read as until it is asked for (``_Entries``).
- ``read_json_file`` never raises for bad input or an unreadable file: it returns None and adds
  a ``Problem``. ``read_jsonl`` leaves ``OSError`` to its caller.
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable

from runpages import schema
from runpages.sitegen import jsonl, jsonsafe, limits
from runpages.sitegen.jsonl import Parsed, Problem, json_error_reason, merge_parsed
from runpages.sitegen.lazyframe import FrameFacts, frame_facts


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

    def holds(self, st: os.stat_result) -> bool:
        """True while the file is as it was read: same device, inode, size and mtime."""
        return (self.dev, self.ino, self.size, self.mtime_ns) == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


SHARD_BUCKETS = 16        # shards per project folder: a 3,000-run project's rebuild opens ~200 runs' entries


def folder_of(key: str) -> str:
    """The parent of a file's run folder: its project folder (for a file one folder deeper in
    a run, the run folder). Keys are ``str(Path)``, normalised: ``dirname`` twice."""
    return key.rpartition(os.sep)[0].rpartition(os.sep)[0]


def shard_of(key: str) -> str:
    """The group a file's entry is kept with: its project folder (``folder_of``) and one of
    ``SHARD_BUCKETS`` buckets by run folder name, so the files of a run share a group and a
    rebuild that reads a few runs of a large project loads and writes a few small shards."""
    run_dir = key.rpartition(os.sep)[0]
    folder, _, name = run_dir.rpartition(os.sep)
    bucket = zlib.crc32(name.encode("utf-8", "surrogatepass")) % SHARD_BUCKETS
    return f"{folder}{os.sep}#{bucket:x}"


def _shard_name(group: str) -> str:
    digest = hashlib.blake2b(group.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return digest + ".json"


class _Shard:
    """One group's file in ``SHARDS_DIR``: its header (keys, frame files) read at load, its
    entries only when one of them is asked for."""

    def __init__(self, path: Path, keys: set[str], frames: list[str]):
        self.path, self.keys, self.frames = path, keys, frames


class _Entries(MutableMapping):
    """Key -> ``FileEntry``, kept in one shard file per group (``shard_of``). A loaded cache
    parses a shard's entries only when one of its keys is asked for, and keeps each entry as
    the JSON it read until the entry itself is asked for: a rebuild that reads a few runs
    converts a few entries and rewrites only their groups' shards. ``changes`` counts entries
    put or removed (a build saves when it moved)."""

    def __init__(self, folder: Path | None = None, shards: dict[str, _Shard] | None = None):
        self.done: dict[str, FileEntry] = {}
        self.raw: dict[str, dict] = {}            # read from a shard, not converted yet
        self.folder = folder
        self.changes = 0
        self.shards: dict[str, _Shard] = shards or {}      # group -> its file, entries not read yet
        self.clean: dict[str, _Shard] = {}                  # group -> its file, read, unchanged since
        self.dirty: set[str] = set()                        # groups whose file must be rewritten

    def _open(self, key: str) -> str:
        """Read the shard of ``key``'s group if it is still unread; returns the group."""
        group = shard_of(key)
        self._open_group(group)
        return group

    def _open_group(self, group: str) -> None:
        shard = self.shards.pop(group, None)
        if shard is not None:
            raw = _read_shard(shard.path, group)
            if raw is None:                     # gone or torn since load: its files are read again
                self.dirty.add(group)
            else:
                for k, v in raw.items():
                    self.raw.setdefault(k, v)
                self.clean[group] = shard

    def _changed(self, group: str) -> None:
        self.changes += 1
        self.dirty.add(group)
        self.clean.pop(group, None)

    def __getitem__(self, key: str) -> FileEntry:
        try:
            return self.done[key]
        except KeyError:
            pass
        group = self._open(key)
        raw = self.raw.pop(key)                 # KeyError: not held
        try:
            entry = self.done[key] = entry_from_json(raw, self.folder)
        except Exception:  # noqa: BLE001 - one bad entry: that file is read again
            self._changed(group)
            raise KeyError(key) from None
        return entry

    def __setitem__(self, key: str, entry: FileEntry) -> None:
        group = self._open(key)
        self.raw.pop(key, None)
        self.done[key] = entry
        self._changed(group)

    def holds(self, key: str, st: os.stat_result) -> bool:
        """``FileEntry.holds`` for ``key``, without converting an entry still held as JSON."""
        entry = self.done.get(key)
        if entry is not None:
            return entry.holds(st)
        shard = self.shards.get(shard_of(key))
        if shard is not None and key not in shard.keys:      # not in its unread shard: not held
            return False
        self._open(key)
        raw = self.raw.get(key)
        try:
            return raw is not None and (raw["dev"], raw["ino"], raw["size"], raw["mtime_ns"]) == (
                st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        except (KeyError, TypeError):
            return False

    def _listed(self, key: str) -> bool:
        shard = self.shards.get(shard_of(key))
        return shard is not None and key in shard.keys

    def load_all(self) -> None:
        """Read every shard and convert every entry still held as JSON (those that do not
        convert are dropped)."""
        for group in list(self.shards):
            self._open_group(group)
        for key in list(self.raw):
            try:
                self[key]
            except KeyError:
                pass

    def unload(self) -> None:
        """Let go of every entry whose group's file holds it as it is (after a save): the
        group is read again, from its file, when one of its keys is next asked for."""
        for group, shard in list(self.clean.items()):
            for key in shard.keys:
                self.done.pop(key, None)
                self.raw.pop(key, None)
            self.shards[group] = shard
        self.clean.clear()

    def swap(self, key: str, entry: FileEntry) -> None:
        """The same entry in another form (its stored one): not a change."""
        self.done[key] = entry

    def __delitem__(self, key: str) -> None:
        group = self._open(key)
        if key in self.done:
            del self.done[key]
        else:
            del self.raw[key]
        self._changed(group)

    def __contains__(self, key: object) -> bool:
        return key in self.done or key in self.raw or (isinstance(key, str) and self._listed(key))

    def __iter__(self):
        yield from list(self.done)
        yield from list(self.raw)
        for shard in list(self.shards.values()):
            yield from shard.keys

    def __len__(self) -> int:
        return len(self.done) + len(self.raw) + sum(len(s.keys) for s in self.shards.values())


class ReadCache:
    """Byte offsets and parsed rows per file, so a rebuild reads only what changed.

    ``parsed_bytes`` counts the bytes handed to a JSONL parser since the cache was made or
    loaded (tests and the benchmark use it to see that only new bytes were parsed)."""

    # 3: a folder of JSON + Arrow IPC (no pickle); 4: NaN steps kept; 5: frame facts, lazy frames;
    # 6: one index shard per project folder; 7: SHARD_BUCKETS shards per project folder
    VERSION = 7

    @classmethod
    def _layout(cls) -> tuple:
        """Changes whenever the cached classes change shape, so an old cache is never misread."""
        return (cls.VERSION, schema.SCHEMA_VERSION, tuple(f.name for f in fields(FileEntry)),
                tuple(f.name for f in fields(Parsed)))

    def __init__(self) -> None:
        self.entries: _Entries = _Entries()
        self.parsed_bytes = 0
        self.seen: set[str] = set()     # files looked up since made/loaded (see ``prune``)

    def count(self, nbytes: int) -> None:
        self.parsed_bytes += nbytes

    def get(self, key: str) -> FileEntry | None:
        self.seen.add(key)
        return self.entries.get(key)

    @classmethod
    def load(cls, path: str | Path) -> "ReadCache":
        """The cache in folder ``path``; an empty one if it is missing, corrupt or from another
        version (a cache is only ever a shortcut, never a reason to fail). Only each shard's
        header is read here; an entry that does not read back (its shard torn, its frame file
        gone) is left out when it is asked for, and that file is simply parsed again."""
        folder = Path(path)
        stamp = _stamp(folder)
        kept = _LAST_SAVED.get(str(folder))
        if kept is not None and stamp is not None and kept[0] == stamp:
            kept[1].seen, kept[1].parsed_bytes = set(), 0   # what this process saved there last
            return kept[1]
        cache = cls()
        shards: dict[str, _Shard] = {}
        try:
            names = sorted(os.listdir(folder / SHARDS_DIR))
        except OSError:
            return cache
        whole = True
        for name in names:
            got = _read_header(folder / SHARDS_DIR / name) if name.endswith(".json") else None
            if got is None or _shard_name(got[0]) != name:
                whole = False                  # rewritten (or removed) at the next save
                continue
            group, keys, frames = got
            shards[group] = _Shard(folder / SHARDS_DIR / name, keys, frames)
        cache.entries = _Entries(folder, shards)
        if stamp is not None and whole:
            # What the folder holds: a long-lived process's next build need not read it again
            # (the first change after ``serve`` starts; a no-change build saves nothing).
            _LAST_SAVED[str(folder)] = (stamp, cache)
        return cache

    def unload(self) -> None:
        """``_Entries.unload``: hold only what is not on disk as it is."""
        self.entries.unload()

    def save(self, path: str | Path) -> None:
        """Write the folder ``path``: for each group that changed, its new frame files, then its
        shard (atomically); then remove frame and shard files nothing names any more."""
        from runpages.sitegen.atomic import write_atomic

        folder = Path(path)
        (folder / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
        entries = self.entries
        if entries.folder not in (None, folder):
            entries.load_all()                   # entries of another folder: convert (and so copy) them
            entries.dirty.update(shard_of(k) for k in entries)
            entries.clean.clear()
        # One group at a time, its texts made, written and let go: a cold build's cache is
        # never held a second time as text.
        keys: dict[str, tuple[list[str], list[str]]] = {g: ([], []) for g in entries.dirty}
        for key in entries.done:
            got = keys.get(shard_of(key))
            if got is not None:
                got[0].append(key)
        for key in entries.raw:                            # never asked for: written back as read
            got = keys.get(shard_of(key))
            if got is not None:
                got[1].append(key)
        left_out = 0
        for group, (done_keys, raw_keys) in keys.items():
            texts: dict[str, str] = {}
            frames: list[str] = []
            for key in done_keys:
                entry = entries.done[key]
                text = self.store(key, folder)
                if text is None:                            # an entry that cannot be written is left out
                    left_out += 1
                    continue
                texts[key] = text
                if isinstance(entry.value, Parsed):
                    frames.append(_frame_name(key, entry))
            for key in raw_keys:
                raw = entries.raw[key]
                texts[key] = json.dumps(raw)
                if raw.get("kind") == "jsonl" and isinstance(raw.get("frame"), str):
                    frames.append(raw["frame"])
            target = folder / SHARDS_DIR / _shard_name(group)
            if not texts:
                target.unlink(missing_ok=True)
                continue
            header = json.dumps({"layout": self._layout(), "group": group, "keys": list(texts),
                                 "frames": frames})
            body = ",".join(f"{json.dumps(k)}:{v}" for k, v in texts.items())
            write_atomic(target, f"{header}\n{{{body}}}")
            entries.clean[group] = _Shard(target, set(texts), frames)
        entries.dirty.clear()
        entries.folder = folder
        shard_names = {_shard_name(g) for g in list(entries.clean) + list(entries.shards)}
        keep = {f for s in list(entries.clean.values()) + list(entries.shards.values()) for f in s.frames}
        stale = [folder / SHARDS_DIR / n for n in os.listdir(folder / SHARDS_DIR) if n not in shard_names]
        for leftover in stale + [folder / _OLD_INDEX_FILE]:     # and the single index of layout 5
            try:
                leftover.unlink(missing_ok=True)
            except OSError:                  # e.g. a folder someone put there: left alone
                pass
        if not left_out:           # all of it is on disk: the next load may reuse it
            _LAST_SAVED[str(folder)] = (_stamp(folder), self)
        for name in os.listdir(folder):
            if name not in keep and name.endswith(FRAME_SUFFIX):
                try:
                    os.unlink(folder / name)
                except OSError:
                    pass

    def store(self, key: str, folder: Path) -> str | None:
        """Write entry ``key``'s frame into ``folder`` (once) and return the entry's JSON text
        for its shard; the entry in memory becomes its stored form, holding none of its
        points (a cache kept for the next build, or a build worker's, stays small). None when
        it cannot be written (then that file is simply parsed again)."""
        entry = self.entries[key]
        try:
            text = json.dumps(_entry_to_json(key, entry, folder), default=json_default)
        except Exception:  # noqa: BLE001 - e.g. JSON nested too deep, a column Arrow refuses
            return None
        if isinstance(entry.value, Parsed) and not isinstance(entry.value, StoredParsed):
            self.entries.swap(key, entry_from_json(json.loads(text), folder))
        return text

    def prune(self, keep: Iterable[str] = (), keep_groups: Iterable[str] = ()) -> None:
        """Forget files that are neither in ``keep`` nor looked up by the last ``read_runs``
        (or since the cache was made or loaded), so deleted runs leave the cache; the copy of
        a run that lost to another folder's copy stays, so it is not parsed again next time.
        ``keep_groups``: folders whose runs were not read (kept by the build) keep theirs."""
        keep = self.seen | set(keep)
        groups = set(keep_groups)

        def kept(key: str) -> bool:
            folder = folder_of(key)              # a file in a run folder, or one folder deeper
            return folder in groups or folder.rpartition(os.sep)[0] in groups

        for key in [k for k in self.entries if k not in keep and not (groups and kept(k))]:
            del self.entries[key]


# A long-lived process (serve --watch) loads the cache it saved (or loaded) a moment ago: keep that object
# and hand it back while the shards are the very files it wrote (same names, inodes, sizes, mtimes). One
# object per folder. A build that failed after changing it leaves only entries that are true
# of the files as they are now (an entry is keyed by the file's stat), so reusing it is safe.
_LAST_SAVED: dict[str, tuple[tuple, "ReadCache"]] = {}


def _stamp(folder: Path) -> tuple | None:
    """Every shard file's name and stat: changes when anyone rewrites one."""
    shards = folder / SHARDS_DIR
    try:
        out = []
        with os.scandir(shards) as it:
            for item in it:
                st = item.stat()
                out.append((item.name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    except OSError:
        return None
    return tuple(sorted(out))


def _header(head: Any) -> tuple[str, set[str], list[str]] | None:
    """(group, keys, frame files) of a shard's header line of this layout; None for anything else."""
    if not (isinstance(head, dict) and head.get("layout") == _layout_json()):
        return None
    group, keys, frames = head.get("group"), head.get("keys"), head.get("frames")
    if (isinstance(group, str) and isinstance(keys, list) and isinstance(frames, list)
            and all(isinstance(k, str) and shard_of(k) == group for k in keys)
            and all(isinstance(n, str) for n in frames)):
        return group, set(keys), frames
    return None


def _layout_json() -> list:
    """``ReadCache._layout()`` as it reads back from JSON (lists, not tuples)."""
    return json.loads(json.dumps(ReadCache._layout()))


def _read_header(path: Path) -> tuple[str, set[str], list[str]] | None:
    """The header of a shard file (``_header``); None when it does not read back."""
    try:
        with open(path, "rb") as f:
            return _header(json.loads(f.readline()))
    except Exception:  # noqa: BLE001 - any unreadable shard is simply not there
        return None


def _read_shard(path: Path, group: str) -> dict[str, dict] | None:
    """The entries (as JSON) of a shard file of ``group``; None when it does not read back."""
    try:
        with open(path, "rb") as f:
            head = _header(json.loads(f.readline()))
            body = json.loads(f.read())
    except Exception:  # noqa: BLE001 - torn or replaced since load
        return None
    if head is None or head[0] != group or not isinstance(body, dict):
        return None
    return {k: v for k, v in body.items() if isinstance(v, dict) and shard_of(k) == group}


_TAIL_CHECK = 64
SHARDS_DIR = "shards"             # one JSON file per group (``shard_of``): header line, then entries
_OLD_INDEX_FILE = "index.json"
FRAME_SUFFIX = ".arrow"


def json_default(value: Any) -> Any:
    """``json.dumps(default=)`` for the cache's files: numpy scalars (index values, last
    values) as JSON numbers; anything else cannot be written."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__}")


def problems_to_json(problems: list[Problem]) -> list:
    return [[p.path, p.line, p.reason] for p in problems]


def problems_from_json(raw: list) -> list[Problem]:
    return [Problem(str(path), line if isinstance(line, int) else None, str(reason))
            for path, line, reason in raw]


def _frame_name(key: str, entry: FileEntry) -> str:
    """Names what the frame holds, so an unchanged entry's frame is never written twice."""
    ident = f"{key}\0{entry.dev}\0{entry.ino}\0{entry.size}\0{entry.mtime_ns}\0{entry.offset}\0{entry.value.final}"
    return hashlib.sha1(ident.encode("utf-8", "surrogatepass")).hexdigest()[:24] + FRAME_SUFFIX


_PLAIN = {b"runpages": b"plain"}      # schema metadata: columns only, RangeIndex, numeric


def _plain_frame(frame) -> bool:
    """Numeric columns with unique text names over a 0..n index: the common case, written and
    read column by column (no pandas metadata, no conversion threads)."""
    import pandas as pd

    index = frame.index
    return (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and frame.columns.is_unique and all(isinstance(c, str) for c in frame.columns)
            and all(dt.kind in "fiub" for dt in frame.dtypes))


def _write_frame(path: Path, frame) -> None:
    import pyarrow as pa

    from runpages.sitegen.atomic import atomic_file

    if _plain_frame(frame):
        table = pa.table({c: pa.array(frame[c].to_numpy()) for c in frame.columns}, metadata=_PLAIN)
        if not frame.columns.size:
            table = pa.table({}, metadata={**_PLAIN, b"rows": str(len(frame)).encode()})
    else:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    with atomic_file(path) as f:
        with pa.ipc.new_file(f, table.schema) as writer:
            writer.write_table(table)


class StoredParsed(Parsed):
    """A cached ``Parsed`` whose frame stays in its Arrow file until something reads it; its
    ``facts`` (``lazyframe.FrameFacts``) are known without it. The frame is read afresh at
    each use, not kept: a long-lived process's cache holds no run's points."""

    def __init__(self, path: Path, facts: FrameFacts, *rest):
        self._path, self.facts, self._frame = path, facts, None
        super().__init__(None, *rest)

    @property
    def frame(self):
        return self._frame if self._frame is not None else _read_frame(self._path)

    @frame.setter
    def frame(self, value) -> None:
        self._frame = value
        if value is not None:                   # finalize() replaced it: facts follow
            self.facts = frame_facts(value)

    @property
    def rows(self) -> int:
        return self.facts.rows


def _read_frame(path: Path):
    import pyarrow as pa

    # One read() into memory: cheaper than a memory map for files this size, and the frame
    # copies its columns out anyway (it must own them).
    table = pa.ipc.open_file(pa.py_buffer(path.read_bytes())).read_all()
    return _to_frame(table)


def _to_frame(table):
    """The pandas frame of an Arrow table, owning its memory."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    meta = table.schema.metadata or {}
    if meta.get(b"runpages") != b"plain":
        return table.to_pandas()
    if not table.num_columns:
        return pd.DataFrame(index=pd.RangeIndex(int(meta.get(b"rows", b"0"))))
    # Copies: the frame must own writable arrays, not views of the mapped file. All float64
    # (the usual case): one 2-D block, as the parser makes it, without per-column work.
    if all(t == pa.float64() for t in table.schema.types):
        block = np.empty((table.num_rows, table.num_columns), dtype=np.float64, order="F")
        for i, col in enumerate(table.columns):
            block[:, i] = col.to_numpy()
        return pd.DataFrame(block, columns=table.column_names, copy=False)
    # From a dict pandas copies each column into its blocks: no copy of ours needed.
    frame = pd.DataFrame({name: col.to_numpy() for name, col in zip(table.column_names, table.columns)},
                         copy=True)
    return frame


def _entry_to_json(key: str, entry: FileEntry, folder: Path) -> dict:
    raw: dict[str, Any] = {"dev": entry.dev, "ino": entry.ino, "size": entry.size,
                           "mtime_ns": entry.mtime_ns, "offset": entry.offset, "lines": entry.lines,
                           "tail_check": entry.tail_check.hex()}
    value = entry.value
    if isinstance(value, Parsed):
        name = _frame_name(key, entry)
        if not (folder / name).exists():
            _write_frame(folder / name, value.frame)
        facts = value.facts if isinstance(value, StoredParsed) else frame_facts(value.frame)
        raw.update(kind="jsonl", frame=name, facts=facts.to_json(), text={k: [list(t) for t in v] for k, v in value.text.items()},
                   text_first_line=value.text_first_line, problems=problems_to_json(value.problems),
                   final=value.final, last_values=value.last_values,
                   nan_at={k: v.tolist() for k, v in value.nan_at.items()})
    else:
        json_value, problems = value
        raw.update(kind="json", value=json_value, problems=problems_to_json(problems))
    return raw


def entry_from_json(raw: dict, folder: Path) -> FileEntry:
    """An entry as ``ReadCache.store`` wrote it; raises ValueError (or KeyError) for anything else."""
    if raw["kind"] == "jsonl":
        name = str(raw["frame"])
        if "/" in name or "\\" in name or not name.endswith(FRAME_SUFFIX):
            raise ValueError("not a frame file name")
        if not (folder / name).is_file():
            raise ValueError("frame file missing")
        value: Any = StoredParsed(folder / name, FrameFacts.from_json(raw["facts"]),
                            {str(k): [tuple(t) for t in v] for k, v in raw["text"].items()},
                            {str(k): int(v) for k, v in raw["text_first_line"].items()},
                            problems_from_json(raw["problems"]), bool(raw["final"]),
                            {str(k): float(v) for k, v in raw["last_values"].items()},
                            {str(k): _index_array(v) for k, v in raw["nan_at"].items()})
    elif raw["kind"] == "json":
        value = (raw["value"], problems_from_json(raw["problems"]))
    else:
        raise ValueError("unknown entry kind")
    return FileEntry(int(raw["dev"]), int(raw["ino"]), int(raw["size"]), int(raw["mtime_ns"]),
                     int(raw["offset"]), int(raw["lines"]), bytes.fromhex(raw["tail_check"]), value)

def _index_array(values: list):
    """Steps (whole numbers) as int64, times as float64: as the parser made them."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind not in "if":
        raise ValueError("not index values")
    return arr

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
            try:
                parsed = merge_parsed([entry.value, new]) if got.data else entry.value
            except (OSError, ValueError):          # its frame file is gone or torn: read it all
                del cache.entries[key]
                return read_jsonl(path, index_key, cache, display, parse)
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
    if entry is not None and entry.holds(st):
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
