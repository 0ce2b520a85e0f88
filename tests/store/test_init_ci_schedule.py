"""``runpages init-ci --schedule``: a workflow that rebuilds from the bucket and deploys, checked
as the YAML GitHub reads, with every ``runpages`` line parsed by the real CLI parser."""
from __future__ import annotations

import shlex

import pytest
import yaml

from runpages.sitegen.cli import main, make_parser

CRON = "*/30 * * * *"


def _steps(doc):
    for name, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def _runpages_lines(doc):
    for _job, step in _steps(doc):
        for line in str(step.get("run", "")).splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "runpages":
                yield words


def _write(tmp_path, monkeypatch, *extra):
    monkeypatch.chdir(tmp_path)
    code = main(["init-ci", "--schedule", CRON, "--runs-dir", "s3://team-logbook/runs",
                 "--install", "pip install 'runpages @ git+https://example.org/runpages@0123abc'",
                 *extra])
    assert code == 0
    return yaml.safe_load((tmp_path / ".github/workflows/runpages-schedule.yml").read_text())


def test_a_scheduled_workflow_rebuilds_from_the_bucket_and_deploys_to_pages(tmp_path, monkeypatch):
    doc = _write(tmp_path, monkeypatch)
    triggers = doc.get("on", doc.get(True))                 # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"] == [{"cron": CRON}] and "workflow_dispatch" in triggers
    assert "push" not in triggers and "pull_request" not in triggers
    assert doc["env"] == {"AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
                          "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}"}
    steps = {s.get("name") or s.get("uses"): s for _j, s in _steps(doc)}
    assert "pip install s3fs" in steps["Install"]["run"]
    assert "runpages @ git+https://example.org/runpages@0123abc" in steps["Install"]["run"]
    cache = steps["Restore the mirror of the bucket and the build cache"]
    assert cache["uses"].startswith("actions/cache@") and cache["with"]["path"] == "~/.cache/runpages"
    assert cache["with"]["restore-keys"] == "runpages-store-"
    lines = list(_runpages_lines(doc))
    assert lines == [["runpages", "build", "s3://team-logbook/runs", "-o", "site"]]
    args = make_parser().parse_args(lines[0][1:])
    assert args.func.__name__ == "build" and args.runs_dirs == ["s3://team-logbook/runs"]
    uses = {s.get("uses", "").split("@")[0] for _j, s in _steps(doc)}
    assert {"actions/upload-pages-artifact", "actions/deploy-pages"} <= uses
    assert doc["jobs"]["deploy"]["needs"] == "build"
    assert doc["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    # no secret value is ever in the file, only the secrets' names
    text = (tmp_path / ".github/workflows/runpages-schedule.yml").read_text()
    assert "testing" not in text and "secrets.AWS_SECRET_ACCESS_KEY" in text


def test_a_scheduled_workflow_can_publish_into_the_store(tmp_path, monkeypatch):
    doc = _write(tmp_path, monkeypatch, "--to", "s3://team-logbook/site")
    lines = list(_runpages_lines(doc))
    assert lines == [["runpages", "publish", "s3://team-logbook/runs", "-o", "site",
                      "--to", "s3://team-logbook/site"]]
    args = make_parser().parse_args(lines[0][1:])
    assert args.func.__name__ == "publish" and args.to == "s3://team-logbook/site"
    assert "deploy" not in doc["jobs"]


@pytest.mark.parametrize("argv,said", [
    (["--schedule", "*/30 * * *", "--runs-dir", "s3://b/runs"], "five cron fields"),
    (["--schedule", "every hour please", "--runs-dir", "s3://b/runs"], "five cron fields"),
    (["--schedule", CRON, "--runs-dir", "runs"], "rebuilds from an object store"),
    (["--schedule", CRON, "--runs-dir", "s3://b/runs", "--to", "site/"], "--to takes a store URL"),
    (["--to", "s3://b/site"], "add --schedule"),
])
def test_a_wrong_schedule_is_a_clear_message(tmp_path, monkeypatch, capsys, argv, said):
    monkeypatch.chdir(tmp_path)
    assert main(["init-ci", "--install", "pip install runpages", *argv]) == 1
    assert said in capsys.readouterr().err
    assert not (tmp_path / ".github").exists()


def test_azure_and_gcs_schedules_name_their_own_packages_and_secrets():
    from runpages.sitegen.ci_workflow import render_schedule_workflow

    az = yaml.safe_load(render_schedule_workflow("az://logbook/runs", CRON))
    assert az["env"] == {"AZURE_STORAGE_CONNECTION_STRING":
                         "${{ secrets.AZURE_STORAGE_CONNECTION_STRING }}"}
    gs = render_schedule_workflow("gs://logbook/runs", "0 */2 * * 1-5")
    assert "pip install gcsfs" in gs and "0 */2 * * 1-5" in gs
    assert yaml.safe_load(gs)["env"]["GOOGLE_APPLICATION_CREDENTIALS"] == "/tmp/gcs-key.json"
