"""MLflow file store (``mlruns/<experiment>/<run>/``): params, metrics, tags, name, status.

A run folder holds ``meta.yaml``, ``params/<name>`` (the value as text), ``metrics/<name>``
(lines ``<timestamp ms> <value> [<step>]``) and ``tags/<name>``; names with ``/`` are nested
folders. Numbers in params become numbers, other params stay text. ``mlflow.runName`` names
the run, ``mlflow.note.content`` is its notes, ``mlflow.user``/``mlflow.source.*`` fill the
meta fields; other tags are kept in the config under ``mlflow_tags``. The project defaults to
the experiment's name. The store is read with PyYAML only: the ``mlflow`` package is not needed.
"""
from __future__ import annotations

import os
from typing import Iterator

from .. import schema
from .common import Imported, Problem, find_run_dirs, parse_number, walk_files
from .yamlfile import load_yaml

FORMAT = "mlflow"
OWNS_FOLDER = True   # every file in a run folder is part of that run
# mlflow.entities.RunStatus: RUNNING=1, SCHEDULED=2, FINISHED=3, FAILED=4, KILLED=5
_STATUS = {3: schema.FINISHED, 4: schema.CRASHED, 5: schema.KILLED,
           "FINISHED": schema.FINISHED, "FAILED": schema.CRASHED, "KILLED": schema.KILLED}


def _is_run_dir(path: str) -> bool:
    return (os.path.isfile(os.path.join(path, "meta.yaml"))
            and any(os.path.isdir(os.path.join(path, d)) for d in ("metrics", "params", "tags")))


def _run_dirs(source: str) -> list[str]:
    if os.path.isfile(source):
        source = os.path.dirname(source)
    return find_run_dirs(source, _is_run_dir, skip=(".trash", "artifacts"))


def detect(path: str) -> bool:
    return bool(_run_dirs(path))


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    for run_dir in _run_dirs(source):
        yield read_run(run_dir)


def _walk_files(folder: str) -> list[tuple[str, str]]:
    """``(name, path)`` of every file below ``folder``; nested folders join names with ``/``."""
    return [(os.path.relpath(p, folder).replace(os.sep, "/"), p) for p in walk_files(folder)]


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def read_run(run_dir: str) -> Imported:
    files = [p for _, p in _walk_files(run_dir) if f"{os.sep}artifacts{os.sep}" not in p]
    imp = Imported(format=FORMAT, source=run_dir, name=os.path.basename(run_dir),
                   hash_files=files)
    meta, problem = load_yaml(os.path.join(run_dir, "meta.yaml"))
    if problem:
        imp.problems.append(problem)
    meta = meta if isinstance(meta, dict) else {}
    experiment, _ = load_yaml(os.path.join(os.path.dirname(run_dir), "meta.yaml"))
    if isinstance(experiment, dict) and experiment.get("name"):
        imp.project = str(experiment["name"])

    for name, path in _walk_files(os.path.join(run_dir, "params")):
        text = _read_text(path)
        if text is not None:
            imp.config[name] = parse_number(text) if text.strip() == text else text

    tags = {name: (_read_text(path) or "")
            for name, path in _walk_files(os.path.join(run_dir, "tags"))}
    if tags.get("mlflow.runName"):
        imp.name = tags["mlflow.runName"]
    elif meta.get("run_name") or meta.get("name"):
        imp.name = str(meta.get("run_name") or meta.get("name"))
    imp.notes = tags.get("mlflow.note.content") or None
    imp.host = {"user": tags.get("mlflow.user") or meta.get("user_id") or None,
                "command": [tags["mlflow.source.name"]] if tags.get("mlflow.source.name") else None,
                "git": ({"commit": tags["mlflow.source.git.commit"], "branch":
                         tags.get("mlflow.source.git.branch"), "remote":
                         tags.get("mlflow.source.git.repoURL"), "dirty": None}
                        if tags.get("mlflow.source.git.commit") else None)}
    user_tags = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
    if user_tags:
        imp.config["mlflow_tags"] = user_tags
    imp.config["mlflow_run_id"] = str(meta.get("run_id") or meta.get("run_uuid") or imp.name)

    for name, path in _walk_files(os.path.join(run_dir, "metrics")):
        try:
            f = open(path, encoding="utf-8", errors="replace")
        except OSError as exc:
            imp.problems.append(Problem(path, None, f"cannot open ({exc.strerror})"))
            continue
        with f:
            for lineno, line in enumerate(f, start=1):
                parts = line.split()
                if not parts:
                    continue
                try:
                    ts = int(parts[0]) / 1000.0
                    value = float(parts[1])
                    step = int(parts[2]) if len(parts) > 2 else 0
                except (ValueError, IndexError):
                    imp.problems.append(Problem(path, lineno, "expected '<timestamp ms> <value> "
                                                "[<step>]'; line skipped"))
                    continue
                imp.add(step, ts, {name: value})

    if meta.get("start_time") is not None:
        imp.started_at = float(meta["start_time"]) / 1000.0
    if meta.get("end_time") is not None:
        imp.ended_at = float(meta["end_time"]) / 1000.0
    status = meta.get("status")
    if status in _STATUS:
        imp.status = _STATUS[status]
        if imp.status != schema.FINISHED:
            imp.reason = f"MLflow status {status}"
    else:
        imp.status = schema.CRASHED
        imp.reason = (f"MLflow status {status!r} (RUNNING or SCHEDULED) with no end: "
                      "the run never reported that it finished")
    return imp
