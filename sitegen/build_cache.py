"""The build cache: what the last build read and wrote, kept outside the site.

Invariants:
- It lives in its own folder, never in the output folder: by default
  ``$XDG_CACHE_HOME/runpages/<hash of the resolved output and runs paths>`` (else
  ``~/.cache/runpages/…``); ``--cache-dir`` or ``cache_dir`` in runpages.toml choose another.
- It is JSON (``state.json``) plus the read cache (``read/``: JSON and Arrow IPC frames,
  ``sitegen.readcache``). Nothing in it is unpickled or executed, so it may sit where others
  can write.
- One invalidation key: the state names its format version and the settings hash; a run's
  entry is reused only while its fingerprint matches. A state that cannot be read (missing,
  corrupt, truncated, another version) is an empty one: a full build, never a crash.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from runpages.problems import Problem

# 2: run states per project (build_aggregates), the scan as a digest; 3: packed chart arrays;
# 4: a run header says whether it has media
CACHE_VERSION = 4
STATE_FILE = "state.json"
READ_DIR = "read"
LEVELS_DIR = "levels"          # zoom tiles of long runs (sitegen/longread.py), linked into the site
LEGACY_DIR = ".runpages"       # where builds before 0.x kept pickles, inside the site


def default_cache_dir(output, runs_dirs) -> Path:
    """``$XDG_CACHE_HOME/runpages/<hash>`` (else ``~/.cache/runpages/<hash>``), one per site."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    ident = "\0".join([str(Path(output).resolve()), *(str(Path(d).resolve()) for d in runs_dirs)])
    return Path(base) / "runpages" / hashlib.sha1(ident.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def cache_dir(config) -> Path:
    """The cache folder for ``config`` (``config.cache_dir`` when set)."""
    chosen = getattr(config, "cache_dir", None)
    return Path(chosen) if chosen else default_cache_dir(config.output, config.runs_dirs)


def empty_state() -> dict[str, Any]:
    return {"version": CACHE_VERSION, "settings": None, "projects": {}}


def load_state(folder: Path) -> dict[str, Any]:
    """The last build's state; an empty one when it cannot be read."""
    try:
        state = json.loads((Path(folder) / STATE_FILE).read_bytes())
        if (isinstance(state, dict) and state.get("version") == CACHE_VERSION
                and isinstance(state.get("projects"), dict)):
            state["problems"] = [Problem(str(p), ln if isinstance(ln, int) else None, str(r))
                                 for p, ln, r in state.get("problems") or []]
            return state
    except Exception:  # noqa: BLE001 - a broken state only means a full build
        pass
    return empty_state()


def save_state(folder: Path, state: dict[str, Any]) -> None:
    from runpages.sitegen.atomic import write_atomic

    out = dict(state, problems=[[p.path, p.line, p.reason] for p in state.get("problems") or []])
    write_atomic(Path(folder) / STATE_FILE, json.dumps(out))


PROJECTS_DIR = "projects"      # per project: what its runs add to the project-wide pages


def load_aggregates(folder: Path, slug: str, kind: str) -> dict[str, Any]:
    """``{run key: [fingerprint, value]}`` kept for one project (``kind``: "entries", the
    project script's low-resolution series; "usage", the utilisation figures). Kept apart
    from ``state.json`` so a rebuild reads only the projects it redoes; unreadable: empty."""
    try:
        data = json.loads((Path(folder) / PROJECTS_DIR / f"{slug}.{kind}.json").read_bytes())
        return data if isinstance(data, dict) else {}
    except Exception:  # noqa: BLE001 - a broken file only means recomputing
        return {}


def save_aggregates(folder: Path, slug: str, kind: str, data: dict[str, Any]) -> None:
    from runpages.sitegen.atomic import write_atomic

    write_atomic(Path(folder) / PROJECTS_DIR / f"{slug}.{kind}.json", json.dumps(data))


def remove_aggregates(folder: Path, slug: str, kinds) -> None:
    """Remove a gone project's files (``save_aggregates``)."""
    for kind in kinds:
        try:
            (Path(folder) / PROJECTS_DIR / f"{slug}.{kind}.json").unlink()
        except OSError:
            pass
