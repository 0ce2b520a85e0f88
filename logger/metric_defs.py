"""``define_metric``: which summary a metric keeps (min/max/mean/last/best/none) and its x axis.

Definitions are recorded in meta.json under ``metrics`` (``{"val/loss": {"step_metric":
"epoch", "summary": "min"}}``) so the site can chart against ``step_metric``. The reduced
value becomes the metric's summary entry (an explicit ``summary[...] = v`` still wins);
``"none"`` leaves the metric out of summary.json. ``"best"`` means min for names holding
"loss" or "err", else max.
"""
from __future__ import annotations

from typing import Any

SUMMARIES = ("min", "max", "mean", "last", "best", "none")


def check(name: Any, summary: Any) -> str:
    """The summary kind, or a ValueError naming the allowed ones."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"runpages: define_metric() needs a metric name; got {name!r}.")
    kind = "last" if summary is None else summary
    if kind not in SUMMARIES:
        raise ValueError(f"runpages: define_metric summary must be one of {SUMMARIES}; "
                         f"got {summary!r}.")
    if kind == "best":
        kind = "min" if ("loss" in name or "err" in name) else "max"
    return kind


class Reducer:
    """Running min/max/mean of the defined metrics, fed every written record."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self._acc: dict[str, list[float]] = {}  # name -> [value, count]

    def define(self, name: str, kind: str) -> None:
        self.kinds[name] = kind

    def observe(self, rec: dict, derived: dict) -> None:
        for name, kind in self.kinds.items():
            v = rec.get(name)
            if kind in ("last", "none") or isinstance(v, bool) \
                    or not isinstance(v, (int, float)) or v != v:
                continue
            acc = self._acc.get(name)
            if acc is None:
                acc = self._acc[name] = [v, 0]
            elif kind == "min":
                acc[0] = min(acc[0], v)
            elif kind == "max":
                acc[0] = max(acc[0], v)
            else:  # mean
                acc[0] = acc[0] + (v - acc[0]) / (acc[1] + 1)
            acc[1] += 1
            derived[name] = acc[0]
