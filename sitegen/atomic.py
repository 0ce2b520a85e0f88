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
def atomic_file(path: str | os.PathLike, exclusive: bool = False) -> Iterator[IO[bytes]]:
    """Open a temp file beside ``path`` for binary writing; it replaces ``path`` on success.

    With ``exclusive`` it lands only where ``path`` does not exist yet, else ``FileExistsError``:
    two writers never overwrite each other's file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, 0o644)   # mkstemp makes 0600; site files must be readable by a web server
        if exclusive:
            os.link(tmp, path)            # fails if the name is taken, atomically
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
