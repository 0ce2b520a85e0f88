"""Many runs are built by a pool of forked workers: the same site as one process, and a worker
that dies makes a Problem on its run, never a failed build."""
from __future__ import annotations

import os

from runfolders import append_steps
from runpages.sitegen import build_pool
from runpages.sitegen.build import build_site


def _runs(make_run, n=6):
    return [make_run(project=f"p{i % 2}", name=f"r{i}", steps=30) for i in range(n)]


def _site(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_pool_builds_the_same_site_bytes_as_one_process(make_run, make_config, monkeypatch, tmp_path):
    _runs(make_run)
    monkeypatch.setenv("RUNPAGES_JOBS", "1")
    one = make_config([make_run.runs], output=tmp_path / "one", cache_dir=tmp_path / "cache-one")
    single = build_site(one)
    monkeypatch.setenv("RUNPAGES_JOBS", "2")
    monkeypatch.setattr(build_pool, "POOL_MIN_RUNS", 1)
    monkeypatch.setattr(build_pool, "_alone", lambda: True)    # a test server's thread may be alive
    two = make_config([make_run.runs], output=tmp_path / "two", cache_dir=tmp_path / "cache-two")
    pooled = build_site(two)
    assert pooled.rebuilt_runs == single.rebuilt_runs == 6
    assert pooled.written == single.written and pooled.files == single.files
    a, b = _site(tmp_path / "one"), _site(tmp_path / "two")
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


def test_a_process_with_other_threads_stays_in_one_process(monkeypatch):
    """serve --watch builds beside its HTTP threads: a fork there could copy a held lock."""
    import threading

    monkeypatch.setenv("RUNPAGES_JOBS", "2")
    monkeypatch.setattr(build_pool, "POOL_MIN_RUNS", 1)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        got, crashed = build_pool.map_runs(lambda batch: [os.getpid() for _ in batch], list(range(8)))
    finally:
        stop.set()
        t.join()
    assert got == [os.getpid()] * 8 and crashed == {}
    monkeypatch.setattr(build_pool, "_alone", lambda: True)
    pooled, _ = build_pool.map_runs(lambda batch: [os.getpid() for _ in batch], list(range(8)))
    assert os.getpid() not in pooled


def test_a_worker_that_dies_becomes_a_problem_on_its_run_and_the_build_goes_on(make_run, make_config,
                                                                                monkeypatch):
    from runpages.sitegen.pages import run as run_page

    runs = _runs(make_run)
    doomed = runs[3]
    real = run_page.build_run

    def build_run(run, *a, **kw):
        if run.name == "r3":
            os._exit(9)                   # as a segfault or the OOM killer would end it
        return real(run, *a, **kw)

    monkeypatch.setenv("RUNPAGES_JOBS", "2")
    monkeypatch.setattr(build_pool, "POOL_MIN_RUNS", 1)
    monkeypatch.setattr(build_pool, "_alone", lambda: True)    # a test server's thread may be alive
    monkeypatch.setattr(run_page, "build_run", build_run)
    config = make_config([make_run.runs])
    result = build_site(config)
    assert result.rebuilt_runs == 5
    hits = [p for p in result.problems if "could not render this run" in p.reason]
    assert len(hits) == 1 and hits[0].path == str(doomed.resolve())
    assert "exit status 9" in hits[0].reason
    assert (config.output / "index.html").is_file()
    assert len(list(config.output.glob("p/*/r/*/index.html"))) == 5
    monkeypatch.setattr(run_page, "build_run", real)      # fixed: the next build renders it
    again = build_site(config)
    assert again.rebuilt_runs == 1 and not [p for p in again.problems if "could not render" in p.reason]
    assert len(list(config.output.glob("p/*/r/*/index.html"))) == 6


def test_one_run_grew_rewrites_that_run_its_project_and_home_only(make_run, make_config, monkeypatch):
    runs = _runs(make_run, 8)
    monkeypatch.setenv("RUNPAGES_JOBS", "2")
    monkeypatch.setattr(build_pool, "POOL_MIN_RUNS", 1)
    monkeypatch.setattr(build_pool, "_alone", lambda: True)    # a test server's thread may be alive
    config = make_config([make_run.runs])
    build_site(config)
    out = config.output
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    append_steps(runs[2], 30, 5)                 # a resumed run: more steps, a new summary
    (runs[2] / "summary.json").write_text('{"train/loss": 0.0125}\n')
    result = build_site(config)
    html = {p for p in result.written if p.endswith(".html")}
    page = next(p for p in html if p.startswith("p/p0/r/"))
    assert html == {"index.html", "p/p0/index.html", page}
    assert result.pages_written == 3 and result.rebuilt_runs == 1
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    touched = {str(p.relative_to(out)) for p in after if after[p] != before.get(p)}
    assert touched == html
