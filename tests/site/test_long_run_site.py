"""A long run in the site: its data script names its zoom levels, the tiles sit next to it
(linked from the build cache), a run that grew rewrites only a few tiles, a run that is gone
takes its tiles with it, and no full-resolution CSV is made from an overview."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runpages.sitegen import longread
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
from tests.site.data_scripts import read_data_script

STEPS = 60_000


@pytest.fixture
def chunked(monkeypatch):
    monkeypatch.setattr(longread, "LONG_RUN_BYTES", 1 << 20)
    monkeypatch.setattr(longread, "CHUNK_BYTES", 1 << 20)


def _write(run: Path, start: int, stop: int) -> None:
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "meta.json").exists():
        (run / "meta.json").write_text(json.dumps({"project": "long", "name": "long", "status": "running",
                                                    "started_at": 1.7e9, "heartbeat_at": 4e9}))
    with open(run / "metrics.jsonl", "a") as f:
        for s in range(start, stop):
            f.write(json.dumps({"_step": s, "_time": 1.7e9 + s, "loss": 1 / (1 + s), "acc": s % 100},
                               separators=(",", ":")) + "\n")


def _build(tmp_path: Path):
    return build_site(SiteConfig(runs_dirs=[tmp_path / "runs"], output=tmp_path / "site",
                                 cache_dir=tmp_path / "cache"))


def test_a_long_runs_site_has_its_levels_as_scripts_next_to_its_data(tmp_path, chunked):
    run = tmp_path / "runs" / "long" / "r1"
    _write(run, 0, STEPS)
    _write(tmp_path / "runs" / "long" / "small", 0, 100)
    result = _build(tmp_path)
    site = tmp_path / "site"
    (data,) = [p for p in (site / "data" / "runs" / "long").glob("*.js") if "r1" in p.name]
    text = data.read_text()
    assert '"zoom":{"base":"data/runs/long/r1/z/"' in text
    tiles = sorted((site / "data" / "runs" / "long" / "r1" / "z").rglob("*.js"))
    assert tiles and {t.parent.name for t in tiles} == {"0"} | ({"1"} if STEPS > 8 * 8192 else set())
    assert all(t.read_text().startswith("RunpagesData.addTile(") for t in tiles)
    assert not (site / "data" / "runs" / "long" / "small").exists()     # a small run needs no levels
    assert "zoom" not in (site / "data" / "runs" / "long" / "small.js").read_text()
    assert {f"data/runs/long/r1/z/{t.parent.name}/{t.name}" for t in tiles} <= result.written
    # the run page offers no CSV made from an overview (sitegen/downloads.py)
    page = (site / "p" / "long" / "r" / "r1" / "index.html").read_text()
    assert "metrics.csv" not in page
    assert not list(site.rglob("r1/**/metrics.csv"))
    small = (site / "p" / "long" / "r" / "small" / "index.html").read_text()
    assert "metrics.csv" in small


def test_a_long_run_that_grew_rewrites_only_its_last_tiles(tmp_path, chunked):
    run = tmp_path / "runs" / "long" / "r1"
    _write(run, 0, STEPS)
    _build(tmp_path)
    _write(run, STEPS, STEPS + 1000)
    result = _build(tmp_path)
    tiles = [p for p in result.written if "/z/" in p]
    assert 1 <= len(tiles) <= 3
    data = read_data_script((tmp_path / "site" / "data" / "runs" / "long" / "r1.js").read_text())
    assert STEPS + 999 in data["steps"]["step"]              # the new last step is in the overview
    again = _build(tmp_path)
    assert not [p for p in again.written if "/z/" in p]


def test_a_long_run_that_is_gone_takes_its_tiles_with_it(tmp_path, chunked):
    run = tmp_path / "runs" / "long" / "r1"
    _write(run, 0, STEPS)
    _write(tmp_path / "runs" / "long" / "small", 0, 100)
    _build(tmp_path)
    levels = tmp_path / "cache" / "levels"
    assert len(list(levels.iterdir())) == 1
    shutil.rmtree(run)
    result = _build(tmp_path)
    assert not (tmp_path / "site" / "data" / "runs" / "long" / "r1").exists()
    assert any("/z/" in p for p in result.removed)
    assert not list(levels.iterdir())                 # the build cache lets its levels go too
