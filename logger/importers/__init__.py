"""Import runs that other tools wrote: ``runpages import SOURCE [-o RUNS_DIR] [--project NAME]``.

    from runpages.importers import detect, import_source
    detect("mlruns")                               # "mlflow"
    result = import_source("mlruns", "runs")       # ImportResult(written, skipped, problems)

One module per format, each with ``detect(path) -> bool`` and ``read(path, pattern) ->
Iterator[Imported]``; ``common.write_run`` writes every run through the real logger. Formats
are tried in ``FORMATS`` order, most specific first, plain text last. Importing this package
loads the standard library only: PyYAML, tensorboard and wandb load when a format needs them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from ..errors import RunpagesError

from .common import Imported, Problem, write_run

# name → module; the order is the detection order.
FORMATS = ("wandb", "mlflow", "tensorboard", "trainer_state", "lightning_csv", "keras_csv",
           "text")
__all__ = ["FORMATS", "ImportResult", "ImportSourceError", "Imported", "Problem", "detect",
           "import_source", "write_run"]


class ImportSourceError(RunpagesError, ValueError):
    """The source cannot be imported at all (missing, unknown format); the message says why."""


@dataclass
class ImportResult:
    format: str
    project: str
    written: list[str] = field(default_factory=list)   # run ids written now
    skipped: list[str] = field(default_factory=list)   # run ids already imported earlier
    problems: list[Problem] = field(default_factory=list)


def _module(name: str) -> Any:
    return import_module(f"{__name__}.{name}")


def detect(source: str | os.PathLike) -> str:
    """The format name of a file or folder; raises ImportSourceError when none fits."""
    path = os.fspath(source)
    if not os.path.exists(path):
        raise ImportSourceError(f"{path}: no such file or folder.")
    for name in FORMATS:
        if _module(name).detect(path):
            return name
    raise ImportSourceError(
        f"{path}: not a format runpages can import (TensorBoard event files, an "
        "MLflow mlruns/ folder, trainer_state.json, a Lightning or Keras CSVLogger file, a W&B "
        "run folder, or a text log with 'step' and key: value pairs; for other text logs pass "
        "--pattern with named groups).")


def import_source(source: str | os.PathLike, runs_dir: str | os.PathLike = "runs",
                  project: str | None = None, pattern: str | None = None) -> ImportResult:
    """Read ``source`` and write one run folder per run found under ``runs_dir/<project>/``.

    ``project`` defaults to the source's own project (MLflow experiment, W&B project), else
    the source's folder name. ``pattern`` (a regex with named groups) forces the text format.
    """
    path = os.fspath(source)
    if pattern is not None:
        import re  # noqa: PLC0415
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ImportSourceError(f"--pattern {pattern!r} is not a valid regular "
                                    f"expression ({exc}).") from None
        fmt = "text"
        if not os.path.exists(path):
            raise ImportSourceError(f"{path}: no such file or folder.")
    else:
        fmt = detect(path)
    fallback = os.path.basename(os.path.normpath(os.path.abspath(path)))
    if os.path.isfile(path):
        fallback = os.path.basename(os.path.dirname(os.path.abspath(path))) or fallback
    runs = list(_module(fmt).read(path, pattern))
    proj = project or next((r.project for r in runs if r.project), None) or fallback or "imported"
    result = ImportResult(format=fmt, project=proj)
    for imp in runs:
        rid, written = write_run(imp, os.fspath(runs_dir), proj)
        (result.written if written else result.skipped).append(rid)
        result.problems.extend(imp.problems)
    return result

