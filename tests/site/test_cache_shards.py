"""The read cache keeps its index in a few shards per project folder (``readcache.shard_of``):
a rebuild after one run changed parses and rewrites only that run's shard, a shard that does not
read back costs only its own runs a fresh read, and a deleted project's shards go."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from runfolders import append_steps, write_run
from runpages.sitegen import readcache
from runpages.sitegen.reader import ReadCache, read_runs


def _two_projects(root: Path) -> tuple[Path, Path]:
    a = write_run(root, "alpha", "a1", run_id="20251124-120000-a1-aaaaaa", steps=50)
    write_run(root, "alpha", "a2", run_id="20251124-120100-a2-aaaaab", steps=50)
    b = write_run(root, "beta", "b1", run_id="20251124-120200-b1-bbbbbb", steps=50)
    return Path(a), Path(b)


def _groups(*run_dirs: Path) -> set[str]:
    """The shard groups of these runs' files (a run's files share one)."""
    return {readcache.shard_of(str(Path(d).resolve() / "metrics.jsonl")) for d in run_dirs}


def _names(*run_dirs: Path) -> set[str]:
    return {readcache._shard_name(g) for g in _groups(*run_dirs)}


def _project_runs(root: Path, project: str) -> list[Path]:
    return sorted((root / project).iterdir())


def _shards(folder: Path) -> dict[str, os.stat_result]:
    return {p.name: p.stat() for p in (folder / readcache.SHARDS_DIR).iterdir()}


def _fresh_load(folder: Path) -> ReadCache:
    readcache._LAST_SAVED.clear()              # as a new process: read the folder
    return ReadCache.load(folder)


def _runs(root: Path, cache: ReadCache) -> dict:
    projects, problems = read_runs([root], cache)
    assert not problems
    return {r.id: r for p in projects for r in p.runs}


def _saved(tmp_path: Path):
    """Two projects read into a fresh cache, saved: (runs root, cache folder, a, b, runs read)."""
    root, folder = tmp_path / "runs", tmp_path / "read"
    a, b = _two_projects(root)
    cache = ReadCache()
    first = _runs(root, cache)
    cache.save(folder)
    return root, folder, a, b, first


def test_shards_by_project_folder_and_only_the_changed_one_is_rewritten(tmp_path):
    root, folder, a, b, first = _saved(tmp_path)
    before = _shards(folder)
    assert set(before) == _names(*_project_runs(root, "alpha"), *_project_runs(root, "beta"))
    assert not (folder / "index.json").exists()
    assert all(g.startswith(str(root.resolve() / "alpha") + os.sep) for g in _groups(*_project_runs(root, "alpha")))

    append_steps(a, 50, 25)
    cache = _fresh_load(folder)
    assert set(cache.entries.shards) == _groups(*_project_runs(root, "alpha"), *_project_runs(root, "beta"))
    again = _runs(root, cache)
    grown = os.path.getsize(a / "metrics.jsonl")
    assert 0 < cache.parsed_bytes < grown                     # only the appended lines
    assert again[a.name].metrics["_step"].tolist() == list(range(75))
    assert again[b.name].metrics.equals(first[b.name].metrics)
    cache.save(folder)
    after = _shards(folder)
    (changed,) = _names(a)
    assert after[changed].st_ino != before[changed].st_ino
    for name in set(before) - {changed}:                    # the other runs' shards, beta's too
        assert after[name].st_ino == before[name].st_ino and after[name].st_mtime_ns == before[name].st_mtime_ns

    cache = _fresh_load(folder)                              # and the rewritten shard reads back
    _runs(root, cache)
    assert cache.parsed_bytes == 0


def test_a_lookup_reads_only_its_own_shard(tmp_path):
    root, folder, a, b, _ = _saved(tmp_path)
    cache = _fresh_load(folder)
    key = str(a.resolve() / "metrics.jsonl")
    assert key in cache.entries and len(cache.entries) == 15    # 3 runs x meta, config, summary, metrics, system
    assert cache.entries.holds(key, os.stat(key))
    assert set(cache.entries.shards) == _groups(*_project_runs(root, "alpha"), b) - _groups(a)   # a's only was read
    assert str(b.resolve() / "metrics.jsonl") in cache.entries


def test_a_torn_shard_costs_only_its_own_runs_a_fresh_read(tmp_path):
    root, folder, a, b, first = _saved(tmp_path)
    (name,) = _names(b)
    beta = folder / readcache.SHARDS_DIR / name
    beta.write_bytes(beta.read_bytes()[: beta.stat().st_size // 2])
    cache = _fresh_load(folder)
    again = _runs(root, cache)
    run_bytes = sum(os.path.getsize(b / n) for n in ("metrics.jsonl", "system.jsonl"))
    assert cache.parsed_bytes == run_bytes                   # beta's run, and nothing of alpha's
    assert again[b.name].metrics.equals(first[b.name].metrics)
    cache.save(folder)
    cache = _fresh_load(folder)
    _runs(root, cache)
    assert cache.parsed_bytes == 0                           # the shard is whole again


def test_a_shard_under_another_name_or_with_keys_of_another_project_is_ignored(tmp_path):
    root, folder, a, b, _ = _saved(tmp_path)
    shards = folder / readcache.SHARDS_DIR
    alpha = shards / readcache._shard_name(readcache.shard_of(str(a.resolve() / "metrics.jsonl")))
    beta = shards / readcache._shard_name(readcache.shard_of(str(b.resolve() / "metrics.jsonl")))
    beta.write_bytes(alpha.read_bytes())                     # alpha's entries under beta's name
    cache = _fresh_load(folder)
    runs = _runs(root, cache)
    assert len(runs) == 3 and cache.parsed_bytes > 0         # beta read afresh, alpha from its shard
    cache.save(folder)
    assert readcache._read_header(beta)[0] == readcache.shard_of(str(b.resolve() / "metrics.jsonl"))


def test_a_deleted_project_takes_its_shard_with_it(tmp_path):
    root, folder, _, b, _ = _saved(tmp_path)
    frames = lambda: {n for n in os.listdir(folder) if n.endswith(readcache.FRAME_SUFFIX)}  # noqa: E731
    assert len(frames()) == 6                                # 3 runs x metrics, system
    shutil.rmtree(b.parent)
    cache = _fresh_load(folder)
    assert len(_runs(root, cache)) == 2
    cache.save(folder)
    assert set(_shards(folder)) == _names(*_project_runs(root, "alpha"))
    assert len(frames()) == 4                                # beta's frame files went too


def test_stray_files_and_folders_among_the_shards_neither_break_a_build_nor_stay_named(tmp_path):
    root, folder, a, _, _ = _saved(tmp_path)
    shards = folder / readcache.SHARDS_DIR
    (shards / "not-a-shard.json").write_text('{"layout": [6]}\n{}')
    (shards / "a-folder.json").mkdir()
    (folder / "index.json").write_text("{}")                 # an older layout's single index
    append_steps(a, 50, 5)
    cache = _fresh_load(folder)
    assert len(_runs(root, cache)) == 3
    cache.save(folder)
    assert not (shards / "not-a-shard.json").exists() and not (folder / "index.json").exists()
    assert (shards / "a-folder.json").is_dir()
    cache = _fresh_load(folder)
    _runs(root, cache)
    assert cache.parsed_bytes == 0


def test_a_build_after_one_run_grew_reads_and_writes_only_its_projects_shard(tmp_path, monkeypatch):
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    root = tmp_path / "runs"
    a, _ = _two_projects(root)
    config = SiteConfig(runs_dirs=[root], output=tmp_path / "site", cache_dir=tmp_path / "cache")
    build_site(config)
    folder = tmp_path / "cache" / "read"
    before = _shards(folder)
    opened = []
    real = readcache._read_shard
    monkeypatch.setattr(readcache, "_read_shard", lambda path, group: opened.append(group) or real(path, group))
    readcache._LAST_SAVED.clear()                            # a new process
    append_steps(a, 50, 10)
    assert build_site(config).rebuilt_runs == 1
    assert opened == sorted(_groups(a))                      # beta's runs came from their records
    after = _shards(folder)
    changed = {name for name in before if after[name].st_ino != before[name].st_ino}
    assert changed == _names(a)


def test_a_saved_cache_lets_go_of_its_entries_and_reads_them_back_from_its_shards(tmp_path):
    root, folder, a, b, first = _saved(tmp_path)
    cache = readcache._LAST_SAVED[str(folder)][1]      # the object a process keeps after its save
    assert cache.entries.done
    cache.unload()
    assert not cache.entries.done and not cache.entries.raw     # nothing held: all of it is on disk
    before = _shards(folder)
    again = _runs(root, ReadCache.load(folder))          # the same object, its shards read back
    assert cache.parsed_bytes == 0                       # no file parsed again
    assert {k: (r.steps, r.summary) for k, r in again.items()} == {k: (r.steps, r.summary) for k, r in first.items()}
    append_steps(a, 50, 5)
    grown = _runs(root, cache)
    assert grown[a.name].steps == 55
    cache.save(folder)
    after = _shards(folder)
    changed = {n for n in after if after[n].st_ino != before[n].st_ino}    # rewritten: a new file
    assert changed == _names(a)                          # only the grown run's shard is rewritten
