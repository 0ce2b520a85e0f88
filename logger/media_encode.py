"""Encoders for media: arrays → PNG/GIF/WAV/JSON bytes. Runs on the media thread only.

numpy is never imported here: it is taken from ``sys.modules`` when the value handed over came
from numpy or torch (which loaded it). Arrays become PNG through numpy and zlib (both release
the GIL while they work, so encoding does not stall the training thread); Pillow, when present,
makes thumbnails, GIFs, JPEGs and PNGs of PIL images. Video from arrays becomes WebM (VP9) through the optional extra
``runpages[video]`` (imageio-ffmpeg: its wheel carries a static ffmpeg, so nothing else is
installed, and VP9 plays in every browser without patent-encumbered codecs); without it, an
animated GIF through Pillow. A path to an existing .mp4/.webm is copied as it is.
"""
from __future__ import annotations

import io
import json
import struct
import sys
import wave
import zlib
from typing import Any

from .encode import to_json_tree

THUMB_PX = 256          # longest side of an image thumbnail
MAX_TABLE_ROWS = 100_000


def _error(msg: str) -> Exception:
    from .media import MediaError  # noqa: PLC0415 (media imports this module)
    return MediaError(msg)


def _pil():
    try:
        from PIL import Image as PILImage  # noqa: PLC0415
        return PILImage
    except ImportError:
        return None


def _np():
    """numpy as the user's process already loaded it: the logger never imports it itself
    (a value from numpy or torch means numpy is loaded; torch loads it when installed)."""
    np = sys.modules.get("numpy")
    if np is None:
        raise _error("encoding arrays needs numpy (pip install numpy)")
    return np


def _to_numpy(value: Any):
    np = _np()
    if hasattr(value, "detach"):                  # torch
        value = value.detach()
        if getattr(value, "dtype", None) is not None and "bfloat16" in str(value.dtype):
            value = value.float()
        value = value.cpu().numpy()
    return np, np.asarray(value)


def to_hwc_uint8(value: Any, torch_chw: bool, normalize: bool = True):
    """An image array as (H, W, C) uint8 with C in 1, 3, 4."""
    np, a = _to_numpy(value)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and (torch_chw or a.shape[-1] not in (1, 3, 4)):
        a = np.transpose(a, (1, 2, 0))
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise _error(f"an image array must be (H, W), (H, W, C) or (C, H, W) with 1, 3 or 4 "
                     f"channels; got shape {tuple(a.shape)}")
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        a = np.nan_to_num(a, nan=0.0, posinf=255.0, neginf=0.0)
        if normalize and a.size and a.max() <= 1.0:
            if a.min() < 0:
                a = (a + 1.0) / 2.0
            a = a * 255.0
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def png_bytes(arr) -> bytes:
    """(H, W, C) uint8 → PNG by numpy and zlib, not Pillow: zlib's deflate and numpy's array
    ops release the GIL, so the training thread keeps running while the media thread encodes
    (Pillow's PNG encoder holds the GIL for each block it compresses; benchmarks/bench_media.py
    measures the difference). Every row uses PNG's "Up" filter (the byte minus the one above,
    one vectorised subtraction), which compresses photos and renders far better than none."""
    np = _np()
    h, w, c = arr.shape
    rows = arr.reshape(h, w * c)
    up = np.empty((h, w * c + 1), np.uint8)
    up[:, 0] = 2                                  # filter type 2: Up
    up[0, 1:] = rows[0]                           # the row above the first is all zeros
    np.subtract(rows[1:], rows[:-1], out=up[1:, 1:])   # uint8 arithmetic wraps mod 256, as PNG wants
    color = {1: 0, 3: 2, 4: 6}[c]

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(up.data, 6)) + chunk(b"IEND", b""))


def _pil_thumb(img) -> bytes:
    """A PIL image → JPEG thumbnail bytes (a fraction of a PNG's size for photos and noise)."""
    img = img.copy()
    img.thumbnail((THUMB_PX, THUMB_PX))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=82)
    return buf.getvalue()


