"""Long runs read in chunks (sitegen/longread.py) with zoom levels (sitegen/zoom_levels.py):
the same summary, last values, NaN steps and Problems as a normal read; an overview that keeps
every metric's extremes; levels that hold every point and exact min/max; a grown file read on
from where the last read stopped."""
from __future__ import annotations

import filecmp
import json
import math
from pathlib import Path

import numpy as np
import pytest

from runpages.sitegen import longread, packed, reader, zoom_levels


@pytest.fixture
def chunked(monkeypatch):
    """Every metrics file counts as long and is read in ~200 KB chunks."""
    monkeypatch.setattr(longread, "LONG_RUN_BYTES", 100)
    monkeypatch.setattr(longread, "CHUNK_BYTES", 200_000)


def _record(s: int) -> dict:
    rec = {"_step": s, "_time": 1000 + s * 0.5, "train/loss": (s % 997) * 0.25 + 1, "wave": math.sin(s / 50)}
    if s % 5000 == 17:
        rec["train/loss"] = "NaN"
    if s % 7001 == 3:
        rec["wave"] = "Infinity" if s % 2 else "-Infinity"
    if s % 10 == 0:
        rec["eval/acc"] = s / 1e5
    if s == 12_345:
        rec["note"] = "warm-up done"
    return rec


def _write(run: Path, start: int, stop: int, extra: bytes = b"") -> None:
    run.mkdir(parents=True, exist_ok=True)
    with open(run / "metrics.jsonl", "ab") as f:
        for s in range(start, stop):
            f.write(json.dumps(_record(s), separators=(",", ":")).encode() + b"\n")
            if s == 20_000:
                f.write(b"not json at all\n")
            if s == 30_000:
                f.write(b'{"_step": "late", "train/loss": 1}\n')
        f.write(extra)


def _meta(run: Path, status: str = "finished") -> None:
    (run / "meta.json").write_text(json.dumps({"project": "p", "status": status, "started_at": 1000.0,
                                                "ended_at": 99_999.0}))


def _cache(tmp_path: Path, name: str = "levels") -> reader.ReadCache:
    cache = reader.ReadCache()
    cache.levels_dir = tmp_path / name
    return cache


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_a_file_read_in_chunks_gives_the_summary_last_values_and_problems_of_a_normal_read(tmp_path, monkeypatch):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 60_000, extra=b'{"_step": 60000, "train/loss": 7.5}')     # a whole last record, torn
    _meta(run)
    normal, normal_problems = reader.read_run(run)
    monkeypatch.setattr(longread, "LONG_RUN_BYTES", 100)
    monkeypatch.setattr(longread, "CHUNK_BYTES", 200_000)
    long, long_problems = reader.read_run(run, _cache(tmp_path))
    assert long.zoom is not None and normal.zoom is None
    assert [str(p) for p in long_problems] == [str(p) for p in normal_problems]
    assert len(normal_problems) == 2                        # the text line, the text _step
    assert normal.summary.keys() == long.summary.keys()
    assert all(_same(normal.summary[k], long.summary[k]) for k in normal.summary)
    assert long.summary["train/loss"] == 7.5                # the torn last record counts, as normally
    for key in normal.metric_keys:
        assert np.array_equal(normal.nan_steps.get(key, []), long.nan_steps.get(key, []))
        assert _same(normal.last_value(key), long.last_value(key))
        assert normal.best_value(key) == long.best_value(key)
        assert normal.nonfinite_counts(key) == long.nonfinite_counts(key)
    assert long.text_keys == normal.text_keys
    assert long.steps == normal.steps == 60_001
    assert len(long.metrics) < len(normal.metrics) // 3     # the overview, not every step
    assert long.last_record_at == normal.last_record_at


def test_an_incomplete_last_line_of_an_ended_run_is_the_same_problem_either_way(tmp_path, monkeypatch):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 5_000, extra=b'{"_step": 5000, "train/lo')
    _meta(run, "crashed")
    normal, normal_problems = reader.read_run(run)
    monkeypatch.setattr(longread, "LONG_RUN_BYTES", 100)
    long, long_problems = reader.read_run(run, _cache(tmp_path))
    assert [str(p) for p in long_problems] == [str(p) for p in normal_problems]
    assert "last line is incomplete" in str(long_problems[-1])
    assert all(_same(normal.summary[k], long.summary[k]) for k in normal.summary)


