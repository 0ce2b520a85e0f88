"""TensorBoard event files: scalars (v1 ``simple_value`` and v2 scalar tensors), hparams,
wall times, and images, histograms and text as media (``tb_media``).

Read with ``tensorboard``'s own ``EventAccumulator`` (``pip install tensorboard``, no
TensorFlow needed): it is the reader TensorBoard itself uses, handles the v1/v2 summary
layouts and restarts, and works offline. ``tbparse`` wraps the same reader and adds pandas;
this module needs neither. Each folder that holds event files is one run, named by its last two path
parts (``lightning_logs/version_3``, ``logs/train``); its ``hparams.yaml``
(Lightning's TensorBoardLogger) and the hparams plugin data become the config. The sub-folders
``SummaryWriter.add_scalars`` writes (``loss_train/`` for ``add_scalars("loss", {"train": ..})``)
are keys of their parent's run (``loss/train``); the one ``add_hparams`` writes gives the parent
its hparams (config) and its metric values (summary). Each scalar keeps its own wall time. A file cut off
mid-record is found by walking the TFRecord length framing and listed as a problem; the
records before the cut are imported.
"""
from __future__ import annotations

import os
import struct
from typing import Iterator

from . import tb_media
from .common import Imported, Problem
from .lightning_csv import experiment_of
from .yamlfile import load_yaml

FORMAT = "tensorboard"
_MARK = "tfevents"


def _is_event_file(name: str) -> bool:
    return name.startswith("events.out.tfevents") or (_MARK in name and not name.endswith(".txt"))


def _run_dirs(source: str) -> list[str]:
    if os.path.isfile(source):
        return [os.path.dirname(os.path.abspath(source))] if _is_event_file(
            os.path.basename(source)) else []
    found = []
    for root, dirs, files in os.walk(source):
        dirs.sort()
        if any(_is_event_file(f) for f in files):
            found.append(root)
    return found


def detect(path: str) -> bool:
    return bool(_run_dirs(path))


def _reader():
    try:
        from tensorboard.backend.event_processing import event_accumulator  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError("runpages: importing TensorBoard event files needs the tensorboard "
                          "package: pip install 'runpages[import]' (or pip install "
                          "tensorboard).") from exc
    return event_accumulator


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    """One run per event folder; the sub-folders ``add_scalars`` and ``add_hparams`` write are
    merged into the run of their parent folder (``_child_kind``)."""
    ea_mod = _reader()
    dirs = _run_dirs(source)
    runs: dict[str, Imported] = {}
    for run_dir in dirs:
        imp, info = _read_one(run_dir, ea_mod)
        parent = runs.get(os.path.dirname(run_dir))
        kind = _child_kind(run_dir, info) if parent is not None else None
        if kind is None:
            runs[run_dir] = imp
        else:
            _merge_child(parent, imp, info, kind)
    yield from runs.values()


def _child_kind(run_dir: str, info: dict) -> str | None:
    """``"scalars"``: ``add_scalars(main_tag, {name: value})`` writes each name to
    ``<logdir>/<main_tag with / as _>_<name>/`` under the one tag ``main_tag``; ``"hparams"``:
    ``add_hparams`` writes its session to ``<logdir>/<run_name>/``. Anything else in a sub-folder
    is a run of its own (``logs/train`` beside ``logs/eval``)."""
    if info["session"]:
        return "hparams"
    tags, folder = info["scalar_tags"], os.path.basename(run_dir)
    if len(tags) == 1 and not info["media"]:
        (tag,) = tags
        if folder.startswith(tag.replace("/", "_") + "_") and len(folder) > len(tag) + 1:
            return "scalars"
    return None


def _merge_child(parent: Imported, child: Imported, info: dict, kind: str) -> None:
    parent.hash_files.extend(child.hash_files)
    parent.problems.extend(child.problems)
    if kind == "scalars":
        (tag,) = info["scalar_tags"]
        key = f"{tag}/{os.path.basename(child.source)[len(tag) + 1:]}"
        for step, time, values in child.records:
            parent.add(step, time, {key if k == tag else k: v for k, v in values.items()})
        return
    for k, v in child.config.items():        # the session's hparams: the parent's config
        parent.config.setdefault(k, v)
    last: dict = {}
    for _, _, values in sorted(child.records, key=lambda r: r[0]):
        last.update(values)                  # its metric_dict values: the run's results
    parent.summary.update({k: v for k, v in last.items() if not _is_media(v)})


def _is_media(value) -> bool:
    from ..media import Media  # noqa: PLC0415
    return isinstance(value, Media)


