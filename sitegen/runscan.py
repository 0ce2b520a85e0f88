"""Finding run folders and fingerprinting them from ``stat`` calls alone (no file is opened).

Invariants:
- A run folder is ``<runs>/<project>/<run-id>/`` holding meta.json or metrics.jsonl; folders
  whose names start with "." are skipped, and an unreadable folder is skipped, never raised.
- Folders come back sorted by project, then run id, so every read sees them in one order.
- The one rule for reading a run folder: a file counts as one of the run's files only when its
  real path (symlinks resolved) lies inside the run folder or the runs folder above it
  (``inside``). ``stat_run_files`` leaves the others out, so nothing reads them; the reader
  names them in a Problem (``escaping_files``), and the pages copy nothing else.
- A run's fingerprint changes whenever any of its ``RUN_FILES`` appears, disappears, changes
  size or mtime, or is replaced; ``scan_fingerprints`` gives exactly ``Run.fingerprint``.
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from runpages import schema

RUN_FILES = (schema.META_FILE, schema.CONFIG_FILE, schema.METRICS_FILE, schema.SYSTEM_FILE,
             schema.SUMMARY_FILE, f"{schema.ARTIFACTS_DIR}/{schema.ARTIFACT_MANIFEST}",
             schema.CONSOLE_FILE, schema.MEDIA_INDEX, schema.REPRODUCE_FILE)


def is_run_dir(path: Path) -> bool:
    return (path / schema.META_FILE).is_file() or (path / schema.METRICS_FILE).is_file()


def find_run_dirs(runs_dir: Path) -> list[Path]:
    """``<dir>/<project>/<run-id>/`` folders holding meta.json or metrics.jsonl."""
    found = []
    try:
        projects = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for project in projects:
        try:
            children = sorted(c for c in project.iterdir() if c.is_dir() and not c.name.startswith("."))
        except OSError:
            continue
        found.extend(c for c in children if is_run_dir(c))
    return found


def layout_hint(d: Path) -> str | None:
    """Why a folder with no runs in it might be the wrong folder."""
    if is_run_dir(d):
        return ("no runs found: this is a run folder; pass the runs folder above it "
                f"(laid out as <runs>/<project>/<run-id>/, here {d.parent.parent})")
    try:
        if any(c.is_dir() and is_run_dir(c) for c in d.iterdir()):
            return ("no runs found: this looks like a project folder; pass the folder above it "
                    f"(laid out as <runs>/<project>/<run-id>/, here {d.parent})")
    except OSError:
        pass
    return None


def inside(path: str | os.PathLike, *roots: str | os.PathLike) -> bool:
    """Whether ``path``, symlinks resolved, lies in one of ``roots`` (also resolved)."""
    try:
        # A plain file right in a root is inside it, whatever the root resolves to: one lstat,
        # not a realpath of each (a build asks this for every file of every run).
        if os.path.dirname(path) in [os.fspath(r) for r in roots] and not os.path.islink(path):
            return True
        real = os.path.realpath(path)
        for root in roots:
            top = os.path.realpath(root)
            if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
                return True
    except (OSError, ValueError):
        pass
    return False


def _readable(run_dir: Path, name: str, root: Path | None) -> bool:
    path = run_dir / name
    if not path.is_symlink() and not (len(Path(name).parts) > 1 and path.parent.is_symlink()):
        return True
    return inside(path, run_dir) or (root is not None and inside(path, root))


class FileStat(NamedTuple):
    """What a build keeps of a run file's ``os.stat_result`` (a scan of 100,000 runs holds
    half a million: these are a third of the size)."""
    st_mode: int
    st_dev: int
    st_ino: int
    st_size: int
    st_mtime_ns: int


_RUN_FILE_TOPS = tuple((name, name.split("/", 1)[0]) for name in RUN_FILES)


def _kept(st: os.stat_result) -> FileStat:
    return FileStat(st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def stat_run_files(run_dir: Path, root: Path | None = None,
                   listing: dict[str, os.DirEntry] | None = None) -> dict[str, FileStat]:
    """``{name: stat}`` for each of ``RUN_FILES`` that is a regular file in ``run_dir`` and,
    when a symlink, leads to a place inside ``run_dir`` or the runs folder ``root``.
    ``listing``: the folder's ``os.scandir`` entries by name, when the caller has them (a file
    or subfolder not listed costs no failed ``stat``; a top-level link is told by its entry)."""
    stats = {}
    for name, top in _RUN_FILE_TOPS:
        entry = None
        if listing is not None:
            if top not in listing:
                continue
            entry = listing.get(name)            # None for a file in a subfolder
        try:
            st = entry.stat() if entry is not None else (run_dir / name).stat()
        except OSError:
            continue
        plain = entry is not None and not entry.is_symlink()
        if stat.S_ISREG(st.st_mode) and (plain or _readable(run_dir, name, root)):
            stats[name] = _kept(st)
    return stats


def escaping_files(run_dir: Path, stats: dict[str, FileStat]) -> list[str]:
    """Those of ``RUN_FILES`` present in ``run_dir`` as links that ``stat_run_files`` left out."""
    out = []
    for name in RUN_FILES:
        if name not in stats and ((run_dir / name).is_symlink()
                                  or (len(Path(name).parts) > 1 and (run_dir / name).parent.is_symlink())):
            out.append(name)
    return out


def fingerprint(stats: dict[str, FileStat]) -> str:
    """A short hash of each file's name, size, mtime and inode (from ``stat_run_files``)."""
    h = hashlib.blake2b(digest_size=12)
    for name in sorted(stats):
        st = stats[name]
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return h.hexdigest()