def _tile_points(folder: Path, level: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    def dec(b64):
        assert isinstance(b64, str)                  # values in tiles: exact float64
        return np.asarray(packed.unpack(b64))

    def steps(v):
        return np.asarray(packed.unpack(v), dtype=np.float64)

    got: dict[str, list] = {}
    for rel in zoom_levels.tile_files(folder):
        if rel.split("/")[0] != str(level):
            continue
        text = (folder / rel).read_text()
        assert text.startswith("RunpagesData.addTile(") and text.endswith(");\n")
        tile = json.loads(text[len("RunpagesData.addTile("):-3])
        for key, v in tile["keys"].items():
            s = steps(tile["rows"]) if v["s"] is None else steps(v["s"])
            got.setdefault(key, []).append((s, dec(v["y"])))
    return {k: (np.concatenate([p[0] for p in v]), np.concatenate([p[1] for p in v])) for k, v in got.items()}


def test_levels_hold_every_point_and_the_exact_min_max_of_every_bucket(tmp_path, monkeypatch):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 120_000)
    normal, _ = reader.read_run(run)
    monkeypatch.setattr(longread, "LONG_RUN_BYTES", 100)
    monkeypatch.setattr(longread, "CHUNK_BYTES", 200_000)
    long, _ = reader.read_run(run, _cache(tmp_path))
    levels = long.zoom["levels"]
    assert [lv["level"] for lv in levels] == [0, 1]          # every point, then buckets of 8 steps
    folder = Path(long.zoom["folder"])
    for lv in levels:
        tiles = _tile_points(folder, lv["level"])
        for key in normal.metric_keys:
            s, y = normal.series(key)
            if lv["level"]:
                s, y = zoom_levels.bucket_points(s, y, lv["width"])
            assert np.array_equal(tiles[key][0], s)
            assert np.array_equal(tiles[key][1], y, equal_nan=True)


def test_a_bucket_keeps_its_min_its_max_and_its_first_nonfinite_value():
    s = np.arange(16)
    y = np.array([3, 1, 2, 9, 5, 5, 5, 5, 0, np.nan, 7, np.inf, 4, 4, 4, 4], dtype=float)
    bs, by = zoom_levels.bucket_points(s, y, 4)
    assert bs.tolist() == [1, 3, 4, 8, 9, 10, 12]
    # [3 1 2 9]: min 1, max 9 · [5 5 5 5]: one point · [0 nan 7 inf]: min 0, the NaN, max 7 · [4 4 4 4]
    assert [str(v) for v in by] == ["1.0", "9.0", "5.0", "0.0", "nan", "7.0", "4.0"]


def test_a_grown_file_is_read_on_from_where_the_last_read_stopped(tmp_path, chunked):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 100_000)
    cache = _cache(tmp_path)
    first, _ = reader.read_run(run, cache)
    _write(run, 100_000, 101_000)
    cache.parsed_bytes = 0
    grown, grown_problems = reader.read_run(run, cache)
    assert 0 < cache.parsed_bytes < 100_000                  # the new lines only
    assert grown.zoom["written"] <= 4                        # the open tiles of each level, not all
    fresh, fresh_problems = reader.read_run(run, _cache(tmp_path, "fresh"))
    assert [str(p) for p in grown_problems] == [str(p) for p in fresh_problems]
    assert all(_same(grown.summary[k], fresh.summary[k]) for k in fresh.summary)
    assert grown.metrics.equals(fresh.metrics) and grown.steps == 101_000
    a, b = Path(grown.zoom["folder"]), Path(fresh.zoom["folder"])
    names = zoom_levels.tile_files(a)
    assert names == zoom_levels.tile_files(b)
    assert all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def test_an_unchanged_long_file_is_not_parsed_again(tmp_path, chunked):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 30_000)
    cache = _cache(tmp_path)
    first, _ = reader.read_run(run, cache)
    cache.parsed_bytes = 0
    again, _ = reader.read_run(run, cache)
    assert cache.parsed_bytes == 0 and again.metrics.equals(first.metrics)


def test_a_rewritten_file_is_read_from_the_start(tmp_path, chunked):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 30_000)
    cache = _cache(tmp_path)
    reader.read_run(run, cache)
    (run / "metrics.jsonl").unlink()
    _write(run, 7, 40_000)                                   # other lines (the inode may be the same)
    cache.parsed_bytes = 0
    again, _ = reader.read_run(run, cache)
    assert cache.parsed_bytes == (run / "metrics.jsonl").stat().st_size and again.steps == 40_000 - 7


def test_steps_that_go_back_across_chunks_keep_their_values_but_get_no_levels(tmp_path, chunked):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 30_000)
    _write(run, 10_000, 12_000)                              # a resumed run logging old steps again
    long, problems = reader.read_run(run, _cache(tmp_path))
    assert long.zoom["levels"] == [] and long.zoom.get("folder") is None
    normal, _ = reader.read_run(run)
    assert long.summary["train/loss"] == normal.summary["train/loss"]
    assert long.best_value("wave") == normal.best_value("wave")


def test_a_long_run_without_a_level_folder_is_still_read_in_chunks(tmp_path, chunked):
    run = tmp_path / "runs" / "p" / "r1"
    _write(run, 0, 30_000)
    long, _ = reader.read_run(run)
    assert long.zoom is not None and long.zoom.get("folder") is None and long.steps == 30_000


def test_metric_names_in_a_tile_cannot_end_the_script(tmp_path, chunked):
    run = tmp_path / "runs" / "p" / "r1"
    run.mkdir(parents=True)
    key = 'x</script><img src=x onerror=alert(1)>"\u2028'
    with open(run / "metrics.jsonl", "w") as f:
        for s in range(20_000):
            f.write(json.dumps({"_step": s, key: s * 0.5}) + "\n")
    long, _ = reader.read_run(run, _cache(tmp_path))
    folder = Path(long.zoom["folder"])
    text = (folder / zoom_levels.tile_files(folder)[0]).read_text()
    assert "<" not in text and ">" not in text and "\u2028" not in text
    tile = json.loads(text[len("RunpagesData.addTile("):-3])
    assert key in tile["keys"]
