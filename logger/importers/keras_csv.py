"""Keras ``CSVLogger`` output: one row per epoch, ``epoch`` first, then the logs of that epoch.

Keys keep Keras's spelling (``loss``, ``val_loss``, ``accuracy``); the epoch is the step.
The file has no times: its mtime stands in.
"""
from __future__ import annotations

import os
from typing import Iterator

from .common import Imported, walk_files
from .lightning_csv import csv_header, read_rows

FORMAT = "keras_csv"


def is_keras_csv(path: str) -> bool:
    head = csv_header(path) if os.path.isfile(path) else []
    return bool(head) and head[0] == "epoch" and "step" not in head


def _files(source: str) -> list[str]:
    if os.path.isfile(source):
        return [source] if is_keras_csv(source) else []
    return [p for p in walk_files(source) if p.endswith((".csv", ".log")) and is_keras_csv(p)]


def detect(path: str) -> bool:
    return bool(_files(path))


def read(source: str, pattern: str | None = None) -> Iterator[Imported]:
    for path in _files(source):
        name = os.path.splitext(os.path.basename(path))[0]
        parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
        imp = Imported(format=FORMAT, source=path, name=f"{parent}/{name}" if parent else name,
                       hash_files=[path])
        read_rows(imp, path, "epoch")
        yield imp
