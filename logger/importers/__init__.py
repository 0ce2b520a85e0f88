"""Import runs that other tools wrote:
``runpages import SOURCE [-o RUNS_DIR] [--project NAME] [--format NAME] [--pattern REGEX]``.

    from runpages.importers import detect, import_source
    detect("mlruns")                               # "mlflow"
    result = import_source("mlruns", "runs")       # ImportResult(found, written, skipped, ...)

One module per format, each with ``detect(path) -> bool`` and ``read(path, pattern) ->
Iterator[Imported]``; ``common.write_run`` writes every run through the real logger. A folder
may hold several formats (an HF output folder: TensorBoard events and trainer_state.json): every
format is read, in ``FORMATS`` order, most specific first, plain text last; a run whose files
lie inside a run an earlier format took (a W&B run's output.log, the CSV beside Lightning's
TensorBoard events) is the same run and is not imported twice (``ImportResult.notes`` says so).
Importing this package loads the standard library only: PyYAML, tensorboard and wandb load when
a format needs them.
"""
from __future__ import annotations

import math
import os
import re
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
_UNREAD_EXTS = (".log", ".out", ".txt", ".md", ".csv", ".stdout", ".err")   # worth a word


class ImportSourceError(RunpagesError, ValueError):
    """The source cannot be imported at all (missing, unknown format); the message says why."""


@dataclass
class ImportResult:
    found: dict[str, int] = field(default_factory=dict)    # format → runs found in the source
    written: list[str] = field(default_factory=list)       # run ids written now
    skipped: list[str] = field(default_factory=list)       # run ids already imported earlier
    projects: dict[str, str] = field(default_factory=dict)  # run id → project it is in
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)         # not problems, but worth a line

    @property
    def format(self) -> str:
        """The format found (several joined with ``+``)."""
        return "+".join(self.found)

    @property
    def project(self) -> str:
        """The project the runs went to (several joined with ``, ``)."""
        return ", ".join(dict.fromkeys(self.projects.values()))


def _module(name: str) -> Any:
    return import_module(f"{__name__}.{name}")


def _nothing_found(path: str) -> ImportSourceError:
    return ImportSourceError(
        f"{path}: not a format runpages can import (TensorBoard event files, an "
        "MLflow mlruns/ folder, trainer_state.json, a Lightning or Keras CSVLogger file, a W&B "
        "run folder, or a text log with 'step' and key: value pairs; for other text logs pass "
        "--pattern with named groups).")


def _exists(path: str) -> None:
    if not os.path.exists(path):
        raise ImportSourceError(f"{path}: no such file or folder.")


def detect_all(source: str | os.PathLike) -> list[str]:
    """Every format found in a file or folder, in ``FORMATS`` order (a file: the first only)."""
    path = os.fspath(source)
    _exists(path)
    found = [name for name in FORMATS if _module(name).detect(path)]
    return found[:1] if os.path.isfile(path) else found


def detect(source: str | os.PathLike) -> str:
    """The first format of a file or folder; raises ImportSourceError when none fits."""
    found = detect_all(source)
    if not found:
        raise _nothing_found(os.fspath(source))
    return found[0]


def _formats(path: str, fmt: str | None, pattern: str | None) -> list[str]:
    if fmt is not None and fmt not in FORMATS:
        raise ImportSourceError(f"--format {fmt!r} is not a format runpages imports; use one of "
                                f"{', '.join(FORMATS)}.")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ImportSourceError(f"--pattern {pattern!r} is not a valid regular "
                                    f"expression ({exc}).") from None
        if fmt not in (None, "text"):
            raise ImportSourceError(f"--pattern reads text logs; it does not go with "
                                    f"--format {fmt}.")
        _exists(path)
        return ["text"]
    if fmt is not None:
        _exists(path)
        if not _module(fmt).detect(path):
            others = [f for f in detect_all(path) if f != fmt]
            raise ImportSourceError(f"{path}: no {fmt} runs found"
                                    + (f" (found: {', '.join(others)})." if others else "."))
        return [fmt]
    found = detect_all(path)
    if not found:
        raise _nothing_found(path)
    return found


def _inside(path: str, claimed: list[str]) -> bool:
    return any(path == c or path.startswith(c.rstrip(os.sep) + os.sep) for c in claimed)


def _values(imp: Imported) -> dict:
    return {(step, key): v for step, _, values in imp.records for key, v in values.items()}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (a != a and b != b) or math.isclose(a, b, rel_tol=1e-5)
    return a == b


