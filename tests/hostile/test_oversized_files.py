"""A sparse or huge file neither takes memory in proportion to its size nor lands whole in the
site: reads are capped per line and per file (``sitegen.limits``), with a Problem past a cap,
and ``--max-artifact-mb`` applies to the raw downloads too."""
import tracemalloc

import pytest

from runpages import schema
from runpages.sitegen import limits

MB = 1024 * 1024


@pytest.fixture
def small_caps(monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 1 * MB)
    monkeypatch.setattr(limits, "BLOCK_BYTES", 256 * 1024)
    monkeypatch.setattr(limits, "MAX_JSONL_BYTES", 16 * MB)
    monkeypatch.setattr(limits, "MAX_JSON_BYTES", 64 * 1024)


def test_a_sparse_two_gigabyte_metrics_file_of_zeros_costs_one_block(hostile_site, small_caps, monkeypatch):
    from runpages.sitegen import longread

    monkeypatch.setattr(longread, "LONG_RUN_BYTES", 4 * 1024 * MB)     # read whole: the per-file cap

    def sparse(bad, runs):
        with open(bad / schema.METRICS_FILE, "r+b") as f:
            f.seek(0, 2)
            f.truncate(2 * 1024 * MB)         # 2 GB claimed, no newline after the good lines
    site = hostile_site(sparse, max_artifact_mb=1)
    found = site.survived("line longer than 1 MB; skipped")
    assert any("longer than the 16 MB read per file" in p for p in found)
    from runpages.sitegen.reader import read_run

    tracemalloc.start()
    try:
        read_run(site.bad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB, f"reading took {peak / MB:.1f} MB at its peak"
    files = list((site.out / "files").rglob(schema.METRICS_FILE))
    assert all(f.stat().st_size < MB for f in files)       # the 2 GB file was not copied


def test_a_sparse_two_gigabyte_file_read_in_chunks_costs_one_block_and_says_its_line_is_too_long(
        hostile_site, small_caps, monkeypatch):
    from runpages.sitegen import longread
    from runpages.sitegen.reader import read_run

    monkeypatch.setattr(longread, "CHUNK_BYTES", 4 * MB)

    def sparse(bad, runs):
        with open(bad / schema.METRICS_FILE, "r+b") as f:
            f.seek(0, 2)
            f.truncate(2 * 1024 * MB)         # past longread.LONG_RUN_BYTES: read in chunks
    site = hostile_site(sparse, max_artifact_mb=1)
    site.survived("line longer than 1 MB; skipped")
    tracemalloc.start()
    try:
        run, _ = read_run(site.bad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * MB, f"reading took {peak / MB:.1f} MB at its peak"   # one chunk, not 2 GB
    assert run.zoom is not None and run.steps >= 1            # the good lines before the zeros


def test_one_huge_string_line_is_skipped_and_the_lines_after_it_kept(hostile_site, small_caps):
    def huge_line(bad, runs):
        with open(bad / schema.METRICS_FILE, "a") as f:
            f.write('{"_step": 50, "note": "' + "x" * (3 * MB) + '"}\n')
            f.write('{"_step": 51, "train/loss": 0.25}\n')
    site = hostile_site(huge_line)
    site.survived("metrics.jsonl:51: line longer than 1 MB; skipped")
    from runpages.sitegen.reader import read_runs

    projects, _ = read_runs([site.runs])
    run = next(r for p in projects for r in p.runs if r.id.endswith("bad-cccccc"))
    assert run.metrics["_step"].max() == 51 and "note" not in run.text_keys


def test_a_huge_line_still_being_written_is_a_problem(hostile_site, small_caps):
    def torn(bad, runs):
        with open(bad / schema.METRICS_FILE, "a") as f:
            f.write('{"_step": 50, "note": "' + "x" * (3 * MB))
    site = hostile_site(torn)
    site.survived("metrics.jsonl:51: line longer than 1 MB; skipped")


def test_a_json_file_past_its_cap_is_not_read(hostile_site, small_caps):
    site = hostile_site(lambda bad, runs: (bad / schema.CONFIG_FILE).write_text(
        '{"x": "' + "y" * (128 * 1024) + '"}'))
    site.survived("config.json: file is 0.125 MB, more than the 0.0625 MB read per file; skipped")
    page = (site.out / "p/proj/r/20251124-130000-bad-cccccc/index.html").read_text()
    assert "y" * 1000 not in page


def test_raw_downloads_past_max_artifact_mb_are_listed_not_copied(hostile_site):
    def big(bad, runs):
        with open(bad / schema.CONSOLE_FILE, "w") as f:
            f.write("log line\n" * 300_000)               # ~2.7 MB
    site = hostile_site(big, max_artifact_mb=1)
    site.survived()
    copied = [p for p in (site.out / "files").rglob(schema.CONSOLE_FILE) if "bad-cccccc" in str(p)]
    assert copied == []
    page = (site.out / "p/proj/r/20251124-130000-bad-cccccc/index.html").read_text()
    assert "larger than 1 MB: not copied" in page


def test_the_incremental_read_of_a_grown_file_keeps_to_the_caps(tmp_path, small_caps):
    from runpages.sitegen.reader import ReadCache, read_run
    from runfolders import write_run

    d = write_run(tmp_path / "runs", "p", "r", status="running")
    cache = ReadCache()
    read_run(d, cache)
    with open(d / schema.METRICS_FILE, "a") as f:
        f.write('{"_step": 50, "s": "' + "z" * (2 * MB) + '"}\n{"_step": 51, "train/loss": 1}\n')
    run, problems = read_run(d, cache)
    assert run.metrics["_step"].max() == 51
    assert [p.line for p in problems if "line longer" in p.reason] == [51]
    with open(d / schema.METRICS_FILE, "a") as f:
        f.write('{"_step": 52, "train/loss": 1}\n')
    run, problems = read_run(d, cache)
    assert run.metrics["_step"].max() == 52
