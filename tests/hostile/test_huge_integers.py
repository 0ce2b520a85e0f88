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


def test_a_count_past_2_53_in_a_file_long_enough_for_the_fast_path_does_not_break_the_build(hostile_site):
    """pyarrow reads such a column as int64, which a safe cast to float64 refused (the build
    crashed); it becomes the nearest float, as on the line-by-line path."""
    def tokens(bad, runs):
        with open(bad / schema.METRICS_FILE, "a") as f:
            for s in range(100, 2100):             # ~100 KB of lines: past FAST_PATH_MIN_BYTES
                f.write('{"_step": %d, "_time": 1764000000.5, "tokens": %d, "loss": 0.5}\n' % (s, 2 ** 53 + 1 + s))
    site = hostile_site(tokens)
    site.survived()
    assert not site.problems_of_bad_run()
    data = (site.out / "data/runs/proj/20251124-130000-bad-cccccc.js").read_text()
    assert "tokens" in data
