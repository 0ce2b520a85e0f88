"""W&B run folders (``wandb/run-<date>-<id>/`` or ``offline-run-...``): config, summary,
metadata, console output, and the history from the ``.wandb`` file where it can be read.

``files/config.yaml`` (``{key: {desc, value}}``; the ``_wandb`` entry dropped),
``files/wandb-summary.json`` (the summary; ``_step``/``_timestamp``/``_runtime`` give the end),
``files/wandb-metadata.json`` (host, user, program, args, start time) and ``files/output.log``
(→ ``console.log``) are read as text; images, audio, video, tables and histograms the run logged
become media (``wandb_media``). The history lives only in ``run-<id>.wandb``: a LevelDB
log (32 KiB blocks of framed chunks) of ``wandb_internal_pb2.Record`` messages. wandb 0.20+
no longer ships a Python reader for it, so this module walks the framing itself and decodes each
record with the generated protobuf classes that ship in the ``wandb`` package (no network, no
login); without ``wandb`` installed, or without a ``.wandb`` file, the history is left out and
that is listed as a problem. A history that ends before the summary's ``_step`` (the step the
run reached) is imported as it is, with a problem saying how far it falls short. A crash is read from the ``.wandb`` exit record, else from a
Python traceback at the end of ``output.log``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import struct
from typing import Any, Iterator

from .. import schema
from . import wandb_media
from .common import Imported, Problem, find_run_dirs, history_shorter, traceback_reason
from .yamlfile import load_yaml

FORMAT = "wandb"
OWNS_FOLDER = True   # every file in a run folder is part of that run (output.log too)
_RUN_DIR = re.compile(r"^(offline-)?run-\d{8}_\d{6}-[A-Za-z0-9]+$")
_BLOCK = 32768
_HEADER = 7       # ":W&B" + u16 magic + u8 version
_CHUNK_HEAD = 7   # u32 crc + u16 length + u8 type
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _is_run_dir(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "files")) and (
        _RUN_DIR.match(os.path.basename(path)) is not None
        or os.path.isfile(os.path.join(path, "files", "wandb-metadata.json")))


def _run_dirs(source: str) -> list[str]:
    if os.path.isfile(source):
        source = os.path.dirname(os.path.abspath(source))
    if os.path.basename(source) == "files" and _is_run_dir(os.path.dirname(source)):
        return [os.path.dirname(source)]
    return find_run_dirs(source, _is_run_dir)


def detect(path: str) -> bool:
    return bool(_run_dirs(path))


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    for run_dir in _run_dirs(source):
        yield read_run(run_dir)


def _json(path: str, imp: Imported) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        return value if isinstance(value, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        imp.problems.append(Problem(path, None, f"not readable as JSON ({exc}); skipped"))
        return {}


def _config_value(entry: Any) -> Any:
    """W&B config entries are ``{desc, value}``: the value (anything else as it is)."""
    return entry["value"] if isinstance(entry, dict) and "value" in entry else entry


def _iso(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:   # W&B writes UTC without an offset
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


def read_run(run_dir: str) -> Imported:
    files_dir = os.path.join(run_dir, "files")
    run_files = sorted(os.path.join(run_dir, f) for f in os.listdir(run_dir)
                       if f.endswith(".wandb"))
    text_files = [os.path.join(files_dir, f) for f in
                  ("config.yaml", "wandb-summary.json", "wandb-metadata.json", "output.log")]
    m = _RUN_DIR.match(os.path.basename(run_dir))
    run_key = os.path.basename(run_dir).rsplit("-", 1)[-1] if m else os.path.basename(run_dir)
    imp = Imported(format=FORMAT, source=run_dir, name=run_key,
                   hash_files=[p for p in text_files + run_files if os.path.isfile(p)])

    cfg_path = os.path.join(files_dir, "config.yaml")
    if os.path.isfile(cfg_path):
        raw, problem = load_yaml(cfg_path)
        if problem:
            imp.problems.append(problem)
        if isinstance(raw, dict):
            imp.config = {k: _config_value(v) for k, v in raw.items()
                          if k not in ("_wandb", "wandb_version")}

    summary = _json(os.path.join(files_dir, "wandb-summary.json"), imp)
    imp.summary = {k: v for k, v in summary.items()
                   if not k.startswith("_") and not wandb_media.is_media_value(v)}
    meta = _json(os.path.join(files_dir, "wandb-metadata.json"), imp)
    imp.started_at = _iso(meta.get("startedAt"))
    if isinstance(summary.get("_timestamp"), (int, float)):
        imp.ended_at = float(summary["_timestamp"])
    elif imp.started_at is not None and isinstance(summary.get("_runtime"), (int, float)):
        imp.ended_at = imp.started_at + float(summary["_runtime"])
    program = meta.get("program") or meta.get("codePath")
    imp.host = {"user": meta.get("username"), "host": meta.get("host"), "os": meta.get("os"),
                "python": meta.get("python"), "cpu_count": meta.get("cpu_count"),
                "command": ([program, *(meta.get("args") or [])] if program else None),
                "cwd": meta.get("root"),
                "git": ({"commit": meta["git"].get("commit"), "branch": None,
                         "remote": meta["git"].get("remote"), "dirty": None}
                        if isinstance(meta.get("git"), dict) else None)}

    out_path = os.path.join(files_dir, "output.log")
    if os.path.isfile(out_path):
        with open(out_path, encoding="utf-8", errors="replace") as f:
            imp.console = f.read()

    exit_code = None
    if not run_files:
        reached = summary.get("_step")
        imp.problems.append(Problem(run_dir, None, "no .wandb file: the step-by-step history "
                                    "was not imported, only config, summary, metadata and "
                                    "console output" + (f" (the summary says the run reached "
                                                        f"step {reached})" if isinstance(
                                                            reached, int) and reached else "")))
    said: dict = {}
    media = wandb_media.Resolver(run_dir, imp)
    for path in run_files:
        exit_code = _read_history(path, imp, said, media)
    for step, key, item in media.unreferenced():     # files no history row points at
        imp.add(step, None, {key: item})
    last = summary.get("_step", said.get("_step"))
    problem = history_shorter(imp, last, "the W&B summary") if run_files else None
    if problem:
        imp.problems.append(problem)
    if exit_code is not None and exit_code != 0:
        imp.status, imp.reason = schema.CRASHED, f"exit code {exit_code}"
    elif exit_code is None:
        tb = traceback_reason(imp.console or "")
        if tb:
            imp.status, imp.reason = schema.CRASHED, tb
    return imp


def read_chunks(data: bytes) -> tuple[list[bytes], int | None]:
    """LevelDB-log records after the 7-byte W&B header; returns ``(records, cut_at)``."""
    records, parts = [], []
    pos = _HEADER
    while pos + _CHUNK_HEAD <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _CHUNK_HEAD:          # block trailer: zero padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + _CHUNK_HEAD])
        if kind == 0 and length == 0:   # preallocated zeros: end of the written part
            return records, None
        body = data[pos + _CHUNK_HEAD:pos + _CHUNK_HEAD + length]
        if len(body) < length or kind not in (_FULL, _FIRST, _MIDDLE, _LAST):
            return records, pos
        pos += _CHUNK_HEAD + length
        if kind == _FULL:
            records.append(body)
        elif kind == _FIRST:
            parts = [body]
        elif kind == _MIDDLE:
            parts.append(body)
        else:
            records.append(b"".join(parts + [body]))
            parts = []
    return records, (pos if pos < len(data) and any(data[pos:]) else None)


def _read_history(path: str, imp: Imported, said: dict,
                  media: wandb_media.Resolver) -> int | None:
    """Add the history rows of one ``.wandb`` file to ``imp``; the summary's own keys
    (``_step``) go to ``said``; returns the exit code, if the file has one."""
    try:
        from wandb.proto import wandb_internal_pb2 as pb  # noqa: PLC0415
    except ImportError:
        imp.problems.append(Problem(path, None, "history not imported: decoding .wandb records "
                                    "needs the wandb package (pip install wandb; it is only "
                                    "used offline); config, summary, metadata and console "
                                    "output were imported"))
        return None
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b":W&B"):
        imp.problems.append(Problem(path, None, "not a W&B run file (no :W&B header); skipped"))
        return None
    chunks, cut = read_chunks(data)
    if cut is not None:
        imp.problems.append(Problem(path, None, f"cut off at byte {cut} of {len(data)}; the "
                                    "records before it were imported"))
    exit_code = None
    rec_config: dict = {}
    rec_summary: dict = {}
    for raw in chunks:
        rec = pb.Record()
        try:
            rec.ParseFromString(raw)
        except Exception:  # noqa: BLE001 (protobuf's DecodeError)
            imp.problems.append(Problem(path, None, "a record did not decode; skipped"))
            continue
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            _history_row(rec.history, imp, media)
        elif kind in ("run", "config"):
            items = rec.run.config.update if kind == "run" else rec.config.update
            config = _items(items)
            config.pop("_wandb", None)
            rec_config.update(config)
        elif kind == "summary":
            rec_summary.update(_items(rec.summary.update))
        if kind == "run":
            if rec.run.HasField("start_time") and imp.started_at is None:
                imp.started_at = rec.run.start_time.ToMicroseconds() / 1e6
            imp.name = rec.run.display_name or imp.name
            imp.project = rec.run.project or imp.project
            imp.tags.extend(t for t in rec.run.tags if t not in imp.tags)
            imp.notes = rec.run.notes or imp.notes
        elif kind == "exit":
            exit_code = rec.exit.exit_code
    # files/config.yaml and files/wandb-summary.json, when there, were read first and win
    for k, v in rec_config.items():
        imp.config.setdefault(k, _config_value(v))
    for k, v in rec_summary.items():
        if k.startswith("_"):
            said[k] = v
        elif not wandb_media.is_media_value(v):
            imp.summary.setdefault(k, v)
    return exit_code


def _items(items: Any) -> dict:
    """``{key: value}`` of protobuf items (nested keys joined with ``/``); undecodable skipped."""
    out = {}
    for item in items:
        key = "/".join(item.nested_key) if item.nested_key else item.key
        try:
            out[key] = json.loads(item.value_json)
        except ValueError:
            continue
    return out


def _leaves(tree: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(key, value)`` of a history row; nested keys joined with ``/``, a media value (a dict
    with ``_type``) kept whole."""
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and not wandb_media.is_media_value(value):
            yield from _leaves(value, full + "/")
        else:
            yield full, value


def _history_row(history: Any, imp: Imported, media: wandb_media.Resolver) -> None:
    values: dict = {}
    step = history.step.num if history.HasField("step") else None
    when = None
    items = {}
    for item in history.item:
        try:
            items[tuple(item.nested_key) if item.nested_key else (item.key,)] = json.loads(
                item.value_json)
        except ValueError:
            continue
    for key, value in _leaves(wandb_media.nested(items)):
        if key == "_step" and isinstance(value, int):
            step = value if step is None else step
        elif key == "_timestamp" and isinstance(value, (int, float)):
            when = float(value)
        elif key.startswith("_"):
            continue
        elif wandb_media.is_media_value(value):
            found = media.media(value)
            if found is not None:
                values[key] = found
        elif not isinstance(value, dict):
            values[key] = value
    if step is None:
        step = len(imp.records)
    imp.add(step, when, values)
