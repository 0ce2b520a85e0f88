"""Read a data script (``RunpagesData.add({...});``) back as the browser sees it: its packed
arrays (sitegen/packed.py) unpacked, as ``RunpagesCharts.expand`` does."""
from __future__ import annotations

import json

from runpages.sitegen import packed


def read_data_script(text: str) -> dict:
    """The payload of a run's data script, every series' arrays as lists of numbers."""
    body = text[text.index("(") + 1:text.rindex(")")]
    payload = json.loads(body)               # NaN/Infinity literals: json reads them
    unpack_series(payload)
    return payload


def unpack_series(payload: dict) -> dict:
    steps = payload.get("steps") or {}
    for name in ("step", "t"):
        if name in steps:
            steps[name] = packed.unpack(steps[name])
    for group, fields in (("metrics", ("step", "y")), ("system", ("t", "y"))):
        for series in (payload.get(group) or {}).values():
            for name in fields:
                series[name] = packed.unpack(series[name])
    return payload
