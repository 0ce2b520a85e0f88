"""Files that land whole: write to a temp name in the same folder, then ``os.replace``.

A reader of the site (a browser, a static host's sync, ``serve``) never sees half a file, and a
failed write leaves the old file and no temp file behind.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Open a temp file beside ``path`` for binary writing; it replaces ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, 0o644)   # mkstemp makes 0600; site files must be readable by a web server
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` whole."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path) as f:
        f.write(data)


def copy_atomic(src: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy the file ``src`` to ``dest`` whole."""
    with atomic_file(dest) as f, open(src, "rb") as s:
        shutil.copyfileobj(s, f, 1 << 20)
