"""Number arrays as the data scripts carry them to the browser: packed, exact and cheap to write.

A float array is a JSON string of base64 little-endian float64 (every value exact, NaN and
±inf kept); steps that are evenly spaced whole numbers are ``{"a": first, "d": step, "n": count}``.
Writing a packed array is a memory copy and a base64 pass (microseconds for 1,000 values),
where formatting each number as text cost ~150 ns a value, the largest part of rendering a
run. The browser unpacks with ``RunpagesCharts.unpack`` (``themes/default/static/chart-series.js``);
``unpack`` here is the same rule, for tests and tools.
"""
from __future__ import annotations

import base64
from typing import Any

import numpy as np


def b64(a: Any) -> str:
    """The base64 text of ``a`` as little-endian float64."""
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode("ascii")


def floats(a: Any) -> str:
    """``a`` as a JavaScript expression: a quoted base64 float64 string (base64 needs no escape)."""
    return '"' + b64(a) + '"'


def steps(s: Any) -> str:
    """Steps (or any whole numbers) as a JavaScript expression: ``{"a","d","n"}`` when evenly
    spaced, else packed floats (a step is exact in a float64 up to 2**53, the logger's limit)."""
    s = np.asarray(s)
    if len(s) > 2 and s.dtype.kind in "iu":
        d = np.diff(s)
        if (d == d[0]).all():
            return '{"a":%d,"d":%d,"n":%d}' % (s[0], d[0], len(s))
    return floats(s)


def unpack(v: Any) -> list[float]:
    """A packed array (or a plain list) as a list of numbers: the browser's rule."""
    if isinstance(v, str):
        return np.frombuffer(base64.b64decode(v), dtype="<f8").tolist()
    if isinstance(v, dict):
        return [v["a"] + v["d"] * i for i in range(v["n"])]
    return list(v)
