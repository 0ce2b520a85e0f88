"""``runpages init-ci``: the workflow parses, does what the README says, and every
``runpages ...`` command in it exists in the CLI."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "check"))

from runpages_cli import make_parser, runpages  # noqa: E402

WORKFLOW = Path(".github/workflows/runpages.yml")


def _steps(doc):
    for job_name, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def _runpages_commands(doc):
    for _job, step in _steps(doc):
        for line in str(step.get("run", "")).splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "runpages":
                yield words


def _parses(words):
    try:
        return make_parser().parse_args(words[1:])
    except SystemExit as exit:
        pytest.fail(f"workflow command does not parse ({exit.code}): {' '.join(words)}")


@pytest.mark.slow
def test_init_ci_writes_a_workflow_whose_commands_all_exist(tmp_path):
    (tmp_path / "requirements.txt").write_text("torch\nrunpages @ git+https://example.org/runpages@0123abc\n")
    r = runpages("init-ci", "--command", "python train.py --epochs 1", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = yaml.safe_load((tmp_path / WORKFLOW).read_text())

    triggers = doc.get("on", doc.get(True))                 # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    uses = {step.get("uses", "").split("@")[0] for _job, step in _steps(doc)}
    assert {"actions/checkout", "actions/setup-python", "actions/upload-pages-artifact",
            "actions/deploy-pages", "actions/upload-artifact"} <= uses
    assert doc["jobs"]["deploy"]["needs"] == "runs"
    assert doc["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "refs/heads/main" in doc["jobs"]["deploy"]["if"]
    runs_steps = {step.get("name"): step for job, step in _steps(doc) if job == "runs"}
    assert "python train.py --epochs 1" in runs_steps["Train / evaluate (edit this)"]["run"]
    assert "pull_request" in runs_steps["Upload the site and the check result"]["if"]

    commands = list(_runpages_commands(doc))
    assert [c[1] for c in commands] == ["check", "build"]
    for words in commands:
        args = _parses(words)
        assert callable(args.func)
    check = _parses(commands[0])
    assert check.baseline_file == "runpages-baseline.json" and check.junit

    again = runpages("init-ci", cwd=tmp_path)
    assert again.returncode == 1 and "already exists; pass --force" in again.stderr


def test_baseline_branch_variant_and_every_option_quoted(tmp_path):
    from runpages.sitegen.ci_workflow import render_workflow

    text = render_workflow(runs="my runs", baseline_branch="trunk", branch="trunk", python="3.12")
    doc = yaml.safe_load(text)
    assert (doc.get("on") or doc[True])["push"]["branches"] == ["trunk"]
    commands = list(_runpages_commands(doc))
    assert commands[0][:4] == ["runpages", "check", "my runs", "--baseline-branch"]
    for words in commands:
        _parses(words)


def _install_step(tmp_path):
    doc = yaml.safe_load((tmp_path / WORKFLOW).read_text())
    return next(step["run"] for _job, step in _steps(doc) if step.get("name") == "Install")


def test_init_ci_never_installs_a_bare_name_the_package_index_does_not_serve(tmp_path):
    r = runpages("init-ci", cwd=tmp_path)
    assert r.returncode == 1 and "--install" in r.stderr and not (tmp_path / WORKFLOW).exists()
    r = runpages("init-ci", "--install", "pip install 'runpages @ git+https://example.org/rp@1a2b'", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "pip install 'runpages @ git+https://example.org/rp@1a2b'" in _install_step(tmp_path)
    own = tmp_path / "own"
    own.mkdir()
    (own / "pyproject.toml").write_text('[project]\nname = "runpages"\n')
    assert runpages("init-ci", cwd=own).returncode == 0
    assert "pip install .\n" in _install_step(own)
    assert "pip install runpages\n" not in _install_step(own)
