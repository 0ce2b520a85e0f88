"""Home, project and utilisation figures are kept per run in the build cache: a rebuild in a
new process computes them only for the run that changed, and the site it leaves is the one a
cold build of the same runs makes."""
from __future__ import annotations

import json

from runfolders import append_steps
from runpages.sitegen import utilisation as U
from runpages.sitegen.build import build_site
from runpages.sitegen.pages import utilisation as util_page


def _site(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_rebuild_in_a_new_process_computes_the_figures_of_the_changed_run_only(make_run, make_config,
                                                                                 monkeypatch, tmp_path):
    runs = [make_run(project=f"p{i % 3}", name=f"r{i}", steps=30) for i in range(6)]
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    states = [json.loads(f.read_text()) for f in (tmp_path / "cache" / "projects").glob("*.runs.json")]
    assert sum(len(runs) for runs in states) == 6            # every run's state, per project
    assert not [k for runs in states for st in runs.values() for k in st if k in ("entry", "usage")]
    util_page._CACHE.clear()                              # as a new `runpages build` process
    computed = []
    real = U.run_usage
    monkeypatch.setattr(U, "run_usage", lambda run, *a, **kw: computed.append(run.name) or real(run, *a, **kw))
    append_steps(runs[4], 30, 5)
    (runs[4] / "summary.json").write_text('{"train/loss": 0.0125}\n')
    result = build_site(config)
    assert computed == ["r4"] and result.rebuilt_runs == 1
    cold = make_config([make_run.runs], output=tmp_path / "cold", cache_dir=tmp_path / "cache-cold")
    build_site(cold)
    a, b = _site(config.output), _site(tmp_path / "cold")
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


def test_a_broken_aggregate_file_means_recomputing_not_a_failed_build(make_run, make_config, tmp_path):
    runs = [make_run(project="p", name=f"r{i}", steps=20) for i in range(3)]
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    for f in (tmp_path / "cache" / "projects").iterdir():
        if not f.name.endswith(".runs.json"):
            f.write_text('{"p/x": [1, 2, 3], "oops": ')
    util_page._CACHE.clear()
    append_steps(runs[0], 20, 5)
    result = build_site(config)
    assert result.rebuilt_runs == 1
    assert (config.output / "p/p/utilisation.html").is_file()
    (tmp_path / "cache" / "projects" / "p.runs.json").write_text('{"p/r0": ')   # the run states
    append_steps(runs[0], 25, 5)
    result = build_site(config)
    assert result.rebuilt_runs == 3 and not result.problems            # every run of p redone
    assert build_site(config).rebuilt_runs == 0


def test_site_wide_pages_are_made_from_kept_summaries_of_unchanged_projects(make_run, make_config,
                                                                            monkeypatch, tmp_path):
    from runpages.sitegen.pages import summary as project_summary

    runs = [make_run(project=f"p{i % 3}", name=f"r{i}", steps=20, meta={"user": f"u{i % 2}"})
            for i in range(6)]
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    made = []
    real = project_summary.summarize
    monkeypatch.setattr(project_summary, "summarize", lambda p, book: made.append(p.name) or real(p, book))
    append_steps(runs[4], 20, 5)                                      # r4 is in p1
    result = build_site(config)
    assert made == ["p1"] and result.rebuilt_runs == 1
    cold = make_config([make_run.runs], output=tmp_path / "cold", cache_dir=tmp_path / "cache-cold")
    build_site(cold)
    for rel in ("index.html", "compare.html", "utilisation.html", "data/runs-index.js"):
        assert (config.output / rel).read_bytes() == (tmp_path / "cold" / rel).read_bytes(), rel


def test_a_summary_kept_under_another_key_or_broken_is_made_again(make_run, make_config, monkeypatch, tmp_path):
    from runpages.sitegen.pages import summary as project_summary

    runs = [make_run(project=p, name=f"r{i}", steps=20) for i, p in enumerate(("a", "b", "c"))]
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    kept = tmp_path / "cache" / "projects"
    stored = json.loads((kept / "b.summary.json").read_text())
    stored["key"] = "not-this-one"
    (kept / "b.summary.json").write_text(json.dumps(stored))
    (kept / "c.summary.json").write_text('{"key": ')
    made = []
    real = project_summary.summarize
    monkeypatch.setattr(project_summary, "summarize", lambda p, book: made.append(p.name) or real(p, book))
    append_steps(runs[0], 20, 5)
    build_site(config)
    assert sorted(made) == ["a", "b", "c"]
    index = (config.output / "index.html").read_text()
    assert all(f'href="p/{p}/index.html"' in index for p in "abc")
    made.clear()
    append_steps(runs[0], 25, 5)
    build_site(config)
    assert made == ["a"]                                  # b's and c's were saved again, whole


def test_a_kept_summary_of_the_wrong_shape_is_made_again(make_run, make_config, tmp_path):
    runs = [make_run(project=p, name=f"r{i}", steps=20) for i, p in enumerate(("a", "b"))]
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    kept = tmp_path / "cache" / "projects" / "b.summary.json"
    stored = json.loads(kept.read_text())
    stored["summary"]["usage"]["rows"] = [{"key": "b/x", "not": "a usage"}]
    stored["summary"]["index"] = [["only", "two"]]
    kept.write_text(json.dumps(stored))
    append_steps(runs[0], 20, 5)
    result = build_site(config)
    assert result.rebuilt_runs == 1 and not result.problems
    assert "b/x" not in (config.output / "utilisation.html").read_text()
