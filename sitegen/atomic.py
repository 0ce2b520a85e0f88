"""Files that land whole: write to a temp name in the same folder, then ``os.replace``.

A reader of the site (a browser, a static host's sync, ``serve``) never sees half a file, and a
failed write leaves the old file and no temp file behind. Nothing here writes into an existing
file in place, so a site file that is a hard link to a run's file (``link_atomic``) is only ever
replaced, never changed, and the run's file stays as it was.
"""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def atomic_file(path: str | os.PathLike, exclusive: bool = False) -> Iterator[IO[bytes]]:
    """Open a temp file beside ``path`` for binary writing; it replaces ``path`` on success.

    With ``exclusive`` it lands only where ``path`` does not exist yet, else ``FileExistsError``:
    two writers never overwrite each other's file."""
    path = Path(path)
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        if exclusive:
            os.link(tmp, path)            # fails if the name is taken, atomically
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temp file (mode 0644: site files must be readable by a web server) beside
    ``path``, making its folder only when the first try says it is missing: a build writes
    thousands of files into folders that exist, and a mkdir per file is a system call each."""
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            continue
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, 0o644)        # whatever the umask
        except (AttributeError, OSError):
            pass
        return fd, tmp
    raise FileExistsError(f"no free temp name beside {path}")


def _discard(tmp) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_atomic(path: str | os.PathLike, data: bytes | str, exclusive: bool = False) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole (``exclusive``: see ``atomic_file``)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path, exclusive) as f:
        f.write(data)


def copy_atomic(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy the file ``src`` to ``dest`` whole."""
    with atomic_file(dest) as f, open(src, "rb") as s:
        shutil.copyfileobj(s, f, 1 << 20)


def link_atomic(src: str | os.PathLike, dest: str | os.PathLike) -> bool:
    """Put ``src`` at ``dest`` as a hard link (no second copy of the bytes), landing whole like
    the rest; where the file system will not link it (another device: EXDEV; no links there:
    EPERM, ENOTSUP, EMLINK, ...) copy it instead. Returns whether ``dest`` is a link."""
    dest = Path(dest)
    # Where ``dest`` is new (a cold build: every file), link it straight there: a link lands
    # whole by itself, and a temp name + rename would be two more directory changes a file.
    try:
        _link_making_folder(src, dest)
        return True
    except FileExistsError:
        pass
    except OSError:
        copy_atomic(src, dest)
        return False
    try:
        if os.path.samefile(src, dest):
            return True                   # linked by an earlier build (rename would be a no-op)
    except OSError:
        pass
    tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        os.link(src, tmp)
    except OSError:
        copy_atomic(src, dest)
        return False
    try:
        os.replace(tmp, dest)
    except BaseException:
        _discard(tmp)
        raise
    return True


def _link_making_folder(src, dest: Path) -> None:
    try:
        os.link(src, dest)
    except FileNotFoundError:
        if not os.path.exists(src):
            raise
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dest)
