"""Buffered append-only files and atomic rewrites. Nothing in here raises.

Invariants:
* ``JsonlWriter.append`` puts a string in a list (under a lock): no syscall per record, except
  that once the buffered text passes ``FLUSH_AT_BYTES`` the appending thread writes it at once,
  so a ``kill -9`` after a burst loses at most that much. ``flush()`` (also called every
  ``FLUSH_INTERVAL_S`` by the run's ticker thread, and at finish) writes everything buffered
  with ``os.write`` on an ``O_APPEND`` descriptor.
* A flush and an atomic rewrite run inside ``hooks.signals_held``: a SIGTERM/SIGINT handler
  never runs in the middle of one on the same thread, so bytes are written exactly once.
* A write that fails (disk full, quota) keeps the unwritten bytes and retries at the next
  flush, so a partially written line is completed rather than torn; past ``MAX_PENDING_BYTES``
  the oldest data is dropped with a warning.
* A file whose folder was deleted under the run (``st_nlink == 0``) is recreated and the run
  carries on; what went to the deleted file is gone, and the warning says so.
* Opening a file whose last line is torn (a previous process was killed mid-write) first
  mends it, so appended records never merge with it: a cut-off fragment (never a record the
  reader counted) is cut away, a whole JSON object that only missed its newline gets one.
* ``atomic_write`` lands a whole file by temp name + ``os.replace``: readers never see half.
"""
from __future__ import annotations

import errno
import itertools
import json
import os
import threading
from typing import Callable

from .hooks import signals_held

Warn = Callable[[str, str], None]

MAX_PENDING_BYTES = 64 * 1024 * 1024
MAX_TORN_TAIL = 1 << 20      # how far back a torn last line is looked for when a file is reopened
FLUSH_AT_BYTES = 64 * 1024   # buffered text (characters) that makes append() write at once
_tmp_names = itertools.count()  # unique temp names, even for a write nested by a signal handler


