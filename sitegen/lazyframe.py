"""A run's frame that stays on disk until a page needs its points.

Invariants:
- ``FrameFacts`` holds what the site's pages need of a frame without its points: column names,
  row count, the last index value and the newest finite ``_time``. The read cache stores them
  beside each frame (``readcache``), so a rebuild reads no frame of a run it does not render.
- ``frame_facts(frame)`` is the one rule for them; a ``LazyFrame``'s facts are always what
  ``frame_facts`` gives for the frame it loads (tests compare the two).
- ``LazyFrame.load()`` gives the frame itself; ``model.Run`` keeps it once loaded.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Callable

from runpages import schema

TIME = schema.TIME_KEY


@dataclass(frozen=True)
class FrameFacts:
    columns: tuple[str, ...]
    rows: int
    last_index: Any            # the index column's last value (``_step`` / ``_time``), None if empty
    time_max: float | None     # the newest finite ``_time``; None without one

    def to_json(self) -> dict:
        return {"columns": list(self.columns), "rows": self.rows, "last": self.last_index,
                "time_max": self.time_max}

    @classmethod
    def from_json(cls, raw: dict) -> "FrameFacts":
        columns = tuple(raw["columns"])
        if not isinstance(raw["columns"], list) or {type(c) for c in columns} - {str}:
            raise ValueError("not frame facts")
        last, tmax = raw["last"], raw["time_max"]
        for v in (last, tmax):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise ValueError("not frame facts")
        # interned: every run of a project names the same columns (held once, not per run)
        return cls(tuple(map(sys.intern, columns)), int(raw["rows"]), last, None if tmax is None else float(tmax))


def frame_facts(frame) -> FrameFacts:
    """The facts of ``frame``, whose first column is its index (as ``jsonl.finalize`` leaves it)."""
    import numpy as np

    columns = tuple(str(c) for c in frame.columns)
    rows = len(frame)
    last = None
    key = columns[0] if columns else None
    if rows and key in frame.columns:
        value = frame[key].iloc[-1]
        last = value.item() if hasattr(value, "item") else value
        if isinstance(last, float) and not math.isfinite(last):
            last = None
    time_max = None
    if rows and TIME in frame.columns:
        values = frame[TIME].to_numpy(dtype=np.float64, na_value=np.nan)
        values = values[np.isfinite(values)]
        if len(values):
            time_max = float(values.max())
    return FrameFacts(columns, rows, last, time_max)


class LazyFrame:
    """A frame not read yet: its facts now, its points from ``loader`` when asked."""

    __slots__ = ("loader", "facts")

    def __init__(self, loader: Callable[[], Any], facts: FrameFacts):
        self.loader, self.facts = loader, facts

    def load(self):
        return self.loader()
