"""Media another tool already encoded (a PNG inside an event file, a W&B media file), handed to
the run's media writer like any ``runpages.Image``: same index, folders, budget and thumbnails.

Invariant: these objects hold the bytes (or a path) only; ``encode()`` runs on the media thread
and fails with ``MediaError`` (one warning, that value skipped) rather than raising elsewhere.
"""
from __future__ import annotations

import os
from typing import Any

from .. import media_encode
from ..media import AUDIO_EXTS, IMAGE_EXTS, VIDEO_EXTS, Encoded, Media, MediaError

_EXTS = {"image": IMAGE_EXTS, "video": VIDEO_EXTS, "audio": AUDIO_EXTS}


def image_ext(data: bytes) -> str | None:
    """The file type of encoded image bytes from their magic number (None: not one we show)."""
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class EncodedMedia(Media):
    """An image, video or audio file as bytes (``data``) or on disk (``path``), kept as it is."""

    def __init__(self, kind: str, data: bytes | None = None, path: str | None = None,
                 caption: Any = None, fields: dict | None = None) -> None:
        self.kind = kind
        self._data, self._path = data, path
        self.caption = None if caption is None else str(caption)
        self._fields = dict(fields or {})

    def encode(self) -> Encoded:
        data = self._data
        if data is None:
            try:
                with open(self._path, "rb") as f:
                    data = f.read()
            except OSError as exc:
                raise MediaError(f"cannot read {self._path!r} ({exc.strerror})") from None
            ext = os.path.splitext(self._path)[1].lower().lstrip(".")
        else:
            ext = image_ext(data) or ""
        ext = "jpg" if ext == "jpeg" else ext
        if ext not in _EXTS.get(self.kind, ()):
            raise MediaError(f"the source's {self.kind} is of an unsupported type "
                             f"({ext or 'unknown'})")
        thumb = media_encode.thumbnail_of_file(data) if self.kind == "image" else None
        return Encoded(data, ext, dict(self._fields), thumb)


def histogram_edges(limits: list[float], counts: list[float], lo: float,
                    hi: float) -> tuple[list[float], list[float]]:
    """TensorBoard buckets (right edges ``limits``, ``counts``; min ``lo``, max ``hi``) as
    ``(counts, edges)``: empty buckets at both ends dropped, the open outer edges (TF's
    ±DBL_MAX) clamped to the data's range."""
    pairs = list(zip(limits, counts))
    first = next((i for i, (_, c) in enumerate(pairs) if c), None)
    if first is None:
        return [], []
    last = max(i for i, (_, c) in enumerate(pairs) if c)
    left = limits[first - 1] if first > 0 else lo
    edges = [left] + [limit for limit, _ in pairs[first:last + 1]]
    edges = [min(max(e, lo), hi) for e in edges]
    for i in range(1, len(edges)):          # a bucket of one value still has a width
        if edges[i] <= edges[i - 1]:
            edges[i] = edges[i - 1] + max(abs(edges[i - 1]) * 1e-9, 1e-12)
    return [float(c) for _, c in pairs[first:last + 1]], edges
