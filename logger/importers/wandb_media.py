"""W&B media in a run folder (issue 17): the files under ``files/media/`` and the history
values that point at them, as runpages media.

A history value of a media type is a dict with ``_type``: ``image-file`` (``path``, ``caption``),
``images/separated`` (``filenames``, ``captions``), ``video-file``, ``audio-file``, ``audio``
(a list: ``audio`` entries with ``captions``), ``table-file`` (``path`` of a ``.table.json``
holding ``columns`` and ``data``) and ``histogram`` (``values`` with ``bins`` edges, or
``packedBins``: ``min``, ``size``, ``count``). Paths are relative to ``files/`` and must resolve
inside it (a symlink out of the run folder is a problem, not a read). A media file no history
row points at (a run without its ``.wandb`` file) is imported from its name, which W&B writes as
``media/<kind>/<key>_<step>_<hash>.<ext>``.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any

from .common import Imported, Problem, walk_files
from .media import EncodedMedia

_FILE_KINDS = {"image-file": "image", "video-file": "video", "audio-file": "audio"}
_FOLDER_KINDS = {"images": "image", "videos": "video", "audio": "audio", "table": "table"}
_NAME = re.compile(r"^(?P<key>.+)_(?P<step>\d+)_(?P<hash>[0-9a-f]{20})(?P<ext>(?:\.table)?\.\w+)$")


def is_media_value(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("_type"), str)


def nested(items: dict[tuple, Any]) -> dict:
    """``{("img", "path"): v, ...}`` (W&B's nested keys) → a tree ``{"img": {"path": v}}``."""
    tree: dict = {}
    for path, value in items.items():
        node = tree
        for part in path[:-1]:
            child = node.get(part)
            node = node.setdefault(part, {}) if not isinstance(child, dict) else child
        node[path[-1]] = value
    return tree


class Resolver:
    """Turns W&B media values of one run into runpages media; remembers the files used."""

    def __init__(self, run_dir: str, imp: Imported) -> None:
        self.files_dir = os.path.realpath(os.path.join(run_dir, "files"))
        self.imp = imp
        self.used: set[str] = set()

    def path(self, rel: Any) -> str | None:
        if not isinstance(rel, str):
            return None
        full = os.path.realpath(os.path.join(self.files_dir, rel))
        if not full.startswith(self.files_dir + os.sep):
            self.imp.problems.append(Problem(os.path.join(self.files_dir, rel), None,
                                             "media path leads out of the run folder; skipped"))
            return None
        if not os.path.isfile(full):
            self.imp.problems.append(Problem(full, None, "media file named in the history is "
                                             "missing; skipped"))
            return None
        self.used.add(full)
        return full

    def media(self, value: dict) -> Any:
        """A media object (or list of them) for one W&B value; None when it is not one we show."""
        kind = value.get("_type")
        if kind in _FILE_KINDS:
            path = self.path(value.get("path"))
            return None if path is None else EncodedMedia(_FILE_KINDS[kind], path=path,
                                                          caption=value.get("caption"))
        if kind == "images/separated":
            names, captions = value.get("filenames") or [], value.get("captions") or []
            out = []
            for i, name in enumerate(names):
                path = self.path(name)
                if path is not None:
                    cap = captions[i] if isinstance(captions, list) and i < len(captions) else None
                    out.append(EncodedMedia("image", path=path, caption=cap))
            return out or None
        if kind == "audio":
            entries, captions = value.get("audio") or [], value.get("captions") or []
            out = [m for m in (self.media(e) for e in entries if is_media_value(e)) if m]
            for i, m in enumerate(out):
                if isinstance(captions, list) and i < len(captions) and captions[i] is not None:
                    m.caption = str(captions[i])
            return out or None
        if kind == "table-file":
            path = self.path(value.get("path"))
            return None if path is None else self.table(path)
        if kind == "histogram":
            return histogram(value)
        return None

    def table(self, path: str) -> Any:
        from ..media import Table  # noqa: PLC0415
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            return Table(columns=data["columns"], data=data["data"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.imp.problems.append(Problem(path, None, f"W&B table not readable ({exc!r}); "
                                             "skipped"))
            return None

    def unreferenced(self) -> list[tuple[int, str, Any]]:
        """``(step, key, media)`` of the files under ``files/media/`` no history value named."""
        out = []
        media_dir = os.path.join(self.files_dir, "media")
        for path in walk_files(media_dir) if os.path.isdir(media_dir) else []:
            real = os.path.realpath(path)
            rel = os.path.relpath(path, media_dir).replace(os.sep, "/")
            folder, _, rest = rel.partition("/")
            m = _NAME.match(os.path.basename(rest))
            if real in self.used or folder not in _FOLDER_KINDS or not m:
                continue
            if not real.startswith(self.files_dir + os.sep):
                continue                        # a symlink out of the run: not read
            sub = os.path.dirname(rest)
            key = f"{sub}/{m['key']}" if sub else m["key"]
            kind = _FOLDER_KINDS[folder]
            item = self.table(real) if kind == "table" else EncodedMedia(kind, path=real)
            if item is not None:
                out.append((int(m["step"]), key, item))
        return out


def histogram(value: dict) -> Any:
    from ..media import Histogram  # noqa: PLC0415
    counts = value.get("values")
    edges = value.get("bins")
    packed = value.get("packedBins")
    if isinstance(packed, dict) and isinstance(counts, list):
        try:
            lo, size = float(packed["min"]), float(packed["size"])
            edges = [lo + size * i for i in range(len(counts) + 1)]
        except (KeyError, TypeError, ValueError):
            return None
    if not (isinstance(counts, list) and isinstance(edges, list)
            and len(edges) == len(counts) + 1 and counts):
        return None
    return Histogram(np_histogram=(counts, edges))
