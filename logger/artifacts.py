"""Storing artifacts: a file or folder copied (or hard-linked) into ``artifacts/``.

Invariants:
* The stored name is the source's base name; a clash gets ``-2``, ``-3``... before the suffix,
  so logging ``model.pt`` every epoch keeps every version.
* ``sha256`` of a file is the digest of its bytes; of a folder, the digest of the lines
  ``"<relative/posix/path>\\0<sha256 of that file>\\n"`` sorted by path (stable, content-based).
* Copies land under a temporary name first and are renamed into place, so a manifest line is
  only written for a complete artifact.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from typing import Any

_CHUNK = 1 << 20


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _free_name(folder: str, base: str) -> str:
    if not os.path.exists(os.path.join(folder, base)):
        return base
    stem, dot, ext = base.partition(".") if not base.startswith(".") else (base, "", "")
    n = 2
    while True:
        candidate = f"{stem}-{n}{dot}{ext}"
        if not os.path.exists(os.path.join(folder, candidate)):
            return candidate
        n += 1


def _copy_file(src: str, dst: str, link: bool) -> None:
    if link:
        try:
            os.link(src, dst)
            return
        except OSError:
            pass  # another file system, or links not allowed: copy
    shutil.copyfile(src, dst)


def store(src: str, folder: str, link: bool = False) -> dict[str, Any]:
    """Copy ``src`` into ``folder``; returns path, bytes, sha256, files and kind."""
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(os.path.normpath(os.path.abspath(src))) or "artifact"
    name = _free_name(folder, base)
    dest = os.path.join(folder, name)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    try:
        if os.path.isdir(src):
            shutil.copytree(src, tmp, copy_function=lambda s, d: _copy_file(s, d, link))
            total, lines = 0, []
            for root, _dirs, files in os.walk(tmp):
                for fname in files:
                    full = os.path.join(root, fname)
                    rel = os.path.relpath(full, tmp).replace(os.sep, "/")
                    total += os.path.getsize(full)
                    lines.append(f"{rel}\0{file_sha256(full)}\n")
            lines.sort()
            digest = hashlib.sha256("".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
            kind, count = "folder", len(lines)
        else:
            _copy_file(src, tmp, link)
            total, digest, kind, count = os.path.getsize(tmp), file_sha256(tmp), "file", 1
        os.replace(tmp, dest)
    except BaseException:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"path": name, "bytes": total, "sha256": digest, "files": count, "kind": kind}
