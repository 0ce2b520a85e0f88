"""A rebuild keeps the projects nobody touched without reading them (``sitegen/build_kept.py``):
no record file or run of theirs is read, and the site it leaves is the one a cold build of the
same runs makes, whatever moved: a run of a kept project logged from another folder, a new
project that takes its URL, a report that asks for its runs, a run named by ``serve --watch``."""
from __future__ import annotations

import json

from runfolders import append_steps
from runpages.sitegen import reader, runrecords
from runpages.sitegen.build import build_site


def _site(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _same_as_cold(make_config, make_run, config, tmp_path, name="cold", **kw):
    cold = make_config([make_run.runs], output=tmp_path / name, cache_dir=tmp_path / f"cache-{name}", **kw)
    build_site(cold)
    a, b = _site(config.output), _site(tmp_path / name)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


class _Reads:
    """Which run folders the reader made runs of, and which record files were opened."""

    def __init__(self, monkeypatch):
        self.runs, self.records = [], []
        real_recall, real_read, real_project = reader._read_or_recall, reader.read_run, runrecords.RunRecords._project
        monkeypatch.setattr(reader, "_read_or_recall",
                            lambda entry, *a, **k: self.runs.append(entry[1].name) or real_recall(entry, *a, **k))
        monkeypatch.setattr(reader, "read_run", lambda d, *a, **k: self.runs.append(d.name) or real_read(d, *a, **k))
        monkeypatch.setattr(runrecords.RunRecords, "_project",
                            lambda rec, project: self.records.append(project) or real_project(rec, project))

    def clear(self):
        self.runs.clear()
        self.records.clear()


def _three_projects(make_run):
    grown = make_run(project="alpha", name="a1", run_id="run-a1", steps=20, meta={"user": "ana"})
    make_run(project="alpha", name="a2", run_id="run-a2", steps=20, meta={"user": "bo"})
    make_run(project="beta", name="b1", run_id="run-b1", steps=20, meta={"user": "bo"})
    make_run(project="gamma", name="g1", run_id="run-g1", steps=20, meta={"user": "chen"})
    return grown


def test_a_rebuild_reads_only_the_project_that_changed(make_run, make_config, monkeypatch, tmp_path):
    grown = _three_projects(make_run)
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    assert build_site(config).kept_projects == 0
    reads = _Reads(monkeypatch)
    append_steps(grown, 20, 5)
    result = build_site(config)
    assert result.kept_projects == 2 and result.rebuilt_runs == 1 and result.runs == 4
    assert sorted(set(reads.runs)) == ["run-a1", "run-a2"]
    assert {p.rsplit("/", 1)[-1] for p in reads.records} == {"alpha"}
    home = (config.output / "index.html").read_text()
    assert all(f'href="p/{p}/index.html"' in home for p in ("alpha", "beta", "gamma"))
    _same_as_cold(make_config, make_run, config, tmp_path)
    reads.clear()
    append_steps(grown, 25, 5)                 # the next rebuild keeps them again
    assert build_site(config).kept_projects == 2 and sorted(set(reads.runs)) == ["run-a1", "run-a2"]


def test_a_run_of_a_kept_project_logged_elsewhere_makes_it_read(make_run, make_config, tmp_path):
    grown = _three_projects(make_run)
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    other = make_run(project="beta", name="b2", run_id="run-b2", steps=10)
    moved = make_run.runs / "elsewhere" / other.name
    moved.parent.mkdir()
    other.rename(moved)                        # meta.json says beta; the folder is another one
    append_steps(grown, 20, 5)
    result = build_site(config)
    assert result.kept_projects == 1           # gamma: beta was read after all
    assert "b2" in (config.output / "p/beta/index.html").read_text()
    _same_as_cold(make_config, make_run, config, tmp_path)


def test_a_new_project_that_takes_a_kept_projects_url_makes_it_read(make_run, make_config, tmp_path):
    _three_projects(make_run)
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    make_run(project="Beta", name="x1", run_id="run-x1", steps=10)    # sorts first: it gets "Beta"
    result = build_site(config)
    assert result.kept_projects == 2           # alpha, gamma; beta moved to p/beta-2/
    assert "b1" in (config.output / "p/beta-2/index.html").read_text()
    _same_as_cold(make_config, make_run, config, tmp_path)


def test_a_report_that_asks_for_a_kept_projects_runs_gets_them(make_run, make_config, tmp_path):
    grown = _three_projects(make_run)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "beta.md").write_text("# Beta\n\n```chart\nruns: project = beta\n```\n")
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache", reports_dir=reports)
    build_site(config)
    append_steps(grown, 20, 5)
    result = build_site(config)
    assert result.kept_projects == 1           # gamma; beta was read for the report
    assert "run-b1" in (config.output / "reports/beta.html").read_text()
    _same_as_cold(make_config, make_run, config, tmp_path, reports_dir=reports)


