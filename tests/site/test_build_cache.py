"""The build cache: outside the site, JSON + Arrow only, and never a reason for a build to fail."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from runfolders import append_steps
from runpages.sitegen import build_cache, readcache
from runpages.sitegen.build import build_site
from runpages.sitegen.cli import main
from runpages.sitegen.reader import ReadCache, read_runs


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_built_site_holds_no_cache_file(runs_dir, make_config, tmp_path):
    config = make_config([runs_dir])
    result = build_site(config)
    out = Path(config.output)
    files = _files(out)
    assert not any(part.startswith(".") for f in files for part in f.split("/")), files
    assert not [f for f in files if f.endswith((".pickle", ".arrow", "state.json", "index.json"))]
    run_json = {f for f in files if f.endswith(".json")}
    assert run_json <= {f for f in files if f.startswith("files/")}     # only the runs' own meta.json
    cache = Path(result.cache_dir)
    assert (cache / build_cache.STATE_FILE).is_file() and out not in cache.parents
    assert cache.parent == Path(os.environ["XDG_CACHE_HOME"]) / "runpages"


def test_an_unchanged_rebuild_in_a_new_process_parses_nothing(runs_dir, make_config):
    config = make_config([runs_dir])
    result = build_site(config)
    readcache._LAST_SAVED.clear()               # a new process has no cache object in memory
    cache = ReadCache.load(Path(result.cache_dir) / build_cache.READ_DIR)
    assert cache.entries
    projects, problems = read_runs([runs_dir], cache)
    assert cache.parsed_bytes == 0 and len([r for p in projects for r in p.runs]) == 3 and not problems


def test_the_process_that_saved_the_cache_reuses_it_until_the_folder_changes(runs_dir, make_config):
    result = build_site(make_config([runs_dir]))
    folder = Path(result.cache_dir) / build_cache.READ_DIR
    first = ReadCache.load(folder)
    assert ReadCache.load(folder) is first                  # serve --watch: no reload from disk
    projects, _ = read_runs([runs_dir], first)
    assert first.parsed_bytes == 0 and len([r for p in projects for r in p.runs]) == 3
    for shard in (folder / readcache.SHARDS_DIR).iterdir():
        shard.write_text(shard.read_text())                 # someone else wrote the folder
    again = ReadCache.load(folder)
    assert again is not first and set(again.entries) == set(first.entries)


def test_the_process_that_loaded_the_cache_reuses_it_until_the_folder_changes(runs_dir, make_config):
    result = build_site(make_config([runs_dir]))
    folder = Path(result.cache_dir) / build_cache.READ_DIR
    readcache._LAST_SAVED.clear()               # a new serve process: its first load reads the folder
    first = ReadCache.load(folder)
    assert first.entries and ReadCache.load(folder) is first
    shard = next((folder / readcache.SHARDS_DIR).iterdir())
    shard.write_text(shard.read_text())
    assert ReadCache.load(folder) is not first


def test_cache_dir_flag_and_setting_choose_the_folder(runs_dir, tmp_path):
    chosen = tmp_path / "my-cache"
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--cache-dir", str(chosen)]) == 0
    assert (chosen / build_cache.STATE_FILE).is_file()
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "runpages").exists()
    (tmp_path / "runpages.toml").write_text('cache_dir = "toml-cache"\n')
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out2"), "--config", str(tmp_path / "runpages.toml")]) == 0
    assert (tmp_path / "toml-cache" / build_cache.STATE_FILE).is_file()


def _break_all_frames(cache: Path) -> None:
    for p in (cache / build_cache.READ_DIR).glob("*.arrow"):
        p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other version", "frames cut", "empty files"])
def test_a_cache_that_cannot_be_read_means_a_full_build(runs_dir, make_config, damage):
    config = make_config([runs_dir])
    first = build_site(config)
    cache = Path(first.cache_dir)
    state = cache / build_cache.STATE_FILE
    shards = list((cache / build_cache.READ_DIR / readcache.SHARDS_DIR).iterdir())
    assert shards
    before = {f: (Path(config.output) / f).read_bytes() for f in _files(Path(config.output))}
    if damage == "garbage":
        state.write_bytes(b"\x80\x04not json")
        for index in shards:
            index.write_bytes(b"{\"layout\": [")
    elif damage == "truncated":
        state.write_bytes(state.read_bytes()[:40])
        for index in shards:
            index.write_bytes(index.read_bytes()[:100])
    elif damage == "other version":
        from runpages.sitegen.build_cache import CACHE_VERSION

        text = state.read_text()
        assert f'"version": {CACHE_VERSION},' in text
        state.write_text(text.replace(f'"version": {CACHE_VERSION},', '"version": 999,'))
        for index in shards:
            index.write_text(index.read_text().replace(f'"layout": [{ReadCache.VERSION}', '"layout": [999', 1))
            assert '"layout": [999' in index.read_text()
    elif damage == "frames cut":
        state.unlink()
        _break_all_frames(cache)
    else:
        state.write_bytes(b"")
        for index in shards:
            index.write_bytes(b"")
    result = build_site(config)
    assert result.rebuilt_runs == 3 and not result.problems
    after = {f: (Path(config.output) / f).read_bytes() for f in _files(Path(config.output))}
    assert after.keys() == before.keys()
    assert build_site(config).rebuilt_runs == 0            # and the cache is whole again


class _Exploit:
    def __reduce__(self):
        return (open, (os.environ["RUNPAGES_TEST_MARKER"], "w"))


def test_no_pickle_is_ever_loaded_and_an_old_site_cache_goes(runs_dir, make_config, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("RUNPAGES_TEST_MARKER", str(marker))
    evil = pickle.dumps({"version": 1, "settings": None, "runs": {}, "x": _Exploit()})
    config = make_config([runs_dir], cache_dir=tmp_path / "cache")
    out = Path(config.output)
    (out / ".runpages").mkdir(parents=True)
    for name in ("state.pickle", "cache.pickle"):          # where older builds kept their state
        (out / ".runpages" / name).write_bytes(evil)
    (tmp_path / "cache" / "read" / "shards").mkdir(parents=True)
    (tmp_path / "cache" / "state.json").write_bytes(evil)
    (tmp_path / "cache" / "read" / "index.json").write_bytes(evil)       # layout 5's single index
    (tmp_path / "cache" / "read" / "shards" / "0.json").write_bytes(evil)
    result = build_site(config)
    assert result.rebuilt_runs == 3 and not marker.exists()
    assert not (out / ".runpages").exists()


def test_build_result_names_every_path_it_wrote_or_removed(runs_dir, make_config):
    config = make_config([runs_dir])
    out = Path(config.output)
    first = build_site(config)
    assert first.written == _files(out)
    assert build_site(config).changed == set()
    run = runs_dir / "mnist" / "20251124-120000-baseline-abc123"
    append_steps(run, 50, 10)
    grown = build_site(config)
    assert {"p/mnist/r/20251124-120000-baseline-abc123/index.html",
            "data/runs/mnist/20251124-120000-baseline-abc123.js",
            "files/mnist/20251124-120000-baseline-abc123/metrics.jsonl"} <= grown.written
    assert not any("lr-sweep" in p or "cifar" in p.split("/")[1:2] for p in grown.written if p.startswith("p/"))
    import shutil

    shutil.rmtree(runs_dir / "cifar")
    gone = build_site(config)
    assert "p/cifar/r/20251124-140000-resnet-ghi789/index.html" in gone.removed
    assert not (out / "p/cifar/r/20251124-140000-resnet-ghi789/index.html").exists()
