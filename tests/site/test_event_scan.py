"""``serve --watch`` tells the build which run folders file events named (``events=True``):
only their project folders are scanned again, the rest of the last scan in this process is
taken as it was; a build without events (the watcher's tick) scans everything, so a change
whose event never came is seen then."""
from __future__ import annotations

import os

from runfolders import append_steps, write_run
from runpages.sitegen import runscan
from runpages.sitegen.build import build_site


def _listed(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = runscan._listing
    monkeypatch.setattr(runscan, "_listing", lambda path: seen.append(os.path.basename(os.path.dirname(path)))
                        or real(path))
    return seen


def test_a_build_on_events_rescans_only_the_named_projects(tmp_path, make_config, monkeypatch):
    root = tmp_path / "runs"
    a = write_run(root, "alpha", "a1", run_id="run-a1", steps=20)
    b = write_run(root, "beta", "b1", run_id="run-b1", steps=20)
    config = make_config([root], cache_dir=tmp_path / "cache")
    build_site(config)
    seen = _listed(monkeypatch)
    append_steps(a, 20, 5)
    append_steps(b, 20, 5)                      # its event "never came"
    result = build_site(config, changed={str(a)}, events=True)
    assert set(seen) == {"alpha"} and result.rebuilt_runs == 1
    seen.clear()
    result = build_site(config)                 # the tick: everything scanned, beta seen
    assert set(seen) == {"alpha", "beta"} and result.rebuilt_runs == 1
    assert any(p.startswith("p/beta/") for p in result.written)


def test_a_new_project_or_run_on_events_is_found(tmp_path, make_config, monkeypatch):
    root = tmp_path / "runs"
    write_run(root, "alpha", "a1", run_id="run-a1", steps=20)
    config = make_config([root], cache_dir=tmp_path / "cache")
    build_site(config)
    new = write_run(root, "gamma", "g1", run_id="run-g1", steps=20)
    more = write_run(root, "alpha", "a2", run_id="run-a2", steps=20)
    result = build_site(config, changed={str(new), str(more)}, events=True)
    assert result.runs == 3 and (config.output / "p/gamma/index.html").is_file()


def test_events_name_real_paths_when_the_runs_dir_is_a_link(tmp_path, make_config):
    real_root = tmp_path / "real-runs"
    a = write_run(real_root, "alpha", "a1", run_id="run-a1", steps=20)
    link = tmp_path / "runs-link"
    link.symlink_to(real_root)
    config = make_config([link], cache_dir=tmp_path / "cache")
    build_site(config)
    append_steps(a, 20, 5)
    result = build_site(config, changed={os.path.realpath(a)}, events=True)
    assert result.rebuilt_runs == 1
