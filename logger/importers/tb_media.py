"""TensorBoard images, histograms and text summaries as runpages media (issue 17).

``add_image``/``add_images``/``add_figure`` (v1 image summaries, PNG; ``add_video`` writes an
animated GIF) → ``image``; ``add_histogram`` (v1 ``HistogramProto``, and v2 ``(k, 3)`` bucket
tensors) → ``histogram`` through ``runpages.Histogram(np_histogram=...)``; ``add_text`` (a
string tensor of the text plugin; its tag loses TensorBoard's ``/text_summary`` suffix) →
``table`` with one ``text`` column (a 2-D string tensor, which TensorBoard shows as a table,
keeps its shape). v2 image tensors (``[width, height, png, ...]``) are read too.
"""
from __future__ import annotations

from typing import Any

from .common import Imported, Problem
from .media import EncodedMedia, histogram_edges

_TEXT_SUFFIX = "/text_summary"


def read_media(ea: Any, tags: dict, imp: Imported) -> int:
    """Add every image, histogram and text event of ``ea`` to ``imp``; returns how many."""
    n = 0
    for tag in tags.get("images", []):
        for ev in ea.Images(tag):
            imp.add(ev.step, ev.wall_time, {tag: EncodedMedia(
                "image", data=ev.encoded_image_string,
                fields={"shape": [ev.height, ev.width]})})
            n += 1
    for tag in tags.get("histograms", []):
        for ev in ea.Histograms(tag):
            h = ev.histogram_value
            n += _histogram(imp, tag, ev.step, ev.wall_time, list(h.bucket_limit),
                            list(h.bucket), h.min, h.max)
    for tag in tags.get("tensors", []):
        try:
            plugin = ea.SummaryMetadata(tag).plugin_data.plugin_name
            if plugin in ("text", "images", "histograms"):
                n += _tensor_media(ea, tag, plugin, imp)
        except Exception as exc:  # noqa: BLE001 (one damaged tag: the rest is imported)
            imp.problems.append(Problem(imp.source, None, f"{tag!r} not read ({exc!r})"))
    return n


def _histogram(imp: Imported, tag: str, step: int, time: float, limits: list, counts: list,
               lo: float, hi: float) -> int:
    from ..media import Histogram  # noqa: PLC0415
    counts, edges = histogram_edges(limits, counts, lo, hi)
    if not counts:
        return 0
    imp.add(step, time, {tag: Histogram(np_histogram=(counts, edges))})
    return 1


def _tensor_media(ea: Any, tag: str, plugin: str, imp: Imported) -> int:
    from tensorboard.util import tensor_util  # noqa: PLC0415

    from ..media import Table  # noqa: PLC0415
    n = 0
    for ev in ea.Tensors(tag):
        arr = tensor_util.make_ndarray(ev.tensor_proto)
        if plugin == "text":
            key = tag[:-len(_TEXT_SUFFIX)] if tag.endswith(_TEXT_SUFFIX) else tag
            cells = [_text(x) for x in arr.reshape(-1)] if arr.ndim < 2 else None
            table = (Table(columns=["text"], data=[[c] for c in cells]) if cells is not None
                     else Table(data=[[_text(x) for x in row] for row in arr.reshape(
                         arr.shape[0], -1)]))
            imp.add(ev.step, ev.wall_time, {key: table})
        elif plugin == "images":
            images = [EncodedMedia("image", data=bytes(b)) for b in arr.reshape(-1)[2:]]
            if images:
                imp.add(ev.step, ev.wall_time, {tag: images if len(images) > 1 else images[0]})
        elif arr.ndim == 2 and arr.shape[1] == 3 and len(arr):
            left, right, counts = arr[:, 0].tolist(), arr[:, 1].tolist(), arr[:, 2].tolist()
            n += _histogram(imp, tag, ev.step, ev.wall_time, right, counts, left[0], right[-1])
            continue
        else:
            continue
        n += 1
    return n


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
