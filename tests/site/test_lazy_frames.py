"""A rebuild holds no unchanged run's points: the read cache gives a LazyFrame with the facts the
pages need, read from disk only when a page draws the run; a cold build's parsing is done by
the pool's workers straight into the cache."""
from __future__ import annotations

import math

from runfolders import append_steps
from runpages.sitegen import build_pool
from runpages.sitegen.build import build_site
from runpages.sitegen.lazyframe import frame_facts
from runpages.sitegen.reader import ReadCache, read_runs


def _runs(make_run, n=4):
    return [make_run(project="p", name=f"r{i}", run_id=f"run-{i}", steps=20 + i,
                     metrics={"train/loss": lambda s: 1.0 / (s + 1),
                              "val/acc": lambda s: math.nan if s == 3 else s / 100})
            for i in range(n)]


def _facts_view(run) -> tuple:
    return (run.steps, run.last_step, run.metric_keys, run.system_keys, run.last_record_at,
            run.last_activity, run.duration_s)


def test_an_unchanged_run_reads_lazily_with_the_facts_of_a_fresh_read(make_run, tmp_path):
    _runs(make_run)
    cache = ReadCache()
    read_runs([make_run.runs], cache=cache)
    cache.save(tmp_path / "read")
    fresh = {r.id: r for p in read_runs([make_run.runs])[0] for r in p.runs}
    loaded = ReadCache.load(tmp_path / "read")
    lazy = {r.id: r for p in read_runs([make_run.runs], cache=loaded)[0] for r in p.runs}
    assert set(lazy) == set(fresh)
    for rid, run in lazy.items():
        assert run.frame_facts("metrics") is not None             # not read yet
        assert _facts_view(run) == _facts_view(fresh[rid])
        assert run.frame_facts("metrics") is not None             # the facts read no frame
        assert run.frame_facts("metrics") == frame_facts(fresh[rid].metrics)
        assert run.metrics.equals(fresh[rid].metrics)               # read on first use, the same points
        assert run.frame_facts("metrics") is None
        assert run.series("val/acc")[1].size == fresh[rid].series("val/acc")[1].size


def test_a_frame_file_gone_from_the_cache_is_read_from_the_run_again(make_run, tmp_path):
    _runs(make_run, n=1)
    cache = ReadCache()
    read_runs([make_run.runs], cache=cache)
    cache.save(tmp_path / "read")
    loaded = ReadCache.load(tmp_path / "read")
    run = read_runs([make_run.runs], cache=loaded)[0][0].runs[0]
    for frame in (tmp_path / "read").glob("*.arrow"):
        frame.unlink()                                  # another build pruned it under this one
    assert len(run.metrics) == 20 and run.last_value("train/loss") == 1.0 / 20


def test_a_grown_run_whose_cached_frame_is_gone_is_read_whole(make_run, tmp_path):
    run_dir = _runs(make_run, n=1)[0]
    cache = ReadCache()
    read_runs([make_run.runs], cache=cache)
    cache.save(tmp_path / "read")
    loaded = ReadCache.load(tmp_path / "read")
    for frame in (tmp_path / "read").glob("*.arrow"):
        frame.unlink()
    append_steps(run_dir, 20, 5)
    run = read_runs([make_run.runs], cache=loaded)[0][0].runs[0]
    assert run.steps == 25 and list(run.metrics["_step"]) == list(range(25))


