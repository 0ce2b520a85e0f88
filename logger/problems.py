"""``Problem``: one thing wrong with one file, shared by the reader and the importers.

A Problem never stops the work: the reader keeps the rest of the run, an importer the rest of
the source, and both hand their Problems back (the CLI prints them; ``--strict`` fails on them).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file: where (``line`` None for the whole file) and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"
