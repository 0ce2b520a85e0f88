"""JSON nested ~1,000 deep used to raise RecursionError out of the build."""
import pytest

from runpages import schema

DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
DEEP_LIST = "[" * 1000 + "]" * 1000

CASES = {
    "config": lambda bad, runs: (bad / schema.CONFIG_FILE).write_text(DEEP_OBJECT),
    "config list": lambda bad, runs: (bad / schema.CONFIG_FILE).write_text('{"x": ' + DEEP_LIST + "}"),
    "summary": lambda bad, runs: (bad / schema.SUMMARY_FILE).write_text(DEEP_OBJECT),
    "meta": lambda bad, runs: (bad / schema.META_FILE).write_text(DEEP_OBJECT),
    "metrics line": lambda bad, runs: open(bad / schema.METRICS_FILE, "a").write(
        '{"_step": 99, "x": ' + DEEP_OBJECT + "}\n"),
    "manifest line": lambda bad, runs: (
        (bad / schema.ARTIFACTS_DIR).mkdir(exist_ok=True),
        (bad / schema.ARTIFACTS_DIR / schema.ARTIFACT_MANIFEST).write_text(DEEP_OBJECT + "\n")),
}


@pytest.mark.parametrize("where", CASES)
def test_json_nested_a_thousand_deep_is_a_problem(hostile_site, where):
    site = hostile_site(CASES[where])
    site.survived("nested more than 64 levels deep")


def test_a_config_nested_a_few_levels_is_shown_flattened(hostile_site):
    site = hostile_site(lambda bad, runs: (bad / schema.CONFIG_FILE).write_text(
        '{"model": {"enc": {"layers": {"n": 12}}}}'))
    site.survived()
    assert "model/enc/layers/n" in (site.out / "p/proj/r/20251124-130000-bad-cccccc/index.html").read_text()
