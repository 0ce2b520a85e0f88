import json
import re
from pathlib import Path

import pytest

from runfolders import append_steps, write_run
from data_scripts import read_data_script
from runpages.sitegen.build import build_site
from runpages.sitegen.logbook import SiteMap, slug, unique_slugs
from runpages.sitegen.errors import SiteError


@pytest.mark.parametrize("name", [
    "<script>alert(1)</script>", "../../etc/passwd", "a/b\\c", "..", ".", "", "   ", "ünïcödé 名前",
    "名前", "con", "x" * 500, ".hidden", "a\x00b", "run:1?*|",
])
def test_slug_is_path_safe_whatever_the_name(name):
    s = slug(name)
    assert s and re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", s)
    assert ".." not in s.split("/") and len(s) <= 90
    assert s.lower() not in {"con", "nul", "prn", "aux"}


def test_slug_collisions_are_told_apart():
    assert unique_slugs(["a/b", "a-b", "A-B", "a b"]) == ["a-b", "a-b-2", "A-B-3", "a-b-4"]
    assert len(set(unique_slugs(["名前", "名字"]))) == 2


def test_build_writes_the_site_layout_and_one_summary_line(runs_dir, make_config):
    config = make_config([runs_dir])
    result = build_site(config)
    out = Path(config.output)
    assert result.runs == 3 and not result.problems
    assert re.fullmatch(r"built \d+ pages, 3 runs in \d+\.\ds", result.summary())
    for rel in ["index.html", "_static/bokeh/bokeh.min.js", "_static/bokeh/bokeh-api.min.js",
                "_static/charts.js", "_static/runpages.css", "_static/site.js",
                "p/mnist/r/20251124-130000-lr-sweep-def456/index.html",
                "data/runs/mnist/20251124-130000-lr-sweep-def456.js", "data/projects/mnist.js",
                "files/mnist/20251124-120000-baseline-abc123/metrics.jsonl",
                "files/mnist/20251124-120000-baseline-abc123/console.log",
                "files/mnist/20251124-120000-baseline-abc123/artifacts/model.pt"]:
        assert (out / rel).is_file(), rel
    # No second copy of the data: the page makes the CSV from the site's metrics.jsonl
    assert not (out / "files/mnist/20251124-120000-baseline-abc123/metrics.csv").exists()
    html = (out / "p/mnist/r/20251124-120000-baseline-abc123/index.html").read_text()
    assert 'data-csv-from="../../../../files/mnist/20251124-120000-baseline-abc123/metrics.jsonl"' in html
    assert 'data-root="../../../../"' in html
    assert "http://" not in html and "https://" not in html


def test_unchanged_site_rebuilds_without_rewriting(runs_dir, make_config):
    config = make_config([runs_dir])
    build_site(config)
    out = Path(config.output)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".runpages" not in p.parts}
    result = build_site(config)          # how fast: benchmarks/bench_build.py
    assert result.rebuilt_runs == 0 and result.pages_written == 0
    after = {p: p.stat().st_mtime_ns for p in before}
    assert before == after


def test_a_run_that_grew_is_redone_alone(runs_dir, make_config):
    config = make_config([runs_dir])
    build_site(config)
    run = runs_dir / "mnist" / "20251124-120000-baseline-abc123"
    append_steps(run, 50, 1000)
    result = build_site(config)
    assert result.rebuilt_runs == 1
    data = read_data_script((Path(config.output) / "data/runs/mnist/20251124-120000-baseline-abc123.js").read_text())
    assert data["steps"]["step"][-1] == 1049
    jsonl = (Path(config.output) / "files/mnist/20251124-120000-baseline-abc123/metrics.jsonl").read_text()
    assert len(jsonl.splitlines()) == 1050


