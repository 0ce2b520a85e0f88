"""Lightning ``CSVLogger`` output: ``<name>/version_N/metrics.csv`` (+ ``hparams.yaml``).

Columns are sparse: a row holds only the keys logged at that call, the others are empty. An
empty cell is "not logged"; ``nan`` is a logged NaN (a diverged loss) and is kept. Each
``version_N`` folder is one run named ``<name>/version_N``; when a source holds several
experiments (``<name>`` folders), each is its own project. No times: the file's mtime stands in.
"""
from __future__ import annotations

import csv
import os
import re
from typing import Iterator

from .common import Imported, Problem, parse_number, walk_files
from .yamlfile import load_yaml

FORMAT = "lightning_csv"
FILE = "metrics.csv"


def experiment_of(folder: str) -> str | None:
    """Lightning's experiment name: ``<save_dir>/<name>/version_N`` → ``name``."""
    folder = os.path.abspath(folder)
    if re.fullmatch(r"version_\d+", os.path.basename(folder)):
        return os.path.basename(os.path.dirname(folder)) or None
    return None


def csv_header(path: str) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def is_lightning_csv(path: str) -> bool:
    return path.endswith(".csv") and "step" in csv_header(path)


def _files(source: str) -> list[str]:
    if os.path.isfile(source):
        return [source] if is_lightning_csv(source) else []
    return [p for p in walk_files(source)
            if os.path.basename(p) == FILE and is_lightning_csv(p)]


def detect(path: str) -> bool:
    return bool(_files(path))


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    for path in _files(source):
        yield read_file(path)


def read_rows(imp: Imported, path: str, step_column: str) -> None:
    """Sparse CSV rows → records; a row that does not parse is a Problem."""
    try:
        f = open(path, newline="", encoding="utf-8", errors="replace")
    except OSError as exc:
        imp.problems.append(Problem(path, None, f"cannot open ({exc.strerror})"))
        return
    with f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                imp.problems.append(Problem(path, lineno, f"{len(row)} cells, header has "
                                            f"{len(header)}; row skipped"))
                continue
            cells = dict(zip(header, row, strict=True))
            step = parse_number(cells.get(step_column, ""))
            if isinstance(step, float) and step.is_integer():
                step = int(step)
            if not isinstance(step, int):
                imp.problems.append(Problem(path, lineno, f"{step_column} "
                                            f"{cells.get(step_column)!r} is not an integer; "
                                            "row skipped"))
                continue
            values = {k: parse_number(v) for k, v in cells.items()
                      if k != step_column and v.strip() != ""}
            imp.add(step, None, values)


def read_file(path: str) -> Imported:
    folder = os.path.dirname(os.path.abspath(path))
    parent = os.path.basename(os.path.dirname(folder))
    name = f"{parent}/{os.path.basename(folder)}" if parent else os.path.basename(folder)
    hparams = os.path.join(folder, "hparams.yaml")
    files = [path] + ([hparams] if os.path.isfile(hparams) else [])
    imp = Imported(format=FORMAT, source=folder, name=name, hash_files=files,
                   group=experiment_of(folder))
    if os.path.isfile(hparams):
        config, problem = load_yaml(hparams)
        if problem:
            imp.problems.append(problem)
        if isinstance(config, dict):
            imp.config = config
    read_rows(imp, path, "step")
    return imp