def check_framing(path: str) -> Problem | None:
    """Walk TFRecord frames (u64 length, u32 crc, data, u32 crc); report a cut-off record."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            offset = 0
            while offset < size:
                head = f.read(8)
                if len(head) < 8:
                    break
                (length,) = struct.unpack("<Q", head)
                end = offset + 12 + length + 4
                if end > size:
                    break
                f.seek(end)
                offset = end
    except OSError as exc:
        return Problem(path, None, f"cannot read ({exc.strerror})")
    if offset < size:
        return Problem(path, None, f"cut off at byte {offset} of {size} (a record is "
                       "incomplete); the records before it were imported")
    return None


def read_dir(run_dir: str, ea_mod) -> Imported:
    """One event folder as a run (its sub-folders not included)."""
    return _read_one(run_dir, ea_mod)[0]


def _read_one(run_dir: str, ea_mod) -> tuple[Imported, dict]:
    files = sorted(os.path.join(run_dir, f) for f in os.listdir(run_dir) if _is_event_file(f))
    hparams_yaml = os.path.join(run_dir, "hparams.yaml")
    parts = os.path.abspath(run_dir).replace(os.sep, "/").split("/")
    imp = Imported(format=FORMAT, source=run_dir, name="/".join(p for p in parts[-2:] if p),
                   hash_files=files + ([hparams_yaml] if os.path.isfile(hparams_yaml) else []),
                   group=experiment_of(run_dir))
    for path in files:
        problem = check_framing(path)
        if problem:
            imp.problems.append(problem)
    if os.path.isfile(hparams_yaml):
        config, problem = load_yaml(hparams_yaml)
        if problem:
            imp.problems.append(problem)
        if isinstance(config, dict):
            imp.config.update(config)

    ea = ea_mod.EventAccumulator(run_dir, size_guidance={
        ea_mod.SCALARS: 0, ea_mod.TENSORS: 0, ea_mod.IMAGES: 0, ea_mod.HISTOGRAMS: 0})
    try:
        ea.Reload()
    except Exception as exc:  # noqa: BLE001 (a damaged file: keep what was read)
        imp.problems.append(Problem(run_dir, None, f"reading stopped early ({exc!r})"))
    tags = ea.Tags()
    scalar_tags = set(tags.get("scalars", []))
    for tag in tags.get("scalars", []):
        for ev in ea.Scalars(tag):
            imp.add(ev.step, ev.wall_time, {tag: float(ev.value)})
    for tag in tags.get("tensors", []):
        if _read_tensor_scalars(ea, tag, imp):
            scalar_tags.add(tag)
    n_media = tb_media.read_media(ea, tags, imp)
    hparams, session = _hparams(ea, imp)
    for k, v in hparams.items():              # hparams.yaml (Lightning's, typed) wins
        imp.config.setdefault(k, v)
    try:
        imp.started_at = ea.FirstEventTimestamp()
    except ValueError:
        pass
    return imp, {"scalar_tags": scalar_tags, "session": session, "media": n_media}


def _read_tensor_scalars(ea, tag: str, imp: Imported) -> bool:
    """v2 scalar summaries (tensors of the scalars plugin); True when ``tag`` is one."""
    try:
        from tensorboard.util import tensor_util  # noqa: PLC0415
        if ea.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            return False
        for ev in ea.Tensors(tag):
            arr = tensor_util.make_ndarray(ev.tensor_proto)
            if arr.size == 1:
                imp.add(ev.step, ev.wall_time, {tag: arr.reshape(()).item()})
    except Exception as exc:  # noqa: BLE001
        imp.problems.append(Problem(imp.source, None, f"tensor {tag!r} not read ({exc!r})"))
    return True


def _hparams(ea, imp: Imported) -> tuple[dict, bool]:
    """The session's hparams, and whether this folder holds an ``add_hparams`` session.

    The event file keeps every number as a double: a whole number comes back as an int (``32``,
    not ``32.0``), which is what ``add_hparams({"batch": 32})`` meant; ``1.0`` reads as ``1``.
    """
    try:
        content = ea.PluginTagToContent("hparams")
    except KeyError:
        return {}, False
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: PLC0415
    except ImportError:
        return {}, False
    out: dict = {}
    session = False
    for raw in content.values():
        try:
            data = plugin_data_pb2.HParamsPluginData.FromString(raw)
        except Exception:  # noqa: BLE001
            imp.problems.append(Problem(imp.source, None, "hparams plugin data not readable"))
            continue
        if data.WhichOneof("data") != "session_start_info":
            continue
        session = True
        for name, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            if kind is not None:
                v = getattr(value, kind)
                out[name] = int(v) if kind == "number_value" and float(v).is_integer() else v
    return out, session
