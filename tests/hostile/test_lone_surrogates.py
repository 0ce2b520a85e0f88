"""Strings holding lone surrogates (``"\\ud800"`` in the JSON) cannot be written as UTF-8: each
is shown with U+FFFD and named in a Problem, wherever it sits."""
import json

import pytest

from runpages import schema

LONE = "\\ud800"     # as JSON text: a high surrogate with no partner


def _append_metrics(line):
    def mutate(bad, runs):
        with open(bad / schema.METRICS_FILE, "a") as f:
            f.write(line + "\n")
    return mutate


def _edit_meta(bad, runs):
    text = (bad / schema.META_FILE).read_text()
    meta = json.loads(text)
    meta.update(name="x", notes="y", user="z")
    text = json.dumps(meta).replace('"x"', f'"bad {LONE} name"').replace('"y"', f'"{LONE}"') \
        .replace('"z"', f'"\\udfff{LONE}"')
    (bad / schema.META_FILE).write_text(text)


CASES = {
    "metric name": _append_metrics('{"_step": 99, "loss' + LONE + '": 1}'),
    "text value": _append_metrics('{"_step": 99, "note": "x' + LONE + '"}'),
    "meta fields": _edit_meta,
    "config key": lambda bad, runs: (bad / schema.CONFIG_FILE).write_text(
        '{"lr' + LONE + '": 1, "opt": {"name": "' + LONE + '"}}'),
    "summary value": lambda bad, runs: (bad / schema.SUMMARY_FILE).write_text(
        '{"best' + LONE + '": "' + LONE + '"}'),
    "system metric name": lambda bad, runs: open(bad / schema.SYSTEM_FILE, "a").write(
        '{"_time": 1764000100.0, "gpu/0/' + LONE + '_pct": 5}\n'),
}


@pytest.mark.parametrize("where", CASES)
def test_lone_surrogates_become_a_problem_and_a_replacement_character(hostile_site, where):
    site = hostile_site(CASES[where])
    site.survived("lone surrogates")


def test_a_surrogate_pair_written_as_escapes_is_an_ordinary_character(hostile_site):
    site = hostile_site(_append_metrics('{"_step": 99, "note": "\\ud83d\\ude00"}'))
    assert not any("surrogate" in p for p in site.survived())