def test_the_pool_parses_a_cold_build_into_the_cache_and_the_parent_holds_no_points(
        make_run, make_config, monkeypatch, tmp_path):
    from runpages.sitegen import build_read, logbook

    _runs(make_run, n=6)
    monkeypatch.setenv("RUNPAGES_JOBS", "2")
    monkeypatch.setattr(build_pool, "POOL_MIN_RUNS", 1)
    monkeypatch.setattr(build_pool, "_alone", lambda: True)    # a test server's thread may be alive
    parsed, books = [], []
    real_warm, real_load = build_read.warm_read_cache, logbook.load_logbook
    monkeypatch.setattr(build_read, "warm_read_cache", lambda *a, **k: parsed.append(real_warm(*a, **k)) or parsed[-1])
    monkeypatch.setattr(logbook, "load_logbook", lambda *a, **k: books.append(real_load(*a, **k)) or books[-1])
    result = build_site(make_config([make_run.runs], cache_dir=tmp_path / "cache"))
    assert parsed == [6] and result.rebuilt_runs == 6 and not result.problems
    runs = [r for p in books[0].projects for r in p.runs]
    # The parent rendered nothing itself (the pool did): no run's points came into it.
    assert all(r.frame_facts("metrics") is not None for r in runs)
    # The same site as a build that parsed everything in one process.
    monkeypatch.setenv("RUNPAGES_JOBS", "1")
    one = build_site(make_config([make_run.runs], output=tmp_path / "one", cache_dir=tmp_path / "cache-one"))
    a = {p.relative_to(tmp_path / "site"): p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*") if p.is_file()}
    assert one.rebuilt_runs == 6 and a == b


def test_a_worker_that_dies_while_parsing_leaves_the_run_to_the_parent(make_run, make_config, monkeypatch):
    import os

    from runpages.sitegen import reader

    _runs(make_run, n=6)
    parent = os.getpid()
    real = reader.read_run

    def read_run(path, *a, **kw):
        if os.getpid() != parent and str(path).endswith("run-3"):
            os._exit(9)                   # as the OOM killer would end it
        return real(path, *a, **kw)

    monkeypatch.setenv("RUNPAGES_JOBS", "2")
    monkeypatch.setattr(build_pool, "POOL_MIN_RUNS", 1)
    monkeypatch.setattr(build_pool, "_alone", lambda: True)
    monkeypatch.setattr(reader, "read_run", read_run)
    config = make_config([make_run.runs])
    result = build_site(config)
    assert result.runs == 6 and result.rebuilt_runs == 6 and not result.problems
    assert (config.output / "p" / "p" / "r" / "run-3" / "index.html").is_file()


def test_a_run_lets_go_of_the_frames_it_read_and_reads_them_again_when_asked(make_run, tmp_path):
    _runs(make_run, n=1)
    cache = ReadCache()
    read_runs([make_run.runs], cache=cache)
    cache.save(tmp_path / "read")
    run = read_runs([make_run.runs], cache=ReadCache.load(tmp_path / "read"))[0][0].runs[0]
    first = run.metrics.copy()
    assert run.frame_facts("metrics") is None                    # read: held
    run.release_frames()
    assert run.frame_facts("metrics") == frame_facts(first)      # back on disk, facts kept
    assert run.metrics.equals(first)                              # and read again the same
    parsed = read_runs([make_run.runs])[0][0].runs[0]             # parsed, not from the cache:
    parsed.release_frames()                                       # nothing to read it back from
    assert parsed.frame_facts("metrics") is None and parsed.metrics.equals(first)
    run.metrics = first.iloc[:3]                                  # a frame set by hand stays
    run.release_frames()
    assert len(run.metrics) == 3


def test_a_full_rebuild_holds_no_run_points_once_its_pages_are_written(make_run, make_config, monkeypatch,
                                                                       tmp_path):
    import dataclasses

    from runpages.sitegen import logbook

    _runs(make_run, n=3)
    monkeypatch.setenv("RUNPAGES_JOBS", "1")
    config = make_config([make_run.runs], cache_dir=tmp_path / "cache")
    build_site(config)
    books = []
    real_load = logbook.load_logbook
    monkeypatch.setattr(logbook, "load_logbook", lambda *a, **k: books.append(real_load(*a, **k)) or books[-1])
    again = build_site(dataclasses.replace(config, title="Another title"))    # every run page redone
    assert again.rebuilt_runs == 3
    runs = [r for p in books[0].projects for r in p.runs]
    assert len(runs) == 3 and all(r.frame_facts("metrics") is not None for r in runs)
    page = (config.output / "p" / "p" / "r" / "run-2" / "index.html").read_text()
    assert "Another title" in page


def test_the_parent_decodes_many_runs_entries_at_once_and_skips_a_torn_one():
    from runpages.sitegen.build_read import _decode

    one = '[["/r/1/meta.json",{"kind":"json","value":{"user":"a"}}]]'
    two = '[["/r/2/meta.json",{"kind":"json","value":{"user":"b"}}]]'
    pairs = _decode([one, two])
    assert [k for k, _ in pairs] == ["/r/1/meta.json", "/r/2/meta.json"]
    a, b = (raw["value"] for _, raw in pairs)
    assert next(iter(a)) is next(iter(b))           # a name every run repeats is held once
    assert [k for k, _ in _decode([one, two[:-9], two])] == ["/r/1/meta.json", "/r/2/meta.json"]
