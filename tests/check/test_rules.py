"""Rule syntax and verdicts, in process (the subprocess tests cover the command)."""
from __future__ import annotations

import math

import pytest

from runpages.sitegen.check_rules import (ERROR, HOLDS, IMPROVED, REGRESSED, RuleError, judge, overall,
                                 parse_rule, rules_from_toml, value_from_series)


@pytest.mark.parametrize("text, expected", [
    ("val/acc:max:0.005", dict(metric="val/acc", direction="max", allowed_kind="absolute", allowed=0.005)),
    ("val/loss:min:2%", dict(metric="val/loss", direction="min", allowed_kind="percent", allowed=2.0)),
    ("val/acc:max:noise", dict(allowed_kind="noise", k=2.0, n=5)),
    ("val/acc:max:noise:k=3,n=10,floor=0.001", dict(allowed_kind="noise", k=3.0, n=10, floor=0.001)),
    ("val/acc:max:0.01:best", dict(value="best")),
    ("val/acc:max:0.01:mean_last_3", dict(value="mean_last_k", last_k=3)),
    ("val/acc:max:noise:k=1:mean_last_k=4", dict(allowed_kind="noise", k=1.0, value="mean_last_k", last_k=4)),
    ("eval:top1:max:0.01", dict(metric="eval:top1")),
    ("val/loss:auto:0.1", dict(direction="min")),
])
def test_rule_text_forms(text, expected):
    rule = parse_rule(text)
    for key, value in expected.items():
        assert getattr(rule, key) == value, key


@pytest.mark.parametrize("text, says", [
    ("val/acc", "expected METRIC:DIRECTION:ALLOWED"),
    ("val/acc:max:lots", "allowed change must be a number"),
    ("val/acc:max:-1", "at least 0"),
    ("val/acc:max:0.1:median", "value must be summary, last, best or mean_last_<k>"),
    ("val/acc:max:noise:q=2", "noise options are k="),
    ("val/acc:max:noise:n=1", "n must be a finite number of at least 2"),
])
def test_bad_rules_name_themselves(text, says):
    with pytest.raises(RuleError) as err:
        parse_rule(text)
    assert text in str(err.value) and says in str(err.value)


def test_toml_rules_report_every_problem_with_its_index():
    rules, problems = rules_from_toml([
        {"metric": "val/acc", "allowed": 0.01},
        {"metric": "val/loss", "allowed": "1%", "direction": "min", "value": "mean_last_k", "last_k": 3},
        {"metric": "x", "allowed": 0.1, "k": 2},
        {"metric": "y", "alowed": 0.1},
        "val/f1:max:noise:k=2",
    ])
    assert [r.metric for r in rules] == ["val/acc", "val/loss", "val/f1"]
    assert rules[1].last_k == 3 and rules[0].direction == "max"
    assert problems[0].startswith("check.rules[3]:") and "only go with allowed = \"noise\"" in problems[0]
    assert problems[1].startswith("check.rules[4]:") and "alowed" in problems[1]


def test_verdicts():
    acc = parse_rule("val/acc:max:0.01")
    assert judge(acc, 0.95, [0.9]).verdict == IMPROVED
    assert judge(acc, 0.89, [0.9]).verdict == HOLDS            # exactly at the bound holds
    assert judge(acc, 0.889, [0.9]).verdict == REGRESSED
    assert judge(acc, math.nan, [0.9]).verdict == REGRESSED    # a diverged run is worse
    assert judge(acc, None, [0.9]).verdict == ERROR
    assert judge(acc, 0.9, [None]).verdict == ERROR
    assert judge(acc, 0.9, [0.8, 1.0]).baseline == pytest.approx(0.9)   # several runs: their mean
    loss = parse_rule("val/loss:min:10%")
    assert judge(loss, 0.55, [0.5]).verdict == HOLDS
    assert judge(loss, 0.56, [0.5]).verdict == REGRESSED
    noise = parse_rule("val/acc:max:noise:k=2,n=3,floor=0.05")
    assert judge(noise, 0.9, [0.9]).verdict == ERROR               # one run has no spread
    r = judge(noise, 0.86, [0.9, 0.9, 0.9, 0.1])                   # only the newest 3 count
    assert r.verdict == HOLDS and r.baseline_n == 3 and r.tolerance == pytest.approx(0.05)
    assert overall([r, judge(acc, 0.5, [0.9])]) == REGRESSED
    assert overall([judge(acc, 0.5, [0.9]), judge(acc, None, [0.9])]) == ERROR
    assert overall([]) == ERROR


def test_values_of_a_series():
    assert value_from_series([1.0, 3.0, 2.0], parse_rule("m:max:0:best")) == 3.0
    assert value_from_series([1.0, 3.0, 2.0], parse_rule("m:min:0:best")) == 1.0
    assert value_from_series([1.0, 3.0, 2.0], parse_rule("m:min:0:last")) == 2.0
    assert value_from_series([1.0, 3.0, 2.0], parse_rule("m:min:0:mean_last_2")) == 2.5
    assert value_from_series([], parse_rule("m:min:0:last")) is None


def test_cli_modules_import_nothing_heavy():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, sitegen.check, sitegen.publish, sitegen.ci_workflow\n"
            "heavy = [m for m in ('pandas', 'numpy', 'bokeh', 'jinja2') if m in sys.modules]\n"
            "assert not heavy, heavy")
    r = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
