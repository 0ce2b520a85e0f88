"""Integers past float range (found by the fuzz test) or past Python's 4,300-digit limit are
kept as their digits, shown as text, wherever they sit."""
import pytest

from runpages import schema

HUGE = "1" + "0" * 400
OVER_LIMIT = "1" + "0" * 5000

CASES = {
    "config": lambda bad, runs: (bad / schema.CONFIG_FILE).write_text('{"x": %s}' % HUGE),
    "summary": lambda bad, runs: (bad / schema.SUMMARY_FILE).write_text('{"x": %s}' % OVER_LIMIT),
    "meta": lambda bad, runs: (bad / schema.META_FILE).write_text('{"cpu_count": %s}' % OVER_LIMIT),
    "metrics line": lambda bad, runs: open(bad / schema.METRICS_FILE, "a").write(
        '{"_step": 99, "x": %s}\n' % OVER_LIMIT),
}


@pytest.mark.parametrize("where", CASES)
def test_an_integer_too_big_for_a_float_does_not_break_the_build(hostile_site, where):
    hostile_site(CASES[where]).survived()
