"""Packed number arrays (sitegen/packed.py) against the case file the browser's reader shares
(tests/cases/charts/packed.json, read by tests/js/charts.test.js)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from runpages.sitegen import packed

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "charts" / "packed.json").read_text())["cases"]


def _value(v):
    return float(v["float"]) if isinstance(v, dict) else v


def _same(a, b):
    return len(a) == len(b) and all((x != x and y != y) or (x == y and math.copysign(1, x) == math.copysign(1, y))
                                    for x, y in zip(a, b))


@pytest.mark.parametrize("case", CASES, ids=[c["note"] for c in CASES])
def test_python_writes_the_shared_cases_and_reads_them_back(case):
    values = [_value(v) for v in case["values"]]
    pack = {"floats": packed.floats, "values": packed.values, "steps": packed.steps}[case["kind"]]
    arr = np.array(values, dtype=np.int64 if case["kind"] == "steps" else np.float64)
    assert json.loads(pack(arr)) == case["packed"]
    assert _same(packed.unpack(case["packed"]), values)


def test_float_steps_and_huge_steps_stay_exact():
    assert json.loads(packed.steps(np.array([0.0, 1.0, 2.0]))) == packed.b64([0.0, 1.0, 2.0])
    big = np.array([2**53 - 4, 2**53 - 2, 2**53], dtype=np.int64)
    assert packed.unpack(json.loads(packed.steps(big))) == big.tolist()
