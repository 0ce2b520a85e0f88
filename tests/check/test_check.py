"""``runpages check`` as CI runs it: a real process, exit codes, the Markdown table."""
from __future__ import annotations

import json
import re

import pytest

from runpages_cli import runpages

pytestmark = pytest.mark.slow

TABLE_HEAD = "| Metric | Baseline | Candidate | Change | Allowed | Verdict |"


def _row(stdout: str, metric: str) -> str:
    rows = [line for line in stdout.splitlines() if line.startswith(f"| {metric} ")]
    assert rows, stdout
    return rows[0]


def _main_then_candidate(check_run, main_acc, cand_acc):
    for acc in main_acc:
        check_run("main", branch="main", series={"val/acc": [0.5, acc], "val/loss": [1.0, 1.0 - acc]})
    return check_run("feature", branch="feature", series={"val/acc": [0.5, cand_acc], "val/loss": [1.0, 1.0 - cand_acc]})


def test_candidate_that_improved_holds_with_exit_0(check_run):
    _main_then_candidate(check_run, [0.90], 0.92)
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.005")
    assert r.returncode == 0, r.stdout + r.stderr
    assert TABLE_HEAD in r.stdout
    row = _row(r.stdout, "val/acc")
    assert "| 0.9 | 0.92 | +0.02 (+2.22%) |" in row and "improved" in row
    assert "holds" in r.stdout.splitlines()[0]


def test_candidate_within_tolerance_holds_with_exit_0(check_run):
    _main_then_candidate(check_run, [0.90], 0.897)
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.005",
                 "--rule", "val/loss:min:5%")
    assert r.returncode == 0, r.stdout + r.stderr
    acc = _row(r.stdout, "val/acc")
    assert "-0.003" in acc and "\u2265 0.895" in acc and "\u2705 holds" in acc
    loss = _row(r.stdout, "val/loss")          # 0.103 vs 0.1: +3%, 5% allowed
    assert "| +0.003 (+3.00%) | +5% (\u2264 0.105) | \u2705 holds |" in loss


def test_candidate_that_regressed_exits_1_and_says_why(check_run):
    _main_then_candidate(check_run, [0.90], 0.88)
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.005")
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "regressed" in lines[0]
    assert TABLE_HEAD in lines
    row = _row(r.stdout, "val/acc")
    assert "| 0.9 | 0.88 | -0.02 (-2.22%) | -0.005 (\u2265 0.895) |" in row
    assert "\u274c regressed: 0.88 is below the allowed bound 0.895" in row


def test_noisy_series_passes_the_noise_rule_and_fails_the_absolute_one(check_run):
    # Main's last five commits scatter around 0.90 (std ~0.008); the newest happens to be high.
    _main_then_candidate(check_run, [0.895, 0.905, 0.890, 0.900, 0.910], 0.893)
    noise = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:noise:k=2,n=5")
    assert noise.returncode == 0, noise.stdout + noise.stderr
    row = _row(noise.stdout, "val/acc")
    assert "0.9 (mean of 5, std 0.0079" in row and "-2\u00b7std of last 5" in row and "holds" in row

    absolute = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.005")
    assert absolute.returncode == 1, absolute.stdout + absolute.stderr
    assert "| 0.91 | 0.893 |" in _row(absolute.stdout, "val/acc")


def test_missing_metric_cannot_be_judged_exit_2(check_run):
    _main_then_candidate(check_run, [0.90], 0.92)
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.005",
                 "--rule", "val/f1:max:0.01")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "could not judge" in r.stdout.splitlines()[0]
    assert "could not judge" in _row(r.stdout, "val/f1")
    assert "runpages: check: could not judge: the candidate run has no value for 'val/f1'" in r.stderr


def test_missing_baseline_cannot_be_judged_exit_2(check_run):
    check_run("feature", branch="feature", series={"val/acc": [0.9]})
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.005")
    assert r.returncode == 2
    assert "no finished run of project 'mnist' on branch 'main'" in r.stderr
    assert "branches in the runs: feature" in r.stderr
    assert "Traceback" not in r.stderr