def _thumb_array(arr):
    h, w = arr.shape[:2]
    if max(h, w) <= THUMB_PX:
        return None
    pil = _pil()
    if pil is not None:
        return _pil_thumb(pil.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))
    k = -(-max(h, w) // THUMB_PX)                 # stdlib fallback: every k-th pixel
    return png_bytes(arr[::k, ::k].copy())


def encode_array_image(arr):
    from .media import Encoded  # noqa: PLC0415
    return Encoded(png_bytes(arr), "png", {"shape": list(arr.shape)}, _thumb_array(arr))


def encode_pil(img: Any, file_type: str = "png"):
    from .media import Encoded  # noqa: PLC0415
    buf = io.BytesIO()
    if img.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        img = img.convert("RGBA")
    jpeg = file_type in ("jpg", "jpeg")
    (img.convert("RGB") if jpeg else img).save(buf, format="JPEG" if jpeg else "PNG")
    thumb = _pil_thumb(img) if max(img.size) > THUMB_PX else None
    shape = [img.size[1], img.size[0], len(img.getbands())]
    return Encoded(buf.getvalue(), "jpg" if jpeg else "png", {"shape": shape}, thumb)


def thumbnail_of_file(data: bytes) -> bytes | None:
    pil = _pil()
    if pil is None:
        return None
    try:
        img = pil.open(io.BytesIO(data))
        return _pil_thumb(img) if max(img.size) > THUMB_PX else None
    except Exception:
        return None


class RenderedFigure(bytes):
    """A matplotlib Figure drawn to PNG bytes (``render_figure``), waiting to be written."""
    shape: list


class FigureError(str):
    """Why a Figure could not be drawn; ``encode_figure`` turns it into a MediaError."""


def render_figure(fig: Any) -> "RenderedFigure | FigureError":
    """Draw ``fig`` to PNG now (on the caller's thread; never raises)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100)
    except Exception as exc:                  # a broken figure must not stop training
        return FigureError(f"matplotlib could not draw the figure ({exc!r})")
    out = RenderedFigure(buf.getvalue())
    w, h = struct.unpack(">II", out[16:24])   # the PNG's IHDR
    out.shape = [h, w, 4]
    return out


def encode_figure(fig: "RenderedFigure | FigureError"):
    from .media import Encoded  # noqa: PLC0415
    if isinstance(fig, FigureError):
        raise _error(str(fig))
    return Encoded(bytes(fig), "png", {"shape": fig.shape}, thumbnail_of_file(bytes(fig)))


def encode_video_frames(value: Any, fps: int, gif: bool = False):
    from .media import Encoded  # noqa: PLC0415
    np, a = _to_numpy(value)
    if a.ndim == 5 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 4:
        raise _error(f"a video array must be (T, H, W, C) or (T, C, H, W); got shape {tuple(a.shape)}")
    if a.shape[1] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = np.transpose(a, (0, 2, 3, 1))          # W&B's (T, C, H, W)
    frames = [to_hwc_uint8(f, torch_chw=False) for f in a]
    try:
        import imageio_ffmpeg  # noqa: PLC0415 (optional extra runpages[video])
    except ImportError:
        imageio_ffmpeg = None
    if gif:
        imageio_ffmpeg = None
    if imageio_ffmpeg is not None:
        return Encoded(_webm(imageio_ffmpeg, frames, fps), "webm",
                       {"shape": list(a.shape), "fps": fps})
    pil = _pil()
    if pil is None:
        raise _error("video from arrays needs Pillow (pip install pillow) to write an animated "
                     "GIF; or log a path to an .mp4/.webm file")
    imgs = [pil.fromarray(f[:, :, 0] if f.shape[2] == 1 else f[:, :, :3]) for f in frames]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:],
                 duration=max(20, int(1000 / max(1, fps))), loop=0)
    return Encoded(buf.getvalue(), "gif", {"shape": list(a.shape), "fps": fps})


def _webm(imageio_ffmpeg: Any, frames: list, fps: int) -> bytes:
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    np = _np()
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:       # yuv420p needs even sides: repeat the last row/column
        frames = [np.pad(f, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") for f in frames]
        h, w = h + h % 2, w + w % 2
    fd, path = tempfile.mkstemp(suffix=".webm", prefix="runpages-video-")
    os.close(fd)
    try:
        writer = imageio_ffmpeg.write_frames(
            path, (w, h), fps=fps, codec="libvpx-vp9", pix_fmt_in="rgb24", macro_block_size=1,
            output_params=["-b:v", "0", "-crf", "34", "-deadline", "realtime", "-cpu-used", "8"],
            ffmpeg_log_level="error")
        writer.send(None)
        for f in frames:
            rgb = f[:, :, :3] if f.shape[2] >= 3 else f[:, :, [0, 0, 0]]
            writer.send(rgb.copy())
        writer.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def encode_wav(value: Any, sample_rate: int):
    from .media import Encoded  # noqa: PLC0415
    np, a = _to_numpy(value)
    if a.ndim == 2 and a.shape[0] in (1, 2) and a.shape[1] > 2:
        a = a.T                                   # (channels, samples) → (samples, channels)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] > 8 or a.shape[0] == 0:
        raise _error(f"audio must be (samples,) or (samples, channels); got shape {tuple(a.shape)}")
    if a.dtype.kind == "f":
        a = np.clip(np.nan_to_num(a), -1.0, 1.0)
        a = (a * 32767).astype("<i2")
    else:
        a = a.astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(a.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(np.ascontiguousarray(a).tobytes())
    return Encoded(buf.getvalue(), "wav", {"shape": list(a.shape), "sample_rate": int(sample_rate),
                                          "duration_s": round(a.shape[0] / sample_rate, 3)})


def encode_table(columns: list, rows: list):
    from .media import Encoded  # noqa: PLC0415
    if len(rows) > MAX_TABLE_ROWS:
        raise _error(f"a table holds at most {MAX_TABLE_ROWS} rows; got {len(rows)}")
    data = [[to_json_tree(c) for c in r] for r in rows]
    body = json.dumps({"columns": columns, "data": data}, separators=(",", ":"),
                      allow_nan=False, ensure_ascii=True)
    return Encoded(body.encode(), "json", {"shape": [len(rows), len(columns)]})


def encode_histogram_counts(counts: Any, edges: Any):
    from .media import Encoded  # noqa: PLC0415
    counts = [float(c) for c in (counts.tolist() if hasattr(counts, "tolist") else counts)]
    edges = [float(e) for e in (edges.tolist() if hasattr(edges, "tolist") else edges)]
    if len(edges) != len(counts) + 1 or not counts:
        raise _error(f"np_histogram needs len(edges) == len(counts) + 1; got {len(counts)} "
                     f"counts and {len(edges)} edges")
    body = json.dumps({"counts": counts, "edges": edges}, allow_nan=False)
    return Encoded(body.encode(), "json", {"shape": [len(counts)]})


def encode_histogram_values(values: Any, bins: int):
    if hasattr(values, "detach") or hasattr(values, "dtype"):
        np, a = _to_numpy(values)
        a = a.astype(np.float64).ravel()
        a = a[np.isfinite(a)]
        if not a.size:
            raise _error("a histogram needs at least one finite value")
        counts, edges = np.histogram(a, bins=bins)
        return encode_histogram_counts(counts, edges)
    vals = [float(v) for v in values]
    vals = [v for v in vals if v - v == 0.0]
    if not vals:
        raise _error("a histogram needs at least one finite value")
    lo, hi = min(vals), max(vals)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in vals:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    return encode_histogram_counts(counts, [lo + i * width for i in range(bins + 1)])
