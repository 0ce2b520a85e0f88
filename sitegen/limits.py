"""How much of a run folder the build reads: caps per line and per file, and a reader that
keeps to them without holding more than one block of an over-long line in memory.

Invariants:
- A JSONL file is read up to ``MAX_JSONL_BYTES``; what lies past it is not read (the reader
  says so in a Problem). A JSON file (meta, config, summary) past ``MAX_JSON_BYTES`` is not
  read at all.
- A line longer than ``MAX_LINE_BYTES`` is dropped while reading, its newline kept, so later
  lines keep their numbers; its number is returned for a Problem. Memory stays in proportion
  to what is kept, never to a file's claimed size (a sparse 2 GB file of zeros costs one block).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_JSONL_BYTES = 2 * 1024 * 1024 * 1024
MAX_JSON_BYTES = 64 * 1024 * 1024
BLOCK_BYTES = 8 * 1024 * 1024


def _mb(n: int) -> str:
    return f"{n / 2 ** 20:.3g} MB"


LONG_LINE_REASON = "line longer than {}; skipped"


def long_line() -> str:
    return LONG_LINE_REASON.format(_mb(MAX_LINE_BYTES))


def too_big(size: int, cap: int) -> str:
    return f"file is {_mb(size)}, more than the {_mb(cap)} read per file; skipped"


def past_cap(cap: int) -> str:
    return f"file is longer than the {_mb(cap)} read per file; only its first {_mb(cap)} are shown"


# The torn tail returned for a record still being written that is already past the line cap
# (its bytes are not kept); the reader names it in a Problem.
LONG_TAIL = b"\x00runpages: line too long\x00"


@dataclass
class Lines:
    data: bytes = b""              # complete lines, over-long ones emptied (newline kept)
    consumed: int = 0              # file bytes these lines took (past the last newline read)
    tail: bytes = b""              # bytes after the last newline: a record being written
    long_lines: list[int] = field(default_factory=list)   # 0-based line numbers dropped


def read_lines(path: Path, start: int, end: int, size: int | None = None) -> Lines:
    """The lines of ``path`` in bytes ``[start, end)``; ``size``: the file's size, so bytes
    cut off by a cap (``end < size``) are not taken for a torn record."""
    capped = size is not None and end < size
    if end - start <= MAX_LINE_BYTES:
        if start == 0 and not capped:
            raw = path.read_bytes()[:end]       # the whole (small) file
            cut = raw.rfind(b"\n") + 1
            return Lines(raw[:cut], cut, raw[cut:])
        with open(path, "rb") as f:
            f.seek(start)
            raw = f.read(max(0, end - start))
        cut = raw.rfind(b"\n") + 1
        return Lines(raw[:cut], cut, b"" if capped else raw[cut:])
    return _read_blocks(path, start, end, capped)


def _read_blocks(path: Path, start: int, end: int, capped: bool) -> Lines:
    out: list[bytes] = []
    n_lines = 0
    partial: list[bytes] = []      # the line being read, unless it is already too long
    partial_len = 0
    long = False
    got = Lines()
    pos = start
    with open(path, "rb") as f:
        f.seek(start)
        while pos < end:
            block = f.read(min(BLOCK_BYTES, end - pos))
            if not block:
                break
            pos += len(block)
            first = block.find(b"\n")
            if first < 0:
                partial_len += len(block)
                if partial_len > MAX_LINE_BYTES:
                    long, partial = True, []
                elif not long:
                    partial.append(block)
                continue
            # the line in progress ends at ``first``
            partial_len += first
            if long or partial_len > MAX_LINE_BYTES:
                got.long_lines.append(n_lines)
                out.append(b"\n")
            else:
                out.append(b"".join(partial) + block[:first + 1])
            n_lines += 1
            last = block.rfind(b"\n")
            if last > first:       # whole lines, each shorter than a block: kept as they are
                middle = block[first + 1:last + 1]
                out.append(middle)
                n_lines += middle.count(b"\n")
            rest = block[last + 1:]
            partial, partial_len, long = [rest], len(rest), False
            got.consumed = pos - start - len(rest)
    got.data = b"".join(out)
    if long:
        got.tail = LONG_TAIL             # still being written (or cut by the cap), already too long
    elif not capped:
        got.tail = b"".join(partial)
    return got
