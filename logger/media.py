"""Media objects: ``Image``, ``Video``, ``Audio``, ``Table``, ``Histogram`` (W&B's names and
signatures, so ``import runpages as wandb`` scripts keep working).

Invariants:
* Constructing one only keeps references (the array, tensor, PIL image or path); nothing heavy is
  imported here. numpy, torch and PIL objects are recognised by the module their type comes from.
  Encoding happens later, on the run's media thread (``media_writer.py``), through ``encode()``.
  A caller that changes an array in place after ``log()`` may see the change in the file.
* ``encode()`` returns ``Encoded`` (bytes, file extension, index fields, optional thumbnail) or
  raises ``MediaError`` with a message that says what to pass instead; the writer turns that into
  one warning per cause.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from . import media_encode as enc

IMAGE_EXTS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp"})   # no SVG: it can hold script
VIDEO_EXTS = frozenset({"mp4", "webm", "gif", "ogv", "ogg"})
AUDIO_EXTS = frozenset({"wav", "mp3", "ogg", "flac", "m4a", "oga"})


class MediaError(ValueError):
    """A media value that cannot be encoded; the message says why and what to pass."""


@dataclass
class Encoded:
    data: bytes
    ext: str
    fields: dict = field(default_factory=dict)     # shape, fps, sample_rate, ...
    thumb: bytes | None = None                     # JPEG (PNG without Pillow) thumbnail


def _root(value: Any) -> str:
    return (getattr(type(value), "__module__", None) or "").partition(".")[0]


def _read_path(path: Any, exts: frozenset, what: str) -> Encoded:
    p = os.fspath(path)
    ext = os.path.splitext(p)[1].lower().lstrip(".")
    if ext not in exts:
        raise MediaError(f"{what} file {p!r} has an unsupported type .{ext} "
                         f"(use one of {', '.join(sorted(exts))})")
    try:
        with open(p, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise MediaError(f"cannot read {what} file {p!r} ({exc.strerror or exc})") from None
    return Encoded(data, "jpg" if ext == "jpeg" else ext)


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


class Media:
    """Base of the media kinds; ``kind`` names it in ``media.jsonl``."""
    kind = "media"
    caption: str | None = None

    def encode(self) -> Encoded:  # pragma: no cover - every kind defines it
        raise NotImplementedError


class Image(Media):
    """An image: numpy HWC (or CHW) array, torch CHW tensor, PIL image, matplotlib Figure (drawn
    to PNG when the Image is made), or a file path.

    Float data in [0, 1] is scaled to 0..255 (data with negative values is taken as [-1, 1]),
    as W&B's ``normalize=True`` does. ``boxes``, ``masks`` and ``classes`` are accepted and not
    drawn.
    """
    kind = "image"

    def __init__(self, data_or_path: Any, mode: str | None = None, caption: Any = None,
                 grouping: Any = None, classes: Any = None, boxes: Any = None,
                 masks: Any = None, file_type: str | None = None, normalize: bool = True) -> None:
        self._data = data_or_path
        self._mode = mode
        self.caption = None if caption is None else str(caption)
        self._normalize = normalize
        self._file_type = (file_type or "png").lower()
        if is_figure(data_or_path):
            # Rendered now, on the caller's thread: scripts reuse and clear figures after
            # log(), and matplotlib is not thread-safe; the media thread only writes the PNG.
            self._data = enc.render_figure(data_or_path)

    def encode(self) -> Encoded:
        d = self._data
        if isinstance(d, (enc.RenderedFigure, enc.FigureError)):     # before paths: both are str/bytes
            return enc.encode_figure(d)
        if _is_path(d):
            out = _read_path(d, IMAGE_EXTS, "image")
            out.thumb = enc.thumbnail_of_file(out.data)
            return out
        root = _root(d)
        if root == "PIL":
            return enc.encode_pil(d, self._file_type)
        if root in ("numpy", "torch"):
            arr = enc.to_hwc_uint8(d, torch_chw=root == "torch", normalize=self._normalize)
            return enc.encode_array_image(arr)
        raise MediaError(f"runpages.Image takes a numpy array, a torch tensor, a PIL image, a "
                         f"matplotlib figure or a file path; got {type(d).__name__}")


class Video(Media):
    """A video: an array of frames (T, H, W, C) or W&B's (T, C, H, W), or a video file path.

    Arrays become WebM with the ``runpages[video]`` extra, else (or with ``format="gif"``) an
    animated GIF through Pillow; a file is copied as it is.
    """
    kind = "video"

    def __init__(self, data_or_path: Any, caption: Any = None, fps: int | None = None,
                 format: str | None = None) -> None:
        self._data = data_or_path
        self.caption = None if caption is None else str(caption)
        self.fps = int(fps) if fps else 4            # W&B's default
        self._format = format

    def encode(self) -> Encoded:
        d = self._data
        if _is_path(d):
            out = _read_path(d, VIDEO_EXTS, "video")
            out.fields["fps"] = None
            return out
        if _root(d) not in ("numpy", "torch"):
            raise MediaError(f"runpages.Video takes a (T, H, W, C) or (T, C, H, W) array or "
                             f"tensor, or a .mp4/.webm/.gif path; got {type(d).__name__}")
        return enc.encode_video_frames(d, self.fps, gif=self._format == "gif")


class Audio(Media):
    """A sound: a 1-D (or (samples, channels)) array with ``sample_rate``, or an audio file."""
    kind = "audio"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None,
                 caption: Any = None) -> None:
        self._data = data_or_path
        self.caption = None if caption is None else str(caption)
        self.sample_rate = None if sample_rate is None else int(sample_rate)
        if not _is_path(data_or_path) and self.sample_rate is None:
            raise ValueError("runpages.Audio needs sample_rate= for an array (e.g. 22050).")

    def encode(self) -> Encoded:
        d = self._data
        if _is_path(d):
            return _read_path(d, AUDIO_EXTS, "audio")
        return enc.encode_wav(d, self.sample_rate)


class Table(Media):
    """A table: ``Table(columns=[...], data=[[...], ...])``, ``Table(dataframe=df)``, or
    ``add_data(*row)``. Cells are written as JSON values (other objects as their text)."""
    kind = "table"

    def __init__(self, columns: Any = None, data: Any = None, rows: Any = None,
                 dataframe: Any = None, dtype: Any = None, optional: Any = True,
                 allow_mixed_types: bool = False) -> None:
        if dataframe is not None:
            self.columns = [str(c) for c in dataframe.columns]
            self.data = [list(r) for r in dataframe.itertuples(index=False, name=None)]
            return
        rows = data if data is not None else rows
        self.data = [list(r) for r in rows] if rows is not None else []
        if columns is None:
            width = len(self.data[0]) if self.data else 0
            columns = [f"c{i}" for i in range(width)]
        self.columns = [str(c) for c in columns]

    def add_data(self, *row: Any) -> None:
        if len(row) != len(self.columns):
            raise ValueError(f"runpages.Table.add_data: this table has {len(self.columns)} "
                             f"columns; got {len(row)} values.")
        self.data.append(list(row))

    def snapshot(self) -> "Table":
        """A copy of the rows as they are now: ``add_data`` after ``log()`` does not change it."""
        t = Table.__new__(Table)
        t.columns, t.data = list(self.columns), list(self.data)
        return t

    def encode(self) -> Encoded:
        return enc.encode_table(self.columns, self.data)


class Histogram(Media):
    """A distribution: ``Histogram(values, num_bins=64)`` or ``Histogram(np_histogram=(counts,
    edges))`` (what ``numpy.histogram`` returns)."""
    kind = "histogram"

    def __init__(self, sequence: Any = None, np_histogram: Any = None,
                 num_bins: int = 64) -> None:
        if sequence is None and np_histogram is None:
            raise ValueError("runpages.Histogram needs values or np_histogram=(counts, edges).")
        self._values = sequence
        self._np = np_histogram
        self.num_bins = max(1, min(512, int(num_bins)))

    def encode(self) -> Encoded:
        if self._np is not None:
            counts, edges = self._np
            return enc.encode_histogram_counts(counts, edges)
        return enc.encode_histogram_values(self._values, self.num_bins)


def is_figure(value: Any) -> bool:
    """A matplotlib Figure (recognised by its type's module: matplotlib is never imported here)."""
    return _root(value) == "matplotlib" and hasattr(value, "savefig") and hasattr(value, "canvas")


def as_media_list(value: Any) -> list[Media] | None:
    """``value`` as a list of media objects, or None when it is not media (a plain value).
    A matplotlib Figure logged as it is becomes an ``Image``."""
    if isinstance(value, Media):
        return [value]
    if is_figure(value):
        return [Image(value)]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Media) for v in value):
        return list(value)
    return None
