"""Uploader and mirror against fsspec's memory:// store (same process, fast)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

fsspec = pytest.importorskip("fsspec")

import runpages  # noqa: E402
from runpages import store  # noqa: E402
from runpages.sitegen.storemirror import mirror, mirror_dir  # noqa: E402


@pytest.fixture
def mem(monkeypatch, tmp_path):
    fs = fsspec.filesystem("memory")
    root = f"/t{time.monotonic_ns()}"
    monkeypatch.setenv("RUNPAGES_STAGING", str(tmp_path / "staging"))
    monkeypatch.setenv("RUNPAGES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RUNPAGES_STORE_OPTIONS", raising=False)
    yield fs, f"memory://{root.lstrip('/')}/runs", f"{root}/runs"
    fs.rm(root, recursive=True) if fs.exists(root) else None


def _start(url, **kw):
    return runpages.init(project="p", dir=url, system_metrics=False, capture_console=False, **kw)


def _steps(path: Path) -> list[int]:
    return [json.loads(line)["_step"] for line in path.read_text().splitlines()]


def test_import_runpages_does_not_import_fsspec():
    code = "import runpages, sys; print('fsspec' in sys.modules, 's3fs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_a_running_run_goes_up_as_newline_cut_segments_and_reads_as_a_run(mem):
    fs, url, root = mem
    run = _start(url, sync_interval=0.2)
    for i in range(30):
        run.log({"loss": 1.0 / (i + 1)})
    deadline = time.time() + 10
    parts = []
    while time.time() < deadline and not parts:
        time.sleep(0.2)
        parts = fs.glob(f"{root}/p/{run.id}/metrics.jsonl.parts/*")
    assert parts, "no segment uploaded while the run was running"
    for key in parts:
        assert fs.cat_file(key).endswith(b"\n")
    local = mirror_dir(url)
    mirror(url, local)
    assert _steps(local / "p" / run.id / "metrics.jsonl") == list(range(30))
    assert json.loads((local / "p" / run.id / "meta.json").read_text())["status"] == "running"
    run.finish()


def test_a_finished_run_is_compacted_into_the_plain_layout(mem):
    fs, url, root = mem
    run = _start(url, sync_interval=0.2, save_code=False)
    for i in range(10):
        run.log({"loss": i})
    time.sleep(0.8)
    run.finish()
    names = sorted(k.rsplit(f"{run.id}/", 1)[1] for k in fs.find(f"{root}/p/{run.id}"))
    assert names == ["config.json", "meta.json", "metrics.jsonl", "summary.json", "system.jsonl"]
    # with save_code (the default) the reproducibility files go up too, the writer's lock never
    other = _start(url, sync_interval=0.2)
    other.log({"loss": 1.0})
    other.finish()
    names = [k.rsplit(f"{other.id}/", 1)[1] for k in fs.find(f"{root}/p/{other.id}")]
    assert "code/reproduce.json" in names and not [n for n in names if n.split("/")[-1].startswith(".")]
    assert json.loads(fs.cat_file(f"{root}/p/{run.id}/meta.json"))["status"] == "finished"
    assert len(fs.cat_file(f"{root}/p/{run.id}/metrics.jsonl").splitlines()) == 10


def _wait_for_parts(fs, root, run, n):
    deadline = time.time() + 10
    while time.time() < deadline:
        if len(fs.glob(f"{root}/p/{run.id}/metrics.jsonl.parts/*")) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"{run.id}: fewer than {n} segments uploaded")


def test_a_grown_run_fetches_only_its_new_segment(mem):
    fs, url, root = mem
    runs = [_start(url, sync_interval=0.1) for _ in range(3)]
    for r in runs:
        r.log({"x": 1})
    for r in runs:
        _wait_for_parts(fs, root, r, 1)
    local = mirror_dir(url)
    first = mirror(url, local)
    assert first.fetched == first.listed >= 3 * 4
    runs[0].log({"x": 2})
    _wait_for_parts(fs, root, runs[0], 2)
    grown = mirror(url, local)
    # its new segment, and at most its rewritten summary/meta; nothing of the other runs
    assert 1 <= grown.fetched <= 3
    assert _steps(local / "p" / runs[0].id / "metrics.jsonl") == [0, 1]
    for r in runs:
        r.finish()


def test_overlapping_and_missing_segments_join_byte_exactly(mem):
    fs, url, root = mem
    run_dir = f"{root}/p/r1"
    lines = [json.dumps({"_step": i, "_time": 1.0 + i, "v": i}).encode() + b"\n" for i in range(4)]
    data = b"".join(lines)
    a, b = len(lines[0]), len(lines[0]) + len(lines[1])
    fs.pipe_file(f"{run_dir}/meta.json", b'{"id": "r1", "name": "r1", "project": "p"}')
    fs.pipe_file(f"{run_dir}/metrics.jsonl.parts/{store.part_name(0, b)}", data[:b])
    fs.pipe_file(f"{run_dir}/metrics.jsonl.parts/{store.part_name(a, len(data))}", data[a:])
    local = mirror_dir(url)
    mirror(url, local)
    assert (local / "p" / "r1" / "metrics.jsonl").read_bytes() == data
    # a segment past a gap waits for the missing one
    fs.pipe_file(f"{run_dir}/metrics.jsonl.parts/{store.part_name(len(data) + 10, len(data) + 20)}",
                 b"x" * 9 + b"\n")
    mirror(url, local)
    assert (local / "p" / "r1" / "metrics.jsonl").read_bytes() == data


def test_keys_that_would_leave_the_mirror_are_skipped(mem):
    fs, url, root = mem
    fs.pipe_file(f"{root}/p/r1/meta.json", b"{}")
    fs.pipe_file(f"{root}/p/r1/..\\evil.json", b"{}")
    local = mirror_dir(url)
    stats = mirror(url, local)
    assert any("evil" in k for k in stats.skipped)
    assert not list(local.parent.rglob("*evil*"))


def test_sync_uploads_a_staging_folder_and_compacts_dead_runs(mem, tmp_path):
    fs, url, root = mem
    staging = tmp_path / "offline"
    run = runpages.init(project="p", dir=str(staging), system_metrics=False,
                        capture_console=False)
    for i in range(5):
        run.log({"loss": i})
    run.finish()
    results = store.sync_folder(str(staging), url)
    assert [r["compacted"] for r in results] == [True]
    assert len(fs.cat_file(f"{root}/p/{run.id}/metrics.jsonl").splitlines()) == 5
    again = store.sync_folder(str(staging), url)
    assert again[0]["objects"] == 0           # nothing new: nothing uploaded


def test_a_store_url_and_a_local_folder_build_into_one_site(mem, tmp_path):
    from runpages.sitegen.cli import main

    fs, url, root = mem
    run = _start(url, sync_interval=5)
    run.log({"loss": 0.5})
    run.finish()
    here = runpages.init(project="p", dir=str(tmp_path / "local"), system_metrics=False,
                         capture_console=False)
    here.log({"loss": 0.7})
    here.finish()
    assert main(["build", url, str(tmp_path / "local"), "-o", str(tmp_path / "site")]) == 0
    written = [str(p) for p in (tmp_path / "site").rglob("*.html")]
    assert any(run.id in p for p in written) and any(here.id in p for p in written)


def test_serve_watch_polling_brings_a_new_run_into_the_mirror(mem, tmp_path):
    from runpages.sitegen.config import load_config
    from runpages.sitegen.storemirror import poll_mirrors

    fs, url, root = mem
    config, _ = load_config(None, {"runs_dirs": [url], "output": str(tmp_path / "site")})
    errors = []
    stop = poll_mirrors(config, 0.1, errors.append)
    try:
        fs.pipe_file(f"{root}/p/r2/meta.json", b'{"id": "r2"}')
        target = mirror_dir(url) / "p" / "r2" / "meta.json"
        deadline = time.time() + 5
        while time.time() < deadline and not target.exists():
            time.sleep(0.05)
        assert target.read_bytes() == b'{"id": "r2"}'
        assert errors == []
    finally:
        stop.set()


def test_the_mirror_follows_the_cache_dir_of_the_build(mem, tmp_path):
    from runpages.sitegen.cli import main

    fs, url, root = mem
    run = _start(url, sync_interval=5)
    run.log({"loss": 0.5})
    run.finish()
    chosen = tmp_path / "chosen-cache"
    assert main(["build", url, "-o", str(tmp_path / "site"), "--cache-dir", str(chosen)]) == 0
    assert (mirror_dir(url, chosen) / "p" / run.id / "metrics.jsonl").is_file()
    assert not mirror_dir(url).exists()              # nothing under $RUNPAGES_CACHE_DIR
    # runpages.toml's cache_dir is the same setting
    (tmp_path / "runpages.toml").write_text(f'cache_dir = "{tmp_path / "toml-cache"}"\n')
    assert main(["build", url, "-o", str(tmp_path / "site2"),
                 "--config", str(tmp_path / "runpages.toml")]) == 0
    assert (mirror_dir(url, tmp_path / "toml-cache") / "p" / run.id / "meta.json").is_file()


def test_a_finished_run_leaves_no_staging_folder_once_whole_in_the_store(mem, tmp_path, monkeypatch):
    fs, url, root = mem
    run = _start(url, sync_interval=0.2)
    run.log({"loss": 1.0})
    run.finish()
    assert not Path(run.dir).exists() and fs.exists(f"{root}/p/{run.id}/meta.json")
    monkeypatch.setenv("RUNPAGES_KEEP_STAGED", "1")                # a local copy wanted
    kept = _start(url, sync_interval=0.2)
    kept.log({"loss": 1.0})
    kept.finish()
    assert (Path(kept.dir) / "metrics.jsonl").is_file() and (Path(kept.dir) / store.DONE_MARK).is_file()


def test_a_user_runs_folder_synced_to_the_store_is_never_deleted(mem, tmp_path):
    fs, url, root = mem
    run = runpages.init(project="p", dir=str(tmp_path / "mine"), system_metrics=False,
                        capture_console=False)
    run.log({"loss": 1.0})
    run.finish()
    store.sync_folder(str(tmp_path / "mine"), url)
    assert (Path(run.dir) / "metrics.jsonl").is_file()


def test_resuming_a_run_whose_staging_folder_was_deleted_continues_the_store_copy(mem):
    fs, url, root = mem
    run = _start(url, sync_interval=0.2, save_code=False)
    for i in range(5):
        run.log({"loss": float(i)})
    run.finish()
    assert not Path(run.dir).exists()
    again = _start(url, sync_interval=0.2, save_code=False, id=run.id, resume="allow")
    for i in range(3):
        again.log({"loss": 9.0})
    again.finish()
    local = mirror_dir(url)
    mirror(url, local)
    assert _steps(local / "p" / run.id / "metrics.jsonl") == list(range(8))


def test_a_staged_copy_shorter_than_the_store_is_never_spliced_onto_it(mem, tmp_path):
    fs, url, root = mem
    run = _start(url, sync_interval=0.2, save_code=False)
    for i in range(5):
        run.log({"loss": float(i)})
    run.finish()
    before = fs.cat_file(f"{root}/p/{run.id}/metrics.jsonl")
    other = tmp_path / "elsewhere"                    # a copy of only its first line
    other.mkdir()
    (other / "metrics.jsonl").write_bytes(before.splitlines(keepends=True)[0] + b'{"_step": 1}\n')
    sync = store.RunSync(str(other), fs, f"{root}/p/{run.id}")
    with pytest.raises(store.DivergedError):
        sync.push(final=True)
    assert fs.cat_file(f"{root}/p/{run.id}/metrics.jsonl") == before


def test_large_objects_are_streamed_into_the_mirror(mem, monkeypatch):
    from runpages.sitegen import storemirror

    fs, url, root = mem
    monkeypatch.setattr(storemirror, "SPILL_BYTES", 64)
    run = _start(url, sync_interval=0.2, save_code=False)
    for i in range(50):
        run.log({"loss": float(i)})
    time.sleep(0.8)                                   # some segments up before compaction
    run.finish()
    local = mirror_dir(url)
    mirror(url, local)
    assert _steps(local / "p" / run.id / "metrics.jsonl") == list(range(50))
    # a whole copy and overlapping segments, each past the limit, joined byte-exactly
    data = b"".join(b'{"_step": %d}\n' % i for i in range(40))
    a, b = data.index(b"\n", 100) + 1, data.index(b"\n", 300) + 1
    rd = f"{root}/p/r9"
    fs.pipe_file(f"{rd}/meta.json", b'{"id": "r9", "name": "r9", "project": "p"}')
    fs.pipe_file(f"{rd}/metrics.jsonl", data[:a])
    fs.pipe_file(f"{rd}/metrics.jsonl.parts/{store.part_name(a - 20, b)}", data[a - 20:b])
    fs.pipe_file(f"{rd}/metrics.jsonl.parts/{store.part_name(b, len(data))}", data[b:])
    mirror(url, local)
    assert (local / "p" / "r9" / "metrics.jsonl").read_bytes() == data
    assert not list(local.parent.glob(".*fetch-*"))   # the spill folder goes with the pass
