"""A long run's zoom tiles into the site: hard links to the tiles the reader wrote in the build
cache (``sitegen.longread``, ``sitegen.zoom_levels``), a copy where the two folders are on
different file systems.

Invariants:
- A site tile is (re)placed only when it is not already the cache's file (same inode) or, for
  a copy, when its size or age differs; each lands by temp name + rename.
- Returns the site paths of every tile the run has, so the next build removes the ones it
  no longer has (the run state's ``outputs``).
- ``prune_levels`` drops the cache's level folders no run read by this build uses (a run that
  is gone, or no longer long), so the cache does not keep gigabytes for nothing.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from runpages.sitegen.atomic import copy_atomic


def place_zoom_tiles(run, base: str, out: Path, note) -> list[str]:
    """Tiles of ``run`` (``run.zoom``) under site folder ``base``; ``note(rel)`` for each one
    written. Returns every tile's site path."""
    from runpages.sitegen.zoom_levels import tile_files

    zoom = getattr(run, "zoom", None)
    folder = zoom.get("folder") if zoom else None
    if not folder or not zoom.get("levels"):
        return []
    folder = Path(folder)
    paths = []
    for rel in tile_files(folder):
        site_rel = base + rel
        paths.append(site_rel)
        if _place(folder / rel, out / site_rel):
            note(site_rel)
    return paths


def _place(src: Path, dest: Path) -> bool:
    try:
        s = src.stat()
    except OSError:
        return False
    try:
        d = dest.stat()
        if (d.st_dev, d.st_ino) == (s.st_dev, s.st_ino) or (
                d.st_nlink == 1 and d.st_size == s.st_size and d.st_mtime_ns >= s.st_mtime_ns):
            return False
    except OSError:
        pass
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.link")
    try:
        os.link(src, tmp)
        os.replace(tmp, dest)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        copy_atomic(src, dest)
    return True


def prune_levels(levels_dir: Path, runs, keep: set[str] = frozenset()) -> None:
    """Remove level folders under ``levels_dir`` that none of ``runs`` uses and ``keep`` does not name."""
    keep = set(keep) | {Path(r.zoom["folder"]).name for r in runs
                        if getattr(r, "zoom", None) and r.zoom.get("folder")}
    try:
        names = os.listdir(levels_dir)
    except OSError:
        return
    for name in names:
        if name not in keep:
            shutil.rmtree(Path(levels_dir) / name, ignore_errors=True)
