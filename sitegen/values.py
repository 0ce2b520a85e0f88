"""The one display rule for numbers, axis ticks, durations and dates on every page.

Its twin is ``themes/default/static/values.js`` (``Runpages.values``); the cases in
``tests/cases/values/*.json`` run against both, so a value reads the same in a table built here
and in a chart drawn by the browser.

Invariants:
- A number shows 4 significant digits (``0.9123``), in short scientific form below 1e-3 and from
  1e6 on with 3 (``1.5e-5``, ``1.23e7``; no ``+``, no zero padding). Integers below 1e15 show whole.
  Non-finite values read ``NaN``, ``Infinity``, ``-Infinity``.
- Rounding is half away from zero on the exact binary value, which is what JavaScript's
  ``toPrecision`` does; Python's own ``format`` rounds ties to even, so it is not used here.
- Axis ticks read like numbers people write: ``0.5``, ``3e-4``, ``1.5k``, ``80M``.
- Durations: ``45s``, ``9m 26s``, ``2h 05m``, ``3d 4h``; dates ``2026-11-25 19:10`` (UTC here; the
  browser re-shows them in the reader's local time).
"""
from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Sequence

# Integers at or above this show in scientific form (JS numbers lose integer precision past 2**53).
_WHOLE_LIMIT = 10**15
_SCI_LOW, _SCI_HIGH = 1e-3, 1e6
_TICK_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _round_sig(a: float, digits: int) -> Decimal:
    """``a`` (> 0) rounded to ``digits`` significant digits, ties away from zero."""
    d = Decimal(a)
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
    return q


def _plain(d: Decimal) -> str:
    """A Decimal in fixed notation without trailing zeros: ``1.2300`` -> ``1.23``."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _scientific(a: float, digits: int) -> str:
    q = _round_sig(a, digits)
    e = q.adjusted()
    return f"{_plain(q.scaleb(-e))}e{e}"


def _special(v: float) -> str | None:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return None


def format_number(v: Any) -> str:
    """A value as a page shows it: numbers by the rule above, ``None`` empty, text as is."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        v = float(v) if abs(v) >= _WHOLE_LIMIT else v
        if isinstance(v, int):
            return str(v)
    special = _special(v)
    if special:
        return special
    if v.is_integer() and abs(v) < _WHOLE_LIMIT:
        return str(int(v))
    sign, a = ("-" if v < 0 else ""), abs(v)
    if a < _SCI_LOW or a >= _SCI_HIGH:
        return sign + _scientific(a, 3)
    return sign + _plain(_round_sig(a, 4))


def format_tick(v: float, ticks: Sequence[float] = ()) -> str:
    """An axis tick: ``0``, ``0.25``, ``3e-4``, ``1.5k``, ``80M``; never ``3.000e−4``.

    ``ticks`` (the axis's other ticks) keeps one notation per axis: where the smallest non-zero
    tick is below 1e-3, every tick below 1 shows in scientific form (``1e-3``, ``8e-4``).
    """
    special = _special(float(v))
    if special:
        return special
    if v == 0:
        return "0"
    sign, a = ("-" if v < 0 else ""), abs(float(v))
    for scale, suffix in _TICK_SUFFIXES:
        if a >= scale:
            # Tick values are round already; 3 significant digits only hide float noise.
            return sign + _plain(_round_sig(a / scale, 3)) + suffix
    small = min((abs(t) for t in ticks if t and math.isfinite(t)), default=a)
    if a < _SCI_LOW or (a < 1 and small < _SCI_LOW):
        return sign + _scientific(a, 3)
    return sign + _plain(_round_sig(a, 6))


def format_duration(s: Any) -> str:
    """Seconds as people read them: ``45s``, ``9m 26s``, ``2h 05m``, ``3d 4h``; "" if unknown."""
    if s is None or isinstance(s, bool):
        return ""
    try:
        s = float(s)
    except (TypeError, ValueError):
        return ""
    if s != s or s < 0 or math.isinf(s):
        return ""
    s = int(Decimal(s).quantize(Decimal(1), rounding=ROUND_HALF_UP))  # JS Math.round for s >= 0
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {sec:02d}s"
    return f"{sec}s"


def format_time(t: Any) -> str:
    """Unix seconds -> ``2026-11-25 19:10`` in UTC; "" if unknown."""
    if t is None or isinstance(t, bool):
        return ""
    try:
        return _dt.datetime.fromtimestamp(float(t), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def format_utc(t: Any) -> str:
    """Unix seconds -> ``2026-11-25 19:10 UTC`` as the build writes it (pages re-show it locally)."""
    text = format_time(t)
    return f"{text} UTC" if text else ""