# One run folder found: as found under its runs dir, resolved (``Run.dir``), its file stats.
FoundRun = tuple[Path, Path, dict[str, FileStat]]


def scan_runs(dirs: Iterable[str | Path], previous: dict[str, list[FoundRun]] | None = None,
              rescan: Iterable[str] | None = None) -> dict[str, list[FoundRun]]:
    """``{str(Path(runs dir)): [FoundRun, ...]}`` from listing and ``stat`` calls only; a
    missing runs dir has an empty list. A build fingerprints this, then hands it to
    ``read_runs``, so no folder is listed and no file stat'ed twice.

    The same folders and stats as ``find_run_dirs`` + ``stat_run_files``, from one
    ``os.scandir`` listing per folder: a file that is not listed costs no failed ``stat``,
    and a link is told by the listing (at 100,000 runs the syscalls are the scan).

    ``previous`` and ``rescan``: a scan of the same dirs taken earlier in this process, and the
    run folders file events named since (``serve --watch``). A project folder that holds none
    of them is taken from ``previous`` as it was; only the runs dirs themselves are listed
    again, so a new or removed project folder is still seen."""
    found: dict[str, list[FoundRun]] = {}
    # Project folders by real path: events name real paths (watch), a runs dir may be a link.
    again = ({os.path.realpath(os.path.dirname(os.path.abspath(p))) for p in rescan}
             if rescan is not None else None)
    for d in dirs:
        root = Path(d)
        runs = []
        before: dict[str, list[FoundRun]] | None = None
        if again is not None and previous is not None and str(root) in previous:
            before = {}
            for entry in previous[str(root)]:
                before.setdefault(os.path.dirname(str(entry[0])), []).append(entry)
        for project in _sorted_dirs(str(root)):
            top = os.path.realpath(project.path)
            if before is not None and project.path in before and top not in again:
                runs.extend(before[project.path])       # no event there since: as it was
                continue
            plain = top == project.path                 # no link on the way: a run's path is its real path
            for child in _sorted_dirs(project.path):
                listing = _listing(child.path)
                if not any(_is_file(listing.get(n)) for n in (schema.META_FILE, schema.METRICS_FILE)):
                    continue
                run_dir = Path(child.path)
                if child.is_symlink():
                    real = run_dir.resolve()
                else:                                   # one Path made a run, not two, where it can
                    real = run_dir if plain else Path(os.path.join(top, child.name))
                runs.append((run_dir, real, stat_run_files(real, root, listing)))
        found[str(root)] = runs
    return found


def _sorted_dirs(path: str) -> list[os.DirEntry]:
    """The folders in ``path`` (links to folders too), dot-folders left out, by name."""
    try:
        with os.scandir(path) as it:
            entries = [e for e in it if not e.name.startswith(".") and _is_dir(e)]
    except OSError:
        return []
    return sorted(entries, key=lambda e: e.name)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry | None) -> bool:
    try:
        return entry is not None and entry.is_file()
    except OSError:
        return False


def _listing(path: str) -> dict[str, os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return {e.name: e for e in it}
    except OSError:
        return {}


def fingerprints(found: dict[str, list[FoundRun]]) -> dict[str, str]:
    """``{resolved run folder: fingerprint}`` of a ``scan_runs`` result."""
    return {str(real): fingerprint(stats) for runs in found.values() for _, real, stats in runs}


def scan_fingerprints(dirs: Iterable[str | Path]) -> dict[str, str]:
    """``{run folder: fingerprint}`` for every run under every runs dir, from ``stat`` calls
    only: keys are resolved paths (``Run.dir``), values equal ``Run.fingerprint``, so a caller
    can tell that nothing changed since the last ``read_runs`` without reading a file. Runs
    dirs that are missing contribute nothing."""
    return fingerprints(scan_runs(dirs))