def _describe(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{exc.strerror or exc}" + (f" ({name})" if name else "")


class JsonlWriter:
    """One append-only file fed from memory; ``append`` takes text without its newline."""

    def __init__(self, path: str, warn: Warn, *, newline: bool = True,
                 on_gone: Callable[[], None] | None = None) -> None:
        self.path = path
        self._warn = warn
        self._newline = newline  # False for console text, which carries its own newlines
        self._on_gone = on_gone  # told when the file was found deleted (the folder went)
        self._buf: list[str] = []
        self._buf_chars = 0
        self._lock = threading.RLock()      # guards _buf; re-entrant for signal handlers
        self._io_lock = threading.RLock()   # one writer of the file at a time
        self._fd: int | None = None
        self._pending = b""
        self._closed = False
        self.bytes_written = 0

    def append(self, text: str) -> None:
        with self._lock:
            self._buf.append(text)
            self._buf_chars += len(text)
        if self._buf_chars >= FLUSH_AT_BYTES:
            self.flush()

    def touch(self) -> None:
        """Create the file now so a reader sees it before the first record."""
        with self._io_lock:
            self._ensure_open()

    def flush(self) -> None:
        if self._closed:
            return
        with signals_held, self._io_lock:
            with self._lock:
                buf, self._buf = self._buf, []
                self._buf_chars = 0
            if not buf and not self._pending:
                return
            try:
                if buf:
                    text = "\n".join(buf) + "\n" if self._newline else "".join(buf)
                    data = text.encode("utf-8", "surrogatepass")
                    self._pending = self._pending + data if self._pending else data
                self._write_pending()
            except Exception as exc:  # never raise into training
                self._warn("write:" + type(exc).__name__,
                           f"runpages: could not write {self.path}: {exc}; "
                           "records are kept in memory and retried every second.")

    def after_fork_in_child(self) -> None:
        self._lock = threading.RLock()
        self._io_lock = threading.RLock()
        self._buf = []
        self._buf_chars = 0
        self._pending = b""
        self._closed = True

    def close(self) -> None:
        self.flush()
        with self._io_lock:
            self._closed = True
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except OSError:
                    pass
                self._fd = None

    # ---- internals ------------------------------------------------------------------------
    def _ensure_open(self) -> bool:
        try:
            if self._fd is not None:
                if os.fstat(self._fd).st_nlink > 0:
                    return True
                self._warn("run-dir-gone",
                           f"runpages: {self.path} was deleted while the run was writing it; "
                           "recreated it, records from now on are kept.")
                os.close(self._fd)
                self._fd = None
                if self._on_gone is not None:
                    self._on_gone()
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            self._fd = fd
            self._end_torn_line(fd)
            return True
        except OSError as exc:
            self._warn("open:" + str(exc.errno),
                       f"runpages: could not open {self.path}: {_describe(exc)}; "
                       "records are kept in memory and retried every second.")
            return False

    def _end_torn_line(self, fd: int) -> None:
        if not self._newline:
            return
        try:
            size = os.fstat(fd).st_size
            if not size or os.pread(fd, 1, size - 1) == b"\n":
                return
            start = max(0, size - MAX_TORN_TAIL)
            data = os.pread(fd, size - start, start)
            tail = data[data.rfind(b"\n") + 1:]
            try:
                whole = isinstance(json.loads(tail), dict)
            except ValueError:
                whole = False
            if whole:
                self._pending = b"\n" + self._pending
            elif len(tail) < len(data) or start == 0:
                os.ftruncate(fd, size - len(tail))
            else:
                self._pending = b"\n" + self._pending      # a tail longer than we look at: keep it apart
        except OSError:
            pass  # cannot tell: at worst one torn line stays joined to the next

    def _write_pending(self) -> None:
        if not self._ensure_open():
            self._limit_pending()
            return
        data = self._pending
        view = memoryview(data)
        written = 0
        try:
            while written < len(data):
                n = os.write(self._fd, view[written:])
                if n <= 0:
                    break
                written += n
        except OSError as exc:
            self._warn("write:" + str(exc.errno),
                       f"runpages: could not write {self.path}: {_describe(exc)}; "
                       "records are kept in memory and retried every second.")
        finally:
            self.bytes_written += written
            self._pending = data[written:]
            self._limit_pending()

    def _limit_pending(self) -> None:
        extra = len(self._pending) - MAX_PENDING_BYTES
        if extra > 0:
            # drop whole lines from the front so the file never gets a spliced line
            cut = self._pending.find(b"\n", extra)
            cut = len(self._pending) if cut < 0 else cut + 1
            self._warn("dropped",
                       f"runpages: {self.path} could not be written for a long time; "
                       f"dropped the oldest {cut} bytes of records.")
            self._pending = self._pending[cut:]


def atomic_write(path: str, text: str, warn: Warn,
                 on_gone: Callable[[], None] | None = None) -> bool:
    """Write a whole file by temp name + ``os.replace``; warn and return False on failure.

    ``on_gone`` is called when the folder had been deleted (and was made again)."""
    with signals_held:   # a handler rewriting the same file must not land before this one
        return _atomic_write(path, text, warn, on_gone)


def _atomic_write(path: str, text: str, warn: Warn, on_gone: Callable[[], None] | None) -> bool:
    tmp = f"{path}.tmp{os.getpid()}-{next(_tmp_names)}"
    for attempt in (0, 1):
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
            return True
        except FileNotFoundError:
            if attempt == 0:
                warn("run-dir-gone",
                     f"runpages: the run folder {os.path.dirname(path)} was deleted while the "
                     "run was writing it; recreated it, records from now on are kept.")
                try:
                    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                    if on_gone is not None:
                        on_gone()
                    continue
                except OSError:
                    pass
        except OSError as exc:
            warn("write:" + str(exc.errno),
                 f"runpages: could not write {path}: {_describe(exc)}; "
                 "it will be written again at the next heartbeat or at finish.")
        except Exception as exc:
            warn("write:" + type(exc).__name__,
                 f"runpages: could not write {path}: {exc}; it will be retried later.")
        break
    try:
        os.unlink(tmp)
    except OSError:
        pass
    return False
