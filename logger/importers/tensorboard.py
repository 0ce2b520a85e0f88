"""TensorBoard event files: scalars (v1 ``simple_value`` and v2 scalar tensors), hparams,
wall times.

Read with ``tensorboard``'s own ``EventAccumulator`` (``pip install tensorboard``, no
TensorFlow needed): it is the reader TensorBoard itself uses, handles the v1/v2 summary
layouts and restarts, and works offline. ``tbparse`` wraps the same reader and adds pandas;
this module needs neither. Each folder that holds event files is one run, named by its last two path
parts (``lightning_logs/version_3``, ``logs/train``); its ``hparams.yaml``
(Lightning's TensorBoardLogger) and the hparams plugin data become the config. A file cut off
mid-record is found by walking the TFRecord length framing and listed as a problem; the
records before the cut are imported.
"""
from __future__ import annotations

import os
import struct
from typing import Iterator

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
    ea_mod = _reader()
    for run_dir in _run_dirs(source):
        yield read_dir(run_dir, ea_mod)


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

    ea = ea_mod.EventAccumulator(run_dir, size_guidance={ea_mod.SCALARS: 0, ea_mod.TENSORS: 0})
    try:
        ea.Reload()
    except Exception as exc:  # noqa: BLE001 (a damaged file: keep what was read)
        imp.problems.append(Problem(run_dir, None, f"reading stopped early ({exc!r})"))
    tags = ea.Tags()
    for tag in tags.get("scalars", []):
        for ev in ea.Scalars(tag):
            imp.add(ev.step, ev.wall_time, {tag: float(ev.value)})
    for tag in tags.get("tensors", []):
        _read_tensor_scalars(ea, tag, imp)
    imp.config.update(_hparams(ea, imp))
    try:
        imp.started_at = ea.FirstEventTimestamp()
    except ValueError:
        pass
    return imp


def _read_tensor_scalars(ea, tag: str, imp: Imported) -> None:
    try:
        from tensorboard.util import tensor_util  # noqa: PLC0415
        if ea.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            return
        for ev in ea.Tensors(tag):
            arr = tensor_util.make_ndarray(ev.tensor_proto)
            if arr.size == 1:
                imp.add(ev.step, ev.wall_time, {tag: arr.reshape(()).item()})
    except Exception as exc:  # noqa: BLE001
        imp.problems.append(Problem(imp.source, None, f"tensor {tag!r} not read ({exc!r})"))


def _hparams(ea, imp: Imported) -> dict:
    try:
        content = ea.PluginTagToContent("hparams")
    except KeyError:
        return {}
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: PLC0415
    except ImportError:
        return {}
    out: dict = {}
    for raw in content.values():
        try:
            data = plugin_data_pb2.HParamsPluginData.FromString(raw)
        except Exception:  # noqa: BLE001
            imp.problems.append(Problem(imp.source, None, "hparams plugin data not readable"))
            continue
        if data.WhichOneof("data") != "session_start_info":
            continue
        for name, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            if kind is not None:
                out[name] = getattr(value, kind)
    return out