def test_no_runs_bad_rule_and_no_baseline_each_say_what_to_do(check_run, tmp_path):
    r = runpages("check", tmp_path / "nowhere", "--rule", "val/acc:max:0.005", "--baseline-branch", "main")
    assert r.returncode == 2 and "runs folder not found" in r.stderr
    check_run("only", series={"val/acc": [0.9]})
    r = runpages("check", check_run.runs, "--rule", "val/acc:sideways:0.005", "--baseline-branch", "main")
    assert r.returncode == 2 and "no direction (max, min or auto)" in r.stderr
    r = runpages("check", check_run.runs, "--rule", "val/acc:max:0.005")
    assert r.returncode == 2 and "no baseline: pass --baseline ID, --baseline-branch BRANCH" in r.stderr


def test_toml_rules_json_junit_step_summary_and_record(check_run, tmp_path):
    _main_then_candidate(check_run, [0.90], 0.88)
    (tmp_path / "runpages.toml").write_text(
        '[check]\nbaseline_branch = "main"\nsite_url = "https://team.example/logbook/"\n'
        '[[check.rules]]\nmetric = "val/acc"\nallowed = 0.005\n'
        '[[check.rules]]\nmetric = "val/loss"\nallowed = "50%"\nvalue = "best"\n')
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    r = runpages("check", check_run.runs, "--json", "--junit", tmp_path / "check.xml",
                 env={"GITHUB_STEP_SUMMARY": str(summary)}, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["verdict"] == "regressed" and out["exit_code"] == 1
    by_metric = {x["metric"]: x for x in out["results"]}
    assert by_metric["val/acc"]["direction"] == "max" and by_metric["val/acc"]["verdict"] == "regressed"
    assert by_metric["val/loss"]["direction"] == "min" and by_metric["val/loss"]["value"] == "best"
    assert out["candidate"]["url"].startswith("https://team.example/logbook/p/mnist/r/")
    assert out["baseline"]["runs"][0]["branch"] == "main"

    md = summary.read_text()
    assert md.startswith("earlier step\n") and TABLE_HEAD in md
    assert re.search(r"Candidate: \[feature \(commit \w{7}, branch feature\)\]\(https://team\.example/logbook/p/mnist/r/[^)]+/index\.html\)", md)
    assert "(https://team.example/logbook/p/mnist/checks.html)" in md
    row = _row(md, "val/acc")                   # both values link to their run pages
    assert re.search(r"\| \[0\.9\]\(https://team\.example/logbook/p/mnist/r/[^)]+/index\.html\) \| "
                     r"\[0\.88\]\(https://team\.example/logbook/p/mnist/r/[^)]+/index\.html\) \|", row), row

    xml = (tmp_path / "check.xml").read_text()
    assert 'tests="2" failures="1" errors="0"' in xml and "<failure" in xml

    records = list((check_run.runs / "mnist" / ".checks").glob("*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["verdict"] == "regressed"


def test_saved_baseline_file_is_compared_and_updated(check_run, tmp_path):
    snap = tmp_path / "runpages-baseline.json"
    main = check_run("main-1", series={"val/acc": [0.5, 0.90]})
    first = runpages("check", check_run.runs, "--baseline-file", snap, "--save-baseline", snap, "--no-record",
                     "--rule", "val/acc:max:0.01")
    assert first.returncode == 0, first.stderr
    assert "no baseline yet: saved" in first.stderr and snap.exists()

    cand = check_run("feature", branch="feature", series={"val/acc": [0.5, 0.80]})
    r = runpages("check", check_run.runs, "--baseline-file", snap, "--rule", "val/acc:max:0.01:last",
                 "--save-baseline", snap, "--no-record")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Baseline: file runpages-baseline.json: main-1" in r.stdout
    assert "not saved as the baseline" in r.stderr
    assert [x["id"] for x in json.loads(snap.read_text())["runs"]] == [main]
    assert cand != main

    r = runpages("check", check_run.runs, "--baseline-file", tmp_path / "missing.json", "--rule", "val/acc:max:0.01")
    assert r.returncode == 2 and "baseline file not found" in r.stderr and "--save-baseline" in r.stderr


def test_candidate_from_env_and_hostile_names_escaped(check_run):
    check_run("main", series={"val/acc": [0.9]})
    target = check_run("<script>x</script>|evil", branch="feature", series={"val/acc": [0.95]})
    check_run("newer", branch="feature", series={"val/acc": [0.1]})
    r = runpages("check", check_run.runs, "--baseline-branch", "main", "--rule", "val/acc:max:0.01",
                 env={"RUNPAGES_RUN_ID": target})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<script>" not in r.stdout
    assert "&lt;script&gt;x&lt;/script&gt;\\|evil" in r.stdout
