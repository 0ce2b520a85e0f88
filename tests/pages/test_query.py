"""The filter language in Python, driven by the cases shared with table.js."""
from __future__ import annotations

import pytest

from runpages.sitegen.query import QueryError, parse_query, to_text
from tests.pages.query_cases import load_cases

ROWS, CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.title for c in CASES])
def test_query_case(case):
    if case.error is not None:
        with pytest.raises(QueryError) as info:
            parse_query(case.query)
        assert (info.value.position, info.value.message) == case.error
    else:
        query = parse_query(case.query)
        assert [r["name"] for r in ROWS if query.matches(r)] == case.match


def test_cases_exist_for_both_outcomes():
    assert sum(c.error is not None for c in CASES) >= 5
    assert sum(c.match is not None for c in CASES) >= 20


def test_query_keys_lists_columns_in_order():
    assert parse_query('ana lr < 1e-3 tag = "x y"').keys() == ["lr", "tag"]


def test_error_message_names_the_character():
    with pytest.raises(QueryError, match=r"expected a value after '<' \(at character 5\)"):
        parse_query("lr <")


@pytest.mark.parametrize("value, text", [
    (1e-5, "0.00001"), (1e-7, "1e-7"), (3.0, "3"), (1e21, "1e+21"), (-2.5e-10, "-2.5e-10"),
    (float("nan"), "NaN"), (float("-inf"), "-Infinity"), (True, "true"), (None, ""), (12, "12"),
])
def test_numbers_are_spelled_as_javascript_spells_them(value, text):
    assert to_text(value) == text
