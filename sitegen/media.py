"""Reading a run's media index (``media.jsonl``) and reproducibility record (``code/reproduce.json``).

Invariants (the reader's): nothing here raises for bad input. A malformed line, an unknown kind,
a file that is missing or resolves outside the run's ``media/`` folder (``..``, an absolute path,
a symlink out) becomes a Problem (file, line, reason) and that entry is left out. A last line
without ``\\n`` is a record still being written and is ignored.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runpages import schema
from runpages.sitegen.jsonl import Problem, json_error_reason
from runpages.sitegen.runscan import inside

MAX_CAPTION = 2000


@dataclass
class MediaItem:
    step: int
    key: str
    kind: str
    file: str                     # relative to the run folder, checked to stay in media/
    caption: str | None = None
    index: int = 0
    bytes: int = 0
    sha256: str = ""
    thumb: str | None = None
    extra: dict = field(default_factory=dict)   # shape, fps, sample_rate, duration_s


def _media_file(rel: Any, run_dir: Path) -> Path | None:
    """``rel`` as a regular file inside ``run_dir/media``, or None."""
    if not isinstance(rel, str) or not rel or "\\" in rel or rel.startswith("/") or "\0" in rel:
        return None
    parts = rel.split("/")
    if parts[0] != schema.MEDIA_DIR or any(p in ("", ".", "..") for p in parts):
        return None
    path = run_dir.joinpath(*parts)
    if not inside(path, run_dir / schema.MEDIA_DIR):      # the one rule for reads (runscan)
        return None
    real = Path(os.path.realpath(path))
    return real if real.is_file() else None


def _item(rec: Any, run_dir: Path) -> MediaItem | str:
    """One index record → a MediaItem, or the reason it is left out."""
    if not isinstance(rec, dict):
        return "expected a media record (a JSON object)"
    step, key, kind = rec.get("step"), rec.get("key"), rec.get("kind")
    if type(step) is not int or step < 0:
        return "media record without a whole, non-negative step"
    if not isinstance(key, str) or not key:
        return "media record without a key"
    if kind not in schema.MEDIA_KINDS:
        return f"unknown media kind {kind!r}"
    if _media_file(rec.get("file"), run_dir) is None:
        return f"media file {str(rec.get('file'))[:200]!r} is missing or outside the run's media folder"
    caption = rec.get("caption")
    thumb = rec.get("thumb") if _media_file(rec.get("thumb"), run_dir) is not None else None
    extra = {k: rec[k] for k in ("shape", "fps", "sample_rate", "duration_s")
             if isinstance(rec.get(k), (int, float, list)) and not isinstance(rec.get(k), bool)}
    return MediaItem(step=step, key=key, kind=kind, file=rec["file"],
                     caption=None if caption is None else str(caption)[:MAX_CAPTION],
                     index=rec["index"] if type(rec.get("index")) is int else 0,
                     bytes=rec["bytes"] if type(rec.get("bytes")) is int else 0,
                     sha256=str(rec.get("sha256") or ""), thumb=thumb, extra=extra)


def read_media(run_dir: Path, display: str) -> tuple[list[MediaItem], list[Problem]]:
    """The media of a run in index order; ``display`` spells media.jsonl's path in Problems."""
    problems: list[Problem] = []
    try:
        data = (run_dir / schema.MEDIA_INDEX).read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as err:
        return [], [Problem(display, None, f"cannot read ({err.strerror or err})")]
    items: list[MediaItem] = []
    for i, raw in enumerate(data.split(b"\n")[:-1], 1):   # the part after the last \n is torn
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            problems.append(Problem(display, i, json_error_reason(err, raw)))
            continue
        got = _item(rec, run_dir)
        if isinstance(got, str):
            problems.append(Problem(display, i, got))
        else:
            items.append(got)
    return items, problems


def read_reproduce(run_dir: Path, display: str) -> tuple[dict, list[Problem]]:
    """``code/reproduce.json`` with only the files that exist inside the run folder."""
    path = run_dir / schema.REPRODUCE_FILE
    try:
        rec = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError) as err:
        return {}, [Problem(display, None, f"cannot read ({err})")]
    if not isinstance(rec, dict):
        return {}, [Problem(display, None, "expected a JSON object")]
    out: dict[str, Any] = {"notes": [str(n) for n in rec.get("notes") or [] if isinstance(n, str)]}
    for name in ("diff", "script", "requirements"):
        rel = rec.get(name)
        ok = isinstance(rel, str) and rel.split("/")[0] in (schema.CODE_DIR, schema.ENV_DIR)
        target = run_dir.joinpath(*rel.split("/")) if ok else None
        try:
            ok = ok and ".." not in rel.split("/") and target.resolve(strict=True).is_relative_to(
                run_dir.resolve()) and target.is_file()
        except (OSError, RuntimeError):
            ok = False
        out[name] = rel if ok else None
    for name in ("diff_bytes", "untracked"):
        out[name] = rec.get(name) if type(rec.get(name)) is int else None
    cmd = rec.get("command")
    out["command"] = [str(c) for c in cmd] if isinstance(cmd, list) else []
    out["commit"] = str(rec.get("commit") or "")
    return out, []
