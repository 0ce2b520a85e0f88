"""No second copy of the data: a run that has ended has its raw files in the site as hard links
(same inode) where the file system allows, a running run has copies (its logger still appends),
and nothing the build does changes a run's file through a link."""
from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from runfolders import append_steps, write_run
from runpages import schema
from runpages.sitegen import atomic
from runpages.sitegen.build import build_site

RAW = (schema.METRICS_FILE, schema.SYSTEM_FILE, schema.META_FILE, schema.CONFIG_FILE, schema.CONSOLE_FILE)


@pytest.fixture
def can_link(tmp_path):
    try:
        (tmp_path / "probe").write_bytes(b"x")
        os.link(tmp_path / "probe", tmp_path / "probe-link")
    except OSError as err:
        pytest.skip(f"no hard links on this file system ({err})")


def site_file(config, run_dir: Path, name: str) -> Path:
    return Path(config.output) / "files" / run_dir.parent.name / run_dir.name / name


def test_a_finished_runs_raw_files_and_artifacts_are_hard_links_not_copies(tmp_path, make_config, can_link):
    run = write_run(tmp_path / "runs", "mnist", "done", artifacts={"model.pt": b"w" * 1000})
    config = make_config([tmp_path / "runs"])
    build_site(config)
    for name in RAW + ("artifacts/model.pt",):
        assert os.path.samefile(site_file(config, run, name), run / name), name
    # Deleting the site leaves the run as it was.
    before = (run / schema.METRICS_FILE).read_bytes()
    shutil.rmtree(config.output)
    assert (run / schema.METRICS_FILE).read_bytes() == before


def test_a_running_runs_files_are_copies_and_a_rebuild_after_it_grew_has_the_new_lines(
        tmp_path, make_config, can_link):
    run = write_run(tmp_path / "runs", "mnist", "going", status="running")
    config = make_config([tmp_path / "runs"])
    build_site(config)
    jsonl = site_file(config, run, schema.METRICS_FILE)
    assert not os.path.samefile(jsonl, run / schema.METRICS_FILE)
    assert jsonl.read_bytes() == (run / schema.METRICS_FILE).read_bytes()
    append_steps(run, 50, 10)                        # the logger appends: the site's copy keeps still
    assert jsonl.read_bytes() != (run / schema.METRICS_FILE).read_bytes()
    build_site(config)
    assert jsonl.read_bytes() == (run / schema.METRICS_FILE).read_bytes()
    assert not os.path.samefile(jsonl, run / schema.METRICS_FILE)
    # It ends: the next build replaces the copies with links.
    meta = json.loads((run / schema.META_FILE).read_text())
    (run / schema.META_FILE).write_text(json.dumps({**meta, "status": "finished", "ended_at": meta["started_at"] + 60}))
    build_site(config)
    assert os.path.samefile(jsonl, run / schema.METRICS_FILE)
    page = (Path(config.output) / "p/mnist/r" / run.name / "index.html").read_text()
    assert 'data-ended="1"' in page


def test_rebuilds_never_change_a_runs_file_through_its_link(tmp_path, make_config, can_link):
    run = write_run(tmp_path / "runs", "mnist", "done")
    config = make_config([tmp_path / "runs"])
    build_site(config)
    before = {n: ((run / n).read_bytes(), (run / n).stat().st_ino) for n in RAW}
    theme = tmp_path / "theme"
    theme.mkdir()
    build_site(make_config([tmp_path / "runs"], theme=theme))      # everything redone
    build_site(config)
    assert {n: ((run / n).read_bytes(), (run / n).stat().st_ino) for n in RAW} == before
    assert os.path.samefile(site_file(config, run, schema.METRICS_FILE), run / schema.METRICS_FILE)


@pytest.mark.parametrize("code", [errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP])
def test_where_the_file_system_refuses_a_link_the_file_is_copied(tmp_path, make_config, monkeypatch, code):
    def refuse(src, dst, *a, **kw):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(atomic.os, "link", refuse)
    run = write_run(tmp_path / "runs", "mnist", "done")
    config = make_config([tmp_path / "runs"])
    result = build_site(config)
    assert not result.problems
    jsonl = site_file(config, run, schema.METRICS_FILE)
    assert jsonl.read_bytes() == (run / schema.METRICS_FILE).read_bytes()
    assert not os.path.samefile(jsonl, run / schema.METRICS_FILE)
    assert oct(jsonl.stat().st_mode & 0o777) == "0o644"
    assert not [p for p in jsonl.parent.iterdir() if p.name.endswith(".tmp")]


def test_link_atomic_lands_whole_and_keeps_no_temp_file(tmp_path, can_link):
    src, dest = tmp_path / "src.jsonl", tmp_path / "site" / "f" / "metrics.jsonl"
    src.write_bytes(b'{"_step": 0}\n')
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"an older copy")
    assert atomic.link_atomic(src, dest) is True
    assert os.path.samefile(src, dest)
    assert atomic.link_atomic(src, dest) is True                 # again: already the same file
    assert sorted(p.name for p in dest.parent.iterdir()) == ["metrics.jsonl"]


def test_the_csv_is_written_by_the_build_only_when_metrics_jsonl_is_not_in_the_site(tmp_path, make_config):
    from runpages.sitegen.build import metrics_csv
    from runpages.sitegen.reader import read_run

    run = write_run(tmp_path / "runs", "mnist", "big", steps=2000)
    config = make_config([tmp_path / "runs"], max_artifact_mb=0.01)     # metrics.jsonl is ~0.2 MB
    build_site(config)
    assert not site_file(config, run, schema.METRICS_FILE).exists()
    csv = site_file(config, run, "metrics.csv")
    assert csv.read_bytes() == metrics_csv(read_run(run)[0])
    page = (Path(config.output) / "p/mnist/r" / run.name / "index.html").read_text()
    assert "data-csv-from" not in page and 'metrics.csv" download>metrics (CSV, full resolution)' in page


def test_serve_sends_run_files_as_utf8_text():
    from runpages.sitegen.serve import SiteHandler

    guess = SiteHandler.guess_type
    assert guess(SiteHandler, "files/p/r/metrics.jsonl") == "text/plain; charset=utf-8"
    assert guess(SiteHandler, "files/p/r/console.log") == "text/plain; charset=utf-8"
    assert guess(SiteHandler, "files/p/r/config.json") == "application/json"
