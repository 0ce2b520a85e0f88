"""Number arrays as the data scripts carry them to the browser: packed and cheap to write.

- ``floats``: a JSON string of base64 little-endian float64, every value exact (NaN, ±inf kept);
- ``values`` (chart values, for display): ``{"f4": base64 float32}``, 7 significant digits,
  where float32 holds every value's magnitude (else as ``floats``);
- ``steps``: ``{"a": first, "d": step, "n": count}`` when evenly spaced, ``{"i4": base64 int32}``
  when they fit, else as ``floats`` (exact up to 2**53, the logger's limit).

Writing a packed array is a memory copy and a base64 pass (microseconds for 1,000 values),
where formatting each number as text cost ~150 ns a value, the largest part of rendering a
run. The browser unpacks with ``RunpagesCharts.unpack`` (``themes/default/static/chart-series.js``);
``unpack`` here is the same rule, for tests and tools.
"""
from __future__ import annotations

import base64
from typing import Any

import numpy as np


def b64(a: Any, dtype: str = "<f8") -> str:
    """The base64 text of ``a`` as ``dtype`` (little-endian float64 unless told)."""
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def floats(a: Any) -> str:
    """``a`` as a JavaScript expression: a quoted base64 float64 string (base64 needs no escape)."""
    return '"' + b64(a) + '"'


F4_MIN, F4_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
I4_MIN, I4_MAX = -2**31, 2**31 - 1


def values(a: Any) -> str:
    """Values to draw, as a JavaScript expression: float32 (half the bytes of ``floats``; more
    digits than a chart or a tooltip shows) where every finite value's magnitude fits one,
    else exact float64."""
    a = np.asarray(a, dtype=np.float64)
    mag = np.abs(a[np.isfinite(a) & (a != 0)])
    if len(mag) and (mag.min() < F4_MIN or mag.max() > F4_MAX):
        return floats(a)
    return '{"f4":"' + b64(a, "<f4") + '"}'


def steps(s: Any) -> str:
    """Steps (or any whole numbers) as a JavaScript expression: ``{"a","d","n"}`` when evenly
    spaced, int32 when they fit, else packed floats (a step is exact in a float64 up to 2**53,
    the logger's limit)."""
    s = np.asarray(s)
    if s.dtype.kind in "iu" and len(s):
        if len(s) > 2:
            d = np.diff(s)
            if (d == d[0]).all():
                return '{"a":%d,"d":%d,"n":%d}' % (s[0], d[0], len(s))
        if s.min() >= I4_MIN and s.max() <= I4_MAX:
            return '{"i4":"' + b64(s, "<i4") + '"}'
    return floats(s)


def unpack(v: Any) -> list[float]:
    """A packed array (or a plain list) as a list of numbers: the browser's rule."""
    if isinstance(v, str):
        return np.frombuffer(base64.b64decode(v), dtype="<f8").tolist()
    if isinstance(v, dict) and "f4" in v:
        return np.frombuffer(base64.b64decode(v["f4"]), dtype="<f4").astype(np.float64).tolist()
    if isinstance(v, dict) and "i4" in v:
        return np.frombuffer(base64.b64decode(v["i4"]), dtype="<i4").tolist()
    if isinstance(v, dict):
        return [v["a"] + v["d"] * i for i in range(v["n"])]
    return list(v)
