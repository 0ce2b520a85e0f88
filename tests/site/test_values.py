"""sitegen/values.py against the cases shared with static/values.js (tests/cases/values)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from runpages.sitegen.values import format_duration, format_number, format_tick, format_time

CASES_DIR = Path(__file__).resolve().parent.parent / "cases" / "values"
FUNCTIONS = {"number": format_number, "tick": format_tick, "duration": format_duration, "time": format_time}


def _value(v):
    # {"float": "NaN"} stands for the number JSON cannot hold.
    return float(v["float"]) if isinstance(v, dict) and "float" in v else v


def _cases():
    for path in sorted(CASES_DIR.glob("*.json")):
        cases = json.loads(path.read_text(encoding="utf-8"))
        for kind, fn in FUNCTIONS.items():
            for given, shown, *rest in cases.get(kind, []):
                args = (_value(given), *rest)
                yield pytest.param(fn, args, shown, id=f"{path.stem}-{kind}-{args!r}")


@pytest.mark.parametrize("fn,args,shown", list(_cases()))
def test_a_value_shows_as_the_shared_case_says(fn, args, shown):
    assert fn(*args) == shown


def test_an_axis_tick_never_reads_like_bokehs_default():
    for v in (3e-4, 0.0, 1e-4, 80e6, 2e-3):
        assert "000e" not in format_tick(v) and "\u2212" not in format_tick(v)


def test_build_times_carry_their_zone():
    from runpages.sitegen.values import format_utc

    assert format_utc(1795633800) == "2026-11-25 19:10 UTC" and format_utc(None) == ""
