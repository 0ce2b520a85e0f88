"""A rebuild makes an unchanged run from its record (``sitegen/runrecords.py``) instead of
reading its files: the Run, its Problems and its points are what a fresh read gives, for every
hostile reader case; a run that changed in any way is read again."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from runfolders import append_steps, write_run
from runpages.sitegen import reader
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
from runpages.sitegen.reader import ReadCache, read_runs
from runpages.sitegen.runrecords import RunRecords

from tests.reader.test_cases import CASES, NOW, parse_case

FIELDS = ("id", "project", "name", "dir", "meta", "config", "summary", "text_keys", "artifacts", "status",
          "source", "fingerprint", "problem_count", "files", "media", "reproduce", "zoom")


def _plain(value):
    """Equal-comparable: NaN as a string, tuples as lists."""
    return json.loads(json.dumps(value, default=lambda v: v.__dict__ if hasattr(v, "__dict__") else str(v)),
                      parse_constant=str)


def _read(root: Path, cache_dir: Path, now: float = NOW, count: dict | None = None):
    """One build's read: cache and records loaded from ``cache_dir``, saved after."""
    cache = ReadCache.load(cache_dir / "read")
    records = RunRecords.load(cache_dir / "records")
    projects, problems = read_runs([root], cache=cache, now=now, records=records)
    cache.save(cache_dir / "read")
    records.save()
    return {r.id: r for p in projects for r in p.runs}, [str(p) for p in problems]


def _assert_same(got, want):
    for name in FIELDS:
        assert _plain(getattr(got, name)) == _plain(getattr(want, name)), name
    assert {k: v.tolist() for k, v in got.nan_steps.items()} == {k: v.tolist() for k, v in want.nan_steps.items()}
    for name in ("metrics", "system"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))


@pytest.mark.parametrize("path", sorted(CASES.glob("*.case")), ids=lambda p: p.stem)
def test_a_recalled_run_is_the_run_a_fresh_read_gives(path, tmp_path, monkeypatch):
    _, files, _ = parse_case(path)
    run_dir = tmp_path / "runs" / "p" / "r"
    run_dir.mkdir(parents=True)
    for name, text in files.items():
        (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / name).write_bytes(text.encode("utf-8"))
    fresh, fresh_problems = read_runs([tmp_path / "runs"], now=NOW)
    fresh = {r.id: r for p in fresh for r in p.runs}
    first, first_problems = _read(tmp_path / "runs", tmp_path / "cache")
    if fresh:             # a run that is read at all is made from its record, not read again
        monkeypatch.setattr(reader, "read_run", lambda *a, **k: pytest.fail("read again"))
    again, again_problems = _read(tmp_path / "runs", tmp_path / "cache")
    assert [str(p) for p in fresh_problems] == first_problems == again_problems
    assert set(again) == set(fresh) == set(first)
    for rid, run in again.items():
        _assert_same(run, fresh[rid])


def test_every_change_to_a_run_reads_it_again(make_run, tmp_path):
    a = make_run(project="p", name="a", run_id="run-a", steps=10)
    make_run(project="p", name="b", run_id="run-b", steps=10)
    runs = make_run.runs
    _read(runs, tmp_path / "cache")
    append_steps(a, 10, 5)
    got, _ = _read(runs, tmp_path / "cache")
    assert got["run-a"].steps == 15 and got["run-a"].frame_facts("metrics") is None   # read afresh
    assert got["run-b"].frame_facts("metrics") is not None                            # recalled
    meta = json.loads((a / "meta.json").read_text())
    meta["name"] = "renamed"
    (a / "meta.json").write_text(json.dumps(meta))
    got, _ = _read(runs, tmp_path / "cache")
    assert got["run-a"].name == "renamed"
    (a / "summary.json").write_text('{"best": 1')                     # a torn summary: a Problem now
    got, problems = _read(runs, tmp_path / "cache")
    assert any("summary.json" in p for p in problems)
    got, again = _read(runs, tmp_path / "cache")
    assert again == problems                                          # and still, from the record


def test_status_is_settled_at_each_build_not_kept(tmp_path):
    run = write_run(tmp_path / "runs", project="p", name="live", run_id="run-live", steps=5, status="running")
    last = json.loads((run / "meta.json").read_text())["heartbeat_at"]
    got, _ = _read(tmp_path / "runs", tmp_path / "cache", now=last + 1)
    assert got["run-live"].status == "running"
    got, _ = _read(tmp_path / "runs", tmp_path / "cache", now=last + 10**6)
    assert got["run-live"].status == "lost" and got["run-live"].frame_facts("metrics") is not None


def test_a_record_file_that_does_not_read_back_reads_the_runs_again(make_run, tmp_path):
    make_run(project="p", name="a", run_id="run-a", steps=10)
    want, _ = _read(make_run.runs, tmp_path / "cache")
    for f in (tmp_path / "cache" / "records").iterdir():
        f.write_bytes(b'{"layout": [1, "0.1.0"], "project": "x", "runs": {"' + b"\xff" * 10)
    got, _ = _read(make_run.runs, tmp_path / "cache")
    _assert_same(got["run-a"], want["run-a"])


def test_a_deleted_run_leaves_the_records(make_run, tmp_path):
    import shutil

    make_run(project="p", name="a", run_id="run-a", steps=3)
    b = make_run(project="q", name="b", run_id="run-b", steps=3)
    _read(make_run.runs, tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "records").iterdir())) == 2
    shutil.rmtree(b)
    got, _ = _read(make_run.runs, tmp_path / "cache")
    assert set(got) == {"run-a"}
    assert len(list((tmp_path / "cache" / "records").iterdir())) == 1


def test_a_build_from_records_is_the_site_a_fresh_build_gives(make_run, tmp_path):
    for i in range(3):
        make_run(project="p", name=f"r{i}", run_id=f"run-{i}", steps=30,
                 metrics={"loss": lambda s: 1 / (s + 1), "acc": lambda s: math.nan if s == 4 else s / 30})
    cfg = SiteConfig(runs_dirs=[make_run.runs], output=tmp_path / "site", cache_dir=tmp_path / "c")
    build_site(cfg, now=NOW)
    build_site(cfg, changed={str(make_run.runs / "p" / "run-1")}, now=NOW)   # drawn from a record's points
    fresh = SiteConfig(runs_dirs=[make_run.runs], output=tmp_path / "fresh", cache_dir=tmp_path / "c2")
    build_site(fresh, now=NOW)
    for rel in ("p/p/index.html", "data/runs/p/run-1.js", "index.html"):
        assert (tmp_path / "site" / rel).read_bytes() == (tmp_path / "fresh" / rel).read_bytes(), rel
