"""A run whose metric ended in NaN fails a max/min gate with a message that says so, whichever
value the rule reads (summary, last, mean of the last k); its best value is its best number."""
from __future__ import annotations

import math

import pytest

from runpages_cli import runpages
from runpages.sitegen.check_rules import REGRESSED, judge, parse_rule, run_value
from runpages.sitegen.reader import read_runs

NAN = float("nan")


def _runs(check_run):
    check_run("main", branch="main", series={"val/loss": [1.0, 0.5]})
    return check_run("feature", branch="feature", series={"val/loss": [1.0, 0.4, NAN]})


def _candidate(check_run, run_id):
    (project,), _ = read_runs([check_run.runs])
    return next(r for r in project.runs if r.id == run_id)


@pytest.mark.parametrize("value", ["summary", "last", "mean_last_2"])
def test_a_metric_whose_last_value_is_nan_regresses_with_a_clear_reason(check_run, value):
    run = _candidate(check_run, _runs(check_run))
    rule = parse_rule(f"val/loss:min:10%:{value}")
    got = run_value(run, rule)
    assert math.isnan(got)
    res = judge(rule, got, [0.5])
    assert res.verdict == REGRESSED
    assert "'val/loss' is NaN" in res.reason and "NaN fails every gate" in res.reason


def test_the_best_value_of_a_diverged_run_is_its_best_number(check_run):
    run = _candidate(check_run, _runs(check_run))
    assert run_value(run, parse_rule("val/loss:min:10%:best")) == 0.4


def test_a_summary_json_missing_still_reads_nan_as_the_last_value(check_run):
    run_id = _runs(check_run)
    run = _candidate(check_run, run_id)
    (next(check_run.runs.rglob(f"{run_id}/summary.json"))).unlink()
    run = _candidate(check_run, run_id)
    assert math.isnan(run.summary["val/loss"])
    assert math.isnan(run_value(run, parse_rule("val/loss:min:10%")))


@pytest.mark.slow
def test_runpages_check_exits_1_on_a_nan_candidate_and_says_nan(check_run):
    _runs(check_run)
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/loss:min:10%:last")
    assert r.returncode == 1, r.stdout + r.stderr
    row = [line for line in r.stdout.splitlines() if line.startswith("| val/loss ")][0]
    assert "NaN" in row and "regressed" in row and "NaN fails every gate" in row, row