def test_theme_change_rebuilds_everything(runs_dir, make_config, tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    config = make_config([runs_dir], theme=theme)
    build_site(config)
    (theme / "run.html").write_text('{% extends "base.html" %}{% block content %}CUSTOM {{ title }}{% endblock %}')
    result = build_site(config)
    assert result.rebuilt_runs == 3
    page = Path(config.output) / "p/cifar/r/20251124-140000-resnet-ghi789/index.html"
    assert "CUSTOM resnet" in page.read_text()


def test_several_runs_dirs_merge(tmp_path, make_config):
    a, b = tmp_path / "a", tmp_path / "b"
    write_run(a, "shared", "mine", run_id="20251124-120000-mine-aaaaaa")
    write_run(b, "shared", "theirs", run_id="20251124-120000-theirs-bbbbbb", meta={"user": "bo"})
    config = make_config([a, b])
    result = build_site(config)
    assert result.runs == 2
    js = (Path(config.output) / "data/projects/shared.js").read_text()
    assert "mine" in js and "theirs" in js


def test_deleted_run_leaves_nothing_behind(runs_dir, make_config):
    import shutil

    config = make_config([runs_dir])
    build_site(config)
    shutil.rmtree(runs_dir / "cifar")
    build_site(config)
    out = Path(config.output)
    assert not (out / "data/runs/cifar/20251124-140000-resnet-ghi789.js").exists()
    assert not (out / "p/cifar/r/20251124-140000-resnet-ghi789/index.html").exists()
    assert not (out / "files/cifar").exists() and not (out / "data/runs/cifar").exists()
    assert not (out / "p/cifar").exists() and not (out / "data/projects/cifar.js").exists()
    assert (out / "p/mnist/index.html").exists()


def test_strict_mode_fails_on_problems(runs_dir, make_config):
    with open(runs_dir / "mnist/20251124-120000-baseline-abc123/metrics.jsonl", "a") as f:
        f.write("this is not json\n")
    result = build_site(make_config([runs_dir]))
    assert result.problems and "1 problem" in result.summary()
    with pytest.raises(SiteError):
        build_site(make_config([runs_dir], strict=True))


def test_big_artifacts_are_listed_not_copied(tmp_path, make_config):
    d = tmp_path / "runs"
    write_run(d, "p", "big", artifacts={"huge.bin": b"x" * 3_000_000, "small.txt": b"ok"})
    config = make_config([d], max_artifact_mb=1)
    build_site(config)
    out = Path(config.output)
    files = out / "files/p/20251124-120000-big-abc123/artifacts"
    assert (files / "small.txt").is_file() and not (files / "huge.bin").exists()
    html = (out / "p/p/r/20251124-120000-big-abc123/index.html").read_text()
    assert "larger than 1 MB" in html


def test_artifact_paths_cannot_leave_the_run(tmp_path, make_config):
    d = tmp_path / "runs"
    run = write_run(d, "p", "evil", artifacts={"ok.txt": b"ok"})
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    man = run / "artifacts" / "manifest.jsonl"
    man.write_text(man.read_text() + json.dumps({"name": "x", "type": "file", "path": "../../../../secret.txt",
                                                 "bytes": 6, "sha256": "", "files": 1}) + "\n")
    config = make_config([d])
    build_site(config)
    out = Path(config.output)
    assert not any(p.read_bytes() == b"secret" for p in out.rglob("*") if p.is_file())


def test_hostile_names_are_escaped_in_pages(tmp_path, make_config):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    d = tmp_path / "runs"
    write_run(d, "p", evil, run_id="20251124-120000-evil-abc123", config={evil: evil},
              metrics={evil: lambda s: s}, meta={"tags": [evil], "notes": evil, "group": evil})
    config = make_config([d])
    build_site(config)
    out = Path(config.output)
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "<img src=x" not in text, page


def test_sitemap_paths_and_keys(runs_dir):
    from runpages.sitegen.reader import read_runs

    projects, _ = read_runs([runs_dir])
    site = SiteMap(projects)
    run = projects[-1].runs[0]
    assert site.run_url(run) == f"p/{site.key(run).replace('/', '/r/')}/index.html"
    assert site.run_data(run) == f"data/runs/{site.key(run)}.js"
    assert site.run_by_key(site.key(run)) is run


def test_reports_are_built_cited_runs_link_back_and_edits_rebuild(runs_dir, make_config):

    reports = runs_dir / "reports"
    reports.mkdir()
    md = reports / "note.md"
    md.write_text("---\ntitle: First note\nauthor: ana\ndate: 2026-11-20\n---\n\nText.\n\n"
                  "```runs\nproject: mnist\n```\n")
    config = make_config([runs_dir])
    build_site(config)
    out = Path(config.output)
    assert (out / "reports/index.html").is_file()
    assert "First note" in (out / "index.html").read_text()
    md.write_text(md.read_text().replace("First note", "Second note"))
    result = build_site(config)                      # an edited report is not "nothing changed"
    assert result.pages_written >= 1
    assert "Second note" in (out / "index.html").read_text()