def test_a_run_named_by_watch_or_with_a_problem_keeps_its_project_read(make_run, make_config, tmp_path):
    grown = _three_projects(make_run)
    bad = make_run(project="gamma", name="g2", run_id="run-g2", steps=10)
    with open(bad / "metrics.jsonl", "ab") as f:
        f.write(b'{"_step": 99, "loss": \n')
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    first = build_site(config)
    assert first.problems
    beta = next((make_run.runs / "beta").iterdir())
    append_steps(grown, 20, 5)
    result = build_site(config, changed={str(beta)})
    assert result.kept_projects == 0           # beta was named, gamma has a Problem
    assert [str(p) for p in result.problems] == [str(p) for p in first.problems]
    _same_as_cold(make_config, make_run, config, tmp_path)


def test_a_project_named_by_watch_is_redone_once_not_again_at_the_next_change(make_run, make_config,
                                                                             monkeypatch, tmp_path):
    grown = _three_projects(make_run)
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    beta = next((make_run.runs / "beta").iterdir())
    named = build_site(config, changed={str(beta)})          # an event named it: redone now
    assert named.kept_projects == 2 and named.rebuilt_runs == 1
    reads = _Reads(monkeypatch)
    append_steps(grown, 20, 5)
    result = build_site(config, changed={str(grown)})         # the next change is elsewhere
    assert result.kept_projects == 2 and result.rebuilt_runs == 1    # beta is kept, not read again
    assert sorted(set(reads.runs)) == ["run-a1", "run-a2"]
    _same_as_cold(make_config, make_run, config, tmp_path)


def test_a_deleted_project_leaves_no_records_and_a_kept_one_keeps_its_own(make_run, make_config, tmp_path):
    import shutil

    grown = _three_projects(make_run)
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    records = tmp_path / "cache" / "records"
    before = {p.name: p.stat().st_mtime_ns for p in records.iterdir()}
    assert len(before) == 3
    shutil.rmtree(make_run.runs / "gamma")
    append_steps(grown, 20, 5)
    result = build_site(config)
    assert result.kept_projects == 1 and not (config.output / "p/gamma").exists()
    after = {p.name: p.stat().st_mtime_ns for p in records.iterdir()}
    assert len(after) == 2 and sum(1 for n in after if after[n] == before[n]) == 1   # beta's, untouched
    state = json.loads((tmp_path / "cache" / "state.json").read_text())
    assert sorted(state["projects"]) == ["alpha", "beta"]
    assert not list((tmp_path / "cache" / "projects").glob("gamma.*"))   # its run states, summary, ...
    assert (tmp_path / "cache" / "projects" / "beta.runs.json").is_file()
    _same_as_cold(make_config, make_run, config, tmp_path)


def test_hostile_names_in_a_kept_project_give_the_cold_builds_site(make_run, make_config, tmp_path):
    grown = make_run(project="plain", name="p1", run_id="run-p1", steps=10)
    make_run(project="Δ <script>alert(1)</script>", name="</script><b>x", run_id="run-h1", steps=10,
             meta={"user": "ana\u2028<img src=x onerror=alert(1)>"})
    make_run(project="Δ <script>alert(1)</script>", name="nan-run", run_id="run-h2", steps=10,
             metrics={"loss": lambda s: float("nan") if s % 3 else 1.0 / (s + 1)})
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    append_steps(grown, 10, 5)
    result = build_site(config)
    assert result.kept_projects == 1 and not result.problems
    home = (config.output / "index.html").read_text()
    assert "<script>alert(1)</script>" not in home and "<img src=x" not in home
    _same_as_cold(make_config, make_run, config, tmp_path)
