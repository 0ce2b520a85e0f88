"""What moved out of reader.py still behaves as before: the scan a build uses to spot that
nothing changed, and the JSONL fast path as reached through ``sitegen.jsonl``."""
from __future__ import annotations

import numpy as np
import pytest

from runpages.sitegen import jsonl, reader
from runpages.sitegen.reader import read_run, read_runs, scan_fingerprints


def test_scan_gives_each_run_folder_the_fingerprint_its_run_has(tmp_path, rf):
    mine, copy = tmp_path / "mine", tmp_path / "copy"
    rf.write_run(mine, metrics=rf.jsonl(rf.steps(2, loss=float)))
    rf.write_run(mine, run_id="20261125-190000-other-zzzzzz", metrics=rf.jsonl(rf.steps(1)))
    rf.write_run(copy, metrics=rf.jsonl(rf.steps(4, loss=float)))
    projects, _ = read_runs([mine, copy], now=rf.NOW)
    scan = scan_fingerprints([mine, copy, tmp_path / "not-there"])
    # read_runs shows one copy of a run found twice; the scan lists every folder
    assert len(scan) == 3
    for run in projects[0].runs:
        assert scan[run.dir] == run.fingerprint


def test_scan_changes_when_a_run_file_grows(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(2, loss=float)))
    before = scan_fingerprints([runs])
    assert scan_fingerprints([str(runs)]) == before
    rf.append(run_dir / "metrics.jsonl", rf.jsonl(rf.steps(1, start=2, loss=float)))
    after = scan_fingerprints([runs])
    assert after.keys() == before.keys() and after != before
    assert after[str(run_dir.resolve())] == read_run(run_dir, now=rf.NOW)[0].fingerprint


def test_sometimes_nan_metric_stays_on_the_jsonl_fast_path(runs, rf, monkeypatch):
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(jsonl, "parse_lines_slow", lambda *a, **k: pytest.fail("slow path used"))
    recs = rf.steps(2000, grad=lambda s: float("nan") if s % 7 == 0 else
                    (float("-inf") if s % 11 == 0 else float(s)))
    run, problems = read_run(rf.write_run(runs, metrics=rf.jsonl(recs)), now=rf.NOW)
    grad = run.metrics["grad"].to_numpy()
    assert np.isnan(grad[0]) and grad[11] == -np.inf and grad[12] == 12.0 and problems == []


def test_jsonl_parse_chunk_uses_its_own_thresholds_by_default(monkeypatch):
    chunk = b"".join(b'{"_step": %d, "x": %d}\n' % (s, s) for s in range(50))
    monkeypatch.setattr(jsonl, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(jsonl, "parse_lines_slow", lambda *a, **k: pytest.fail("slow path used"))
    parsed = jsonl.parse_chunk(chunk, "m.jsonl", 1, "_step")
    assert parsed.frame["x"].tolist() == [float(s) for s in range(50)] and parsed.problems == []


def test_names_that_moved_are_the_same_objects_from_reader():
    for name in ("Problem", "Parsed", "merge_parsed", "parse_chunk_fast", "parse_lines_slow"):
        assert getattr(reader, name) is getattr(jsonl, name)
    assert reader.parse_chunk(b'{"_step": 0}\n', "m", 1, "_step").frame["_step"].tolist() == [0]