def _same_records(imp: Imported, other: Imported) -> bool:
    """Whether ``imp`` holds nothing but what ``other`` holds (its config, and every value of
    it at the same step): two loggers of one training (Lightning's CSVLogger beside its
    TensorBoardLogger, in ``version_1/`` beside ``version_0/``; TensorBoard adds hparams keys
    and ``hp_metric``, so ``other`` may hold more)."""
    if imp.format == other.format or not imp.records or not all(
            k in other.config and other.config[k] == v for k, v in imp.config.items()):
        return False
    mine, theirs = _values(imp), _values(other)
    return all(k in theirs and _close(v, theirs[k]) for k, v in mine.items())


def _same_run(imp: Imported, earlier: list[Imported]) -> Imported | None:
    """The earlier run ``imp`` is part of: one with the same folder (Lightning's TensorBoard and
    CSV loggers given one ``version``), one whose format owns its whole folder (a W&B run's
    ``files/output.log``), or one that holds all its values (``_same_records``)."""
    where = os.path.realpath(imp.source)
    for run in earlier:
        theirs = os.path.realpath(run.source)
        if where == theirs or (getattr(_module(run.format), "OWNS_FOLDER", False)
                               and _inside(where, [theirs])):
            return run
    return next((run for run in earlier if _same_records(imp, run)), None)


def _read_all(path: str, formats: list[str], pattern: str | None,
              notes: list[str], same: list[Imported]) -> list[Imported]:
    """Every run of every format; a run that is part of one an earlier format took is left out
    (added to ``same``)."""
    runs: list[Imported] = []
    for name in formats:
        taken = []
        for imp in _module(name).read(path, pattern):
            owner = _same_run(imp, runs)
            if owner is not None:
                same.append(imp)
                notes.append(f"{name} run {imp.name!r} is the same run as {owner.format} run "
                             f"{owner.name!r} (imported once)")
                continue
            taken.append(imp)
        runs.extend(taken)
    return runs


def _unread_files(path: str, runs: list[Imported]) -> list[str]:
    """Log-like files below ``path`` that no run took (so that nothing is skipped unsaid)."""
    if not os.path.isdir(path):
        return []
    from .common import walk_files  # noqa: PLC0415
    taken = [os.path.abspath(r.source) for r in runs]
    taken += [os.path.abspath(f) for r in runs for f in r.hash_files]
    return [os.path.relpath(p, path) for p in walk_files(path)
            if p.lower().endswith(_UNREAD_EXTS) and not _inside(os.path.abspath(p), taken)]


def _projects(runs: list[Imported], project: str | None, fallback: str) -> list[str]:
    """The project of each run: ``project``, else the run's own (MLflow experiment, W&B
    project), else its experiment folder when the runs come from several, else ``fallback``."""
    groups = {r.group for r in runs if r.project is None and r.group}
    return [project or r.project or (r.group if len(groups) > 1 else None) or fallback
            for r in runs]


def import_source(source: str | os.PathLike, runs_dir: str | os.PathLike = "runs",
                  project: str | None = None, pattern: str | None = None,
                  format: str | None = None) -> ImportResult:  # noqa: A002 (the CLI's --format)
    """Read ``source`` and write one run folder per run found under ``runs_dir/<project>/``.

    ``project`` defaults to each run's own project (MLflow experiment, W&B project), else the
    source's folder name. ``format`` reads one format only; ``pattern`` (a regex with named
    groups) forces the text format. A run imported before, into any project of ``runs_dir``, is
    skipped (importing a sub-folder of an imported folder adds nothing).
    """
    path = os.fspath(source)
    formats = _formats(path, format, pattern)
    result = ImportResult()
    same: list[Imported] = []
    runs = _read_all(path, formats, pattern, result.notes, same)
    if not runs:
        if pattern is not None:
            raise ImportSourceError(f"{path}: --pattern {pattern!r} matched no line of any "
                                    "text file there; nothing was imported.")
        raise _nothing_found(path)
    fallback = os.path.basename(os.path.normpath(os.path.abspath(path)))
    if os.path.isfile(path):
        fallback = os.path.basename(os.path.dirname(os.path.abspath(path))) or fallback
    for imp, proj in zip(runs, _projects(runs, project, fallback or "imported"), strict=True):
        result.found[imp.format] = result.found.get(imp.format, 0) + 1
        rid, written, where = write_run(imp, os.fspath(runs_dir), proj)
        (result.written if written else result.skipped).append(rid)
        result.projects[rid] = where
        result.problems.extend(imp.problems)
    unread = _unread_files(path, runs + same) if format is None else []
    if unread:
        result.notes.append(f"{len(unread)} file{'s' * (len(unread) != 1)} not imported (no "
                            f"metrics found in them): {', '.join(unread[:5])}"
                            + (", ..." if len(unread) > 5 else ""))
    return result
