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
    state = json.loads((tmp_path / "cache" / "state.json").read_text())
    assert not [k for st in state["runs"].values() for k in st if k in ("entry", "usage")]
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
        f.write_text('{"p/x": [1, 2, 3], "oops": ')
    util_page._CACHE.clear()
    append_steps(runs[0], 20, 5)
    result = build_site(config)
    assert result.rebuilt_runs == 1
    assert (config.output / "p/p/utilisation.html").is_file()
