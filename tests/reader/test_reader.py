"""Reading run folders: what a user sees when runs are fine, still writing, damaged or newer."""
from __future__ import annotations

import json
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from runpages import schema
from runpages.sitegen import reader
from runpages.sitegen.reader import Problem, ReadCache, read_run, read_runs, summarize_problems


def _only_run(runs, now):
    projects, problems = read_runs([runs], now=now)
    assert len(projects) == 1 and len(projects[0].runs) == 1
    return projects[0].runs[0], problems


def test_run_still_writing_shows_all_complete_steps(runs, rf):
    body = rf.jsonl(rf.steps(3, loss=lambda s: 1.0 / (s + 1))) + '{"_step": 3, "_time": 1.0, "lo'
    rf.write_run(runs, metrics=body)
    run, problems = _only_run(runs, rf.NOW)
    assert list(run.metrics["_step"]) == [0, 1, 2]
    assert run.metrics["loss"].tolist() == [1.0, 0.5, 1.0 / 3]
    assert problems == []
    assert run.status == "running"


def test_torn_line_is_read_once_it_is_complete(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(2, loss=float)) + '{"_step": 2, "lo')
    cache = ReadCache()
    run, _ = read_run(run_dir, cache, now=rf.NOW)
    assert len(run.metrics) == 2
    rf.append(run_dir / "metrics.jsonl", 'ss": 2.0}\n')
    run, problems = read_run(run_dir, cache, now=rf.NOW)
    assert run.metrics["loss"].tolist() == [0.0, 1.0, 2.0]
    assert problems == []


def test_run_that_stopped_mid_line_reports_the_incomplete_last_line(runs, rf):
    run_dir = rf.write_run(runs, meta={"status": "crashed", "ended_at": rf.NOW - 100},
                           metrics=rf.jsonl(rf.steps(2, loss=float)) + '{"_step": 2, "lo')
    run, problems = read_run(run_dir, now=rf.NOW)
    assert len(run.metrics) == 2
    assert [(p.line, "incomplete" in p.reason) for p in problems] == [(3, True)]


def test_run_that_ended_without_final_newline_keeps_its_last_record(runs, rf):
    run_dir = rf.write_run(runs, meta={"status": "finished", "ended_at": rf.NOW - 100},
                           metrics=rf.jsonl(rf.steps(2, loss=float)) + '{"_step": 2, "loss": 2.0}')
    run, problems = read_run(run_dir, now=rf.NOW)
    assert run.metrics["loss"].tolist() == [0.0, 1.0, 2.0]
    assert problems == []


def test_malformed_line_is_reported_with_line_number_and_rest_kept(runs, rf):
    lines = rf.jsonl(rf.steps(3, loss=float)).splitlines(keepends=True)
    body = lines[0] + "this is not json\n" + lines[1] + '{"_step": 5, "loss": \n' + lines[2]
    run_dir = rf.write_run(runs, metrics=body)
    run, problems = read_run(run_dir, now=rf.NOW)
    assert run.metrics["loss"].tolist() == [0.0, 1.0, 2.0]
    assert [p.line for p in problems] == [2, 4]
    assert str(problems[0]) == (f"{runs}/mnist/20261125-190000-base-abc123/metrics.jsonl:2: "
                                "expected a JSON object, got text")
    assert problems[1].reason.startswith("malformed JSON")


def test_lines_that_are_json_but_not_objects_are_reported(runs, rf):
    body = rf.jsonl(rf.steps(1, loss=float)) + '[1, 2]\n"text"\n42\nnull\n'
    run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert len(run.metrics) == 1
    assert [(p.line, p.reason) for p in problems] == [
        (2, "expected a JSON object, got a list"), (3, "expected a JSON object, got text"),
        (4, "expected a JSON object, got a number"), (5, "expected a JSON object, got null")]


def test_record_without_step_is_reported_and_skipped(runs, rf):
    body = rf.jsonl(rf.steps(1, loss=float)) + '{"loss": 3.0}\n{"_step": "x", "loss": 4}\n'
    run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert run.metrics["loss"].tolist() == [0.0]
    assert [p.line for p in problems] == [2, 3]
    assert all("_step" in p.reason for p in problems)


def test_meta_that_is_not_json_is_reported_with_its_line(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(2, loss=float)))
    (run_dir / "meta.json").write_text('{\n  "name": "x",\n  oops\n}')
    run, problems = read_run(run_dir, now=rf.NOW)
    assert run is not None and run.name == run_dir.name
    assert len(run.metrics) == 2
    assert [(p.path.endswith("meta.json"), p.line) for p in problems] == [(True, 3)]


def test_missing_meta_still_shows_the_run_under_its_folder_name(runs, rf):
    rf.write_run(runs, run_id="20261125-100000-orphan-aaaaaa", write_meta=False,
                 metrics=rf.jsonl(rf.steps(4, loss=float)))
    run, problems = _only_run(runs, rf.NOW)
    assert run.name == run.id == "20261125-100000-orphan-aaaaaa"
    assert len(run.metrics) == 4
    assert len(problems) == 1 and problems[0].path.endswith("meta.json")
    assert "missing" in problems[0].reason


def test_an_empty_config_is_reported_an_empty_metrics_file_is_not(runs, rf):
    run_dir = rf.write_run(runs, meta={"status": "finished"}, metrics="", summary={},
                           system=[])
    (run_dir / "config.json").write_text("")
    run, problems = read_run(run_dir, now=rf.NOW)
    assert run is not None and len(run.metrics) == 0
    assert sorted((os.path.basename(p.path), p.reason) for p in problems) == [
        ("config.json", "empty file")]


def test_run_that_has_not_logged_yet_is_not_a_problem(runs, rf):
    run, problems = read_run(rf.write_run(runs, metrics="", system=[]), now=rf.NOW)
    assert run.status == "running" and len(run.metrics) == 0 and problems == []


def test_config_that_is_not_an_object_is_reported(runs, rf):
    run_dir = rf.write_run(runs, config=[1, 2], metrics=rf.jsonl(rf.steps(1, loss=float)))
    run, problems = read_run(run_dir, now=rf.NOW)
    assert run.config == {}
    assert [p.reason for p in problems] == ["expected a JSON object, got a list"]


def test_newer_format_version_is_reported_not_misread(runs, rf):
    rf.write_run(runs, meta={"format_version": schema.SCHEMA_VERSION + 2},
                 metrics='{"completely": "different"}\n')
    rf.write_run(runs, run_id="20261125-190000-ok-bbbbbb", metrics=rf.jsonl(rf.steps(1, loss=float)))
    projects, problems = read_runs([runs], now=rf.NOW)
    assert [r.id for r in projects[0].runs] == ["20261125-190000-ok-bbbbbb"]
    assert len(problems) == 1
    assert (f"written by a newer runpages (format {schema.SCHEMA_VERSION + 2}); "
            "upgrade runpages to read it") in str(problems[0])
    assert problems[0].path.endswith("meta.json")


def test_stale_heartbeat_shows_lost(runs, rf):
    rf.write_run(runs, meta={"heartbeat_at": rf.NOW - schema.LOST_AFTER_S - 1},
                 metrics=rf.jsonl(rf.steps(2, loss=float)))
    run, _ = _only_run(runs, rf.NOW)
    assert run.status == "lost"


def test_fresh_heartbeat_stays_running(runs, rf):
    rf.write_run(runs, meta={"heartbeat_at": rf.NOW - 10}, metrics=rf.jsonl(rf.steps(2, loss=float)))
    run, _ = _only_run(runs, rf.NOW)
    assert run.status == "running"


def test_without_heartbeat_the_last_record_time_decides_lost(runs, rf):
    meta = {"heartbeat_at": None}
    rf.write_run(runs, meta=meta, metrics=rf.jsonl(rf.steps(2, t0=rf.NOW - 10, loss=float)))
    assert _only_run(runs, rf.NOW)[0].status == "running"
    assert _only_run(runs, rf.NOW + 1000)[0].status == "lost"


def test_finished_run_stays_finished_however_old(runs, rf):
    rf.write_run(runs, meta={"status": "finished", "ended_at": rf.NOW - 10**6,
                             "heartbeat_at": rf.NOW - 10**6})
    run, _ = _only_run(runs, rf.NOW)
    assert run.status == "finished"


def test_same_run_in_two_folders_appears_once(tmp_path, rf):
    mine, colleague = tmp_path / "mine", tmp_path / "copy"
    rf.write_run(mine, metrics=rf.jsonl(rf.steps(10, loss=float)))
    rf.write_run(colleague, meta={"heartbeat_at": rf.NOW - 500},
                 metrics=rf.jsonl(rf.steps(4, loss=float)) + "a stale copy's bad line\n")
    rf.write_run(colleague, run_id="20261125-180000-theirs-cccccc",
                 metrics=rf.jsonl(rf.steps(1, loss=float)))
    for order in ([colleague, mine], [mine, colleague]):
        projects, problems = read_runs(order, now=rf.NOW)
        runs = projects[0].runs
        assert sorted(r.id for r in runs) == ["20261125-180000-theirs-cccccc",
                                              "20261125-190000-base-abc123"]
        base = next(r for r in runs if r.id == "20261125-190000-base-abc123")
        assert len(base.metrics) == 10 and base.source == str(mine)
        assert problems == []                     # the hidden copy's bad line is not news


def test_projects_are_sorted_by_name_and_runs_newest_first(runs, rf):
    rf.write_run(runs, project="zeta", run_id="a-old-1", meta={"started_at": 100.0})
    rf.write_run(runs, project="zeta", run_id="b-new-1", meta={"started_at": 300.0})
    rf.write_run(runs, project="zeta", run_id="c-mid-1", meta={"started_at": 200.0})
    rf.write_run(runs, project="alpha", run_id="x-1-1")
    projects, _ = read_runs([runs], now=rf.NOW)
    assert [p.name for p in projects] == ["alpha", "zeta"]
    assert [r.id for r in projects[1].runs] == ["b-new-1", "c-mid-1", "a-old-1"]


def test_folders_that_are_not_runs_are_ignored(runs, rf):
    rf.write_run(runs, metrics=rf.jsonl(rf.steps(1, loss=float)))
    (runs / "mnist" / "notes").mkdir()
    (runs / "mnist" / "README.txt").write_text("hi")
    (runs / "stray.txt").write_text("hi")
    projects, problems = read_runs([runs], now=rf.NOW)
    assert [len(p.runs) for p in projects] == [1] and problems == []


def test_missing_runs_folder_is_a_problem_not_a_crash(tmp_path, rf):
    projects, problems = read_runs([tmp_path / "nope"], now=rf.NOW)
    assert projects == [] and "not found" in problems[0].reason


def test_nan_and_inf_survive(runs, rf):
    values = [1.0, float("nan"), float("inf"), float("-inf"), 2.0]
    rf.write_run(runs, metrics=rf.jsonl(rf.steps(5, loss=lambda s: values[s])),
                 summary={"best": float("inf")})
    run, problems = _only_run(runs, rf.NOW)
    got = run.metrics["loss"].tolist()
    assert got[0] == 1.0 and math.isnan(got[1]) and got[2:] == [math.inf, -math.inf, 2.0]
    assert run.metrics["loss"].dtype == np.float64
    assert run.text_keys == {} and problems == []
    assert run.summary["best"] == math.inf


def test_nan_and_inf_survive_the_fast_path(runs, rf, monkeypatch):
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    tokens = ["NaN", "Infinity", "-Infinity"]
    body = "".join(json.dumps({"_step": s, "x": tokens[s % 3]}) + "\n" for s in range(300))
    body += "".join(json.dumps({"_step": s, "x": float(s)}) + "\n" for s in range(300, 600))
    run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    x = run.metrics["x"].to_numpy()
    assert np.isnan(x[0]) and x[1] == np.inf and x[2] == -np.inf and x[599] == 599.0
    assert problems == [] and run.text_keys == {}


def test_mixed_types_keep_numbers_plotted_and_strings_in_tables(runs, rf):
    body = rf.jsonl([{"_step": 0, "acc": 0.5, "phase": "warmup"}, {"_step": 1, "acc": "n/a"},
                     {"_step": 2, "acc": 0.7, "phase": "main"}])
    run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert run.metrics["acc"].tolist()[0::2] == [0.5, 0.7] and math.isnan(run.metrics["acc"][1])
    assert run.text_keys == {"acc": [(1, "n/a")], "phase": [(0, "warmup"), (2, "main")]}
    assert "phase" not in run.metrics.columns and run.metric_keys == ["acc"]
    assert [(p.line, p.reason.split(";")[0]) for p in problems] == [
        (2, "'acc' holds numbers and text")]
    assert run.summary["phase"] == "main"


def test_same_step_logged_twice_is_one_row(runs, rf):
    body = rf.jsonl([{"_step": 0, "a": 1.0}, {"_step": 1, "a": 2.0}, {"_step": 1, "b": 5.0},
                     {"_step": 0, "a": 9.0}])
    run, _ = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert run.metrics["_step"].tolist() == [0, 1]
    assert run.metrics["a"].tolist() == [9.0, 2.0] and run.metrics["b"].tolist()[1] == 5.0


def test_nested_values_in_a_record_are_flattened_with_slash(runs, rf):
    body = '{"_step": 0, "val": {"loss": 0.5, "acc": 0.9}}\n'
    run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert run.metric_keys == ["val/loss", "val/acc"] and problems == []


def test_system_samples_are_read_by_time(runs, rf):
    system = [{"_time": rf.NOW - 20, "cpu/proc_pct": 50.0, "gpu/0/util_pct": 97.0},
              {"_time": rf.NOW - 30, "cpu/proc_pct": 40.0}]
    run, problems = read_run(rf.write_run(runs, system=system), now=rf.NOW)
    assert run.system["_time"].tolist() == [rf.NOW - 30, rf.NOW - 20]
    assert run.system_keys == ["cpu/proc_pct", "gpu/0/util_pct"] and problems == []


def test_artifacts_are_listed_and_bad_records_reported(runs, rf):
    arts = [{"name": "model", "type": "model", "path": "model.pt", "bytes": 1234,
             "sha256": "ab" * 32, "files": 1, "step": 10, "time": rf.NOW}, {"nope": 1}]
    run, problems = read_run(rf.write_run(runs, artifacts=arts), now=rf.NOW)
    assert [(a.name, a.bytes, a.step) for a in run.artifacts] == [("model", 1234, 10)]
    assert [p.line for p in problems] == [2]


def test_hostile_text_is_kept_verbatim(runs, rf):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    rf.write_run(runs, meta={"name": evil, "tags": [evil], "notes": evil, "user": evil},
                 config={evil: evil, "nested": {evil: 1}},
                 metrics=rf.jsonl([{"_step": 0, evil: 1.0, "note": evil, "link": "javascript:alert(1)"}]))
    run, problems = _only_run(runs, rf.NOW)
    assert run.name == evil and run.tags == [evil] and run.user == evil and run.notes == evil
    assert run.config == {evil: evil, f"nested/{evil}": 1}
    assert run.metric_keys == [evil]
    assert run.text_keys == {"note": [(0, evil)], "link": [(0, "javascript:alert(1)")]}
    assert problems == []


def test_fingerprint_changes_when_any_file_changes(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(2, loss=float)), config={"lr": 1})
    first, _ = read_run(run_dir, now=rf.NOW)
    assert read_run(run_dir, now=rf.NOW)[0].fingerprint == first.fingerprint
    rf.append(run_dir / "metrics.jsonl", rf.jsonl(rf.steps(1, start=2, loss=float)))
    second, _ = read_run(run_dir, now=rf.NOW)
    assert second.fingerprint != first.fingerprint
    (run_dir / "console.log").write_text("epoch 1\n")
    assert read_run(run_dir, now=rf.NOW)[0].fingerprint != second.fingerprint


def test_grown_file_is_read_from_where_it_was_left(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(100, loss=float)))
    cache = ReadCache()
    read_run(run_dir, cache, now=rf.NOW)
    first_size = (run_dir / "metrics.jsonl").stat().st_size
    assert cache.parsed_bytes == first_size
    new = rf.jsonl(rf.steps(5, start=100, loss=float))
    rf.append(run_dir / "metrics.jsonl", new)
    run, problems = read_run(run_dir, cache, now=rf.NOW)
    assert cache.parsed_bytes == first_size + len(new)        # only the new bytes were parsed
    assert run.metrics["_step"].tolist() == list(range(105)) and problems == []


def test_grown_file_keeps_line_numbers_in_problems(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(3, loss=float)))
    cache = ReadCache()
    read_run(run_dir, cache, now=rf.NOW)
    rf.append(run_dir / "metrics.jsonl", "garbage\n" + rf.jsonl(rf.steps(1, start=3, loss=float)))
    run, problems = read_run(run_dir, cache, now=rf.NOW)
    assert [p.line for p in problems] == [4] and len(run.metrics) == 4
    run, problems = read_run(run_dir, cache, now=rf.NOW)     # unchanged: same problem, once
    assert [p.line for p in problems] == [4]


def test_unchanged_files_are_not_parsed_again(runs, rf, monkeypatch):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(10, loss=float)),
                           system=[{"_time": 1.0, "cpu/proc_pct": 3.0}], config={"a": 1})
    cache = ReadCache()
    first, _ = read_run(run_dir, cache, now=rf.NOW)

    def boom(*a, **k):
        raise AssertionError("parsed again")
    monkeypatch.setattr(reader, "parse_chunk", boom)
    monkeypatch.setattr(reader.json, "loads", boom)
    again, problems = read_run(run_dir, cache, now=rf.NOW)
    assert again.metrics.equals(first.metrics) and again.config == {"a": 1} and problems == []


def test_rewritten_shorter_file_is_read_again_from_the_start(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(10, loss=float)))
    cache = ReadCache()
    read_run(run_dir, cache, now=rf.NOW)
    (run_dir / "metrics.jsonl").write_text(rf.jsonl(rf.steps(3, loss=lambda s: s * 10.0)))
    run, _ = read_run(run_dir, cache, now=rf.NOW)
    assert run.metrics["loss"].tolist() == [0.0, 10.0, 20.0]


def test_replaced_file_with_more_lines_is_read_again_from_the_start(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(3, loss=float)))
    cache = ReadCache()
    read_run(run_dir, cache, now=rf.NOW)
    tmp = run_dir / "metrics.tmp"
    tmp.write_text(rf.jsonl(rf.steps(5, loss=lambda s: -1.0)))
    os.replace(tmp, run_dir / "metrics.jsonl")            # new inode
    run, _ = read_run(run_dir, cache, now=rf.NOW)
    assert run.metrics["loss"].tolist() == [-1.0] * 5


def test_same_inode_rewritten_then_grown_is_read_again(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(3, loss=float)))
    cache = ReadCache()
    read_run(run_dir, cache, now=rf.NOW)
    with open(run_dir / "metrics.jsonl", "r+") as f:       # same inode, different history
        f.write(rf.jsonl(rf.steps(6, loss=lambda s: 7.0)))
    run, _ = read_run(run_dir, cache, now=rf.NOW)
    assert run.metrics["loss"].tolist() == [7.0] * 6


def test_cache_survives_save_and_load(runs, rf, tmp_path):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(10, loss=float)))
    cache = ReadCache()
    first, _ = read_run(run_dir, cache, now=rf.NOW)
    cache.save(tmp_path / "cache" / "read.pickle")
    loaded = ReadCache.load(tmp_path / "cache" / "read.pickle")
    again, _ = read_run(run_dir, loaded, now=rf.NOW)
    assert loaded.parsed_bytes == 0 and again.metrics.equals(first.metrics)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["read.pickle"]  # no temp left


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps({"version": 999}),
                                     pickle.dumps([1, 2])])
def test_bad_cache_file_means_a_full_read_not_a_crash(tmp_path, content):
    path = tmp_path / "read.pickle"
    path.write_bytes(content)
    assert ReadCache.load(path).entries == {}
    assert ReadCache.load(tmp_path / "missing.pickle").entries == {}


def test_fast_and_slow_paths_give_the_same_run(runs, rf, monkeypatch):
    recs = rf.steps(3000, loss=lambda s: 1.0 / (s + 1), acc=lambda s: s % 7,
                    lr=lambda s: float("nan") if s == 2500 else 0.1)
    for r in recs[::100]:
        r["val/loss"] = 0.5
    run_dir = rf.write_run(runs, metrics=rf.jsonl(recs))
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 10**12)
    slow, p1 = read_run(run_dir, now=rf.NOW)
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    fast, p2 = read_run(run_dir, now=rf.NOW)
    assert p1 == p2 == []
    assert list(slow.metrics.columns) == list(fast.metrics.columns)
    assert slow.metrics.equals(fast.metrics)


def test_one_bad_line_in_a_big_file_is_reported_and_the_rest_kept(runs, rf, monkeypatch):
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "FAST_PATH_BLOCK_BYTES", 4096)
    lines = rf.jsonl(rf.steps(2000, loss=float)).splitlines(keepends=True)
    lines.insert(1500, "{broken\n")
    run, problems = read_run(rf.write_run(runs, metrics="".join(lines)), now=rf.NOW)
    assert run.metrics["loss"].tolist() == [float(s) for s in range(2000)]
    assert [p.line for p in problems] == [1501]


def test_summary_has_last_values_and_what_the_run_wrote(runs, rf):
    rf.write_run(runs, metrics=rf.jsonl(rf.steps(3, loss=float, acc=lambda s: 0.1 * s)),
                 summary={"acc": 0.99, "test": {"acc": 0.98}})
    run, _ = _only_run(runs, rf.NOW)
    assert run.summary == {"loss": 2.0, "acc": 0.99, "test/acc": 0.98}


def test_summarize_problems_gives_one_line_per_file():
    problems = [Problem("a/metrics.jsonl", 57, "expected a JSON object, got text"),
                Problem("a/metrics.jsonl", 60, "malformed JSON"),
                Problem("a/meta.json", None, "missing"),
                Problem("a/metrics.jsonl", 61, "x"), Problem("a/metrics.jsonl", 62, "y")]
    assert summarize_problems(problems) == [
        "a/metrics.jsonl: 4 problems (line 57: expected a JSON object, got text; "
        "line 60: malformed JSON; line 61: x; ...)",
        "a/meta.json: missing",
    ]
    assert str(Problem("p", None, "r")) == "p: r" and str(Problem("p", 3, "r")) == "p:3: r"


def test_nan_tokens_inside_text_and_keys_are_not_touched(runs, rf, monkeypatch):
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0)
    recs = [{"_step": s, "note": 'said "NaN" and "Infinity"', "NaN": 1.0, "x": "NaN"}
            for s in range(500)]
    run, problems = read_run(rf.write_run(runs, metrics=rf.jsonl(recs)), now=rf.NOW)
    assert run.text_keys["note"][0] == (0, 'said "NaN" and "Infinity"')
    assert run.metrics["NaN"].tolist() == [1.0] * 500 and run.metrics["x"].isna().all()
    assert problems == []


def test_deleted_runs_leave_the_cache(runs, rf):
    keep = rf.write_run(runs, metrics=rf.jsonl(rf.steps(2, loss=float)))
    gone = rf.write_run(runs, run_id="20261125-190000-gone-zzzzzz",
                        metrics=rf.jsonl(rf.steps(2, loss=float)))
    cache = ReadCache()
    read_runs([runs], cache, now=rf.NOW)
    assert any(k.startswith(str(gone)) for k in cache.entries)
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    read_runs([runs], cache, now=rf.NOW)
    assert cache.entries and all(k.startswith(str(keep)) for k in cache.entries)


def test_windows_line_endings_are_read(runs, rf, monkeypatch):
    body = rf.jsonl(rf.steps(300, loss=float)).replace("\n", "\r\n")
    for threshold in (0, 10**12):
        monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", threshold)
        run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
        assert run.metrics["loss"].tolist() == [float(s) for s in range(300)] and problems == []


@pytest.mark.parametrize("bad_line", [b'{"_step": 1, "k": "\xff\xfe"}\n', b'{"_step": 1, "\xff": 1}\n'],
                         ids=["in_a_value", "in_a_key"])
def test_line_that_is_not_utf8_is_reported(runs, rf, monkeypatch, bad_line):
    body = rf.jsonl(rf.steps(1, loss=float)).encode() + bad_line
    for threshold in (0, 10**12):
        monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", threshold)
        run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
        assert len(run.metrics) == 1
        assert [(p.line, p.reason) for p in problems] == [(2, "not valid UTF-8 text")]


def test_number_too_big_for_a_float_is_kept_as_text(runs, rf):
    body = '{"_step": 0, "big": 1' + "0" * 400 + ', "x": 1}\n'
    run, _ = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert run.text_keys["big"] == [(0, "1" + "0" * 400)] and run.metrics["x"].tolist() == [1.0]


def test_meta_with_wrong_types_does_not_break_the_run(runs, rf):
    rf.write_run(runs, meta={"started_at": "yesterday", "tags": "solo", "user": 7, "status": 5,
                             "heartbeat_at": "x", "git": "abc", "format_version": "1"},
                 metrics=rf.jsonl(rf.steps(1, loss=float)))
    rf.write_run(runs, run_id="20261125-190000-other-dddddd")
    projects, problems = read_runs([runs], now=rf.NOW)
    run = next(r for r in projects[0].runs if r.id.endswith("abc123"))
    assert (run.started_at, run.tags, run.user, run.git_short) == (None, ["solo"], "7", "")
    assert run.duration_s is None and run.status == "lost"
    # meta is checked once, in the reader: each field of the wrong type is named and ignored
    assert sorted(p.reason.split(" ")[0] for p in problems) == [
        "'git'", "'heartbeat_at'", "'started_at'", "format_version", "unknown"]


def test_unknown_status_is_reported_and_shown_by_heartbeat(runs, rf):
    run, problems = read_run(rf.write_run(runs, meta={"status": "<b>paused</b>"}), now=rf.NOW)
    assert run.status == "running" and run.meta["status"] == "<b>paused</b>"
    assert [p.reason for p in problems] == ["unknown status '<b>paused</b>'; shown as 'running'"]


def test_rebuild_with_a_colleague_copy_parses_nothing(tmp_path, rf, monkeypatch):
    mine, colleague = tmp_path / "mine", tmp_path / "copy"
    rf.write_run(mine, metrics=rf.jsonl(rf.steps(10, loss=float)))
    rf.write_run(colleague, metrics=rf.jsonl(rf.steps(4, loss=float)))
    cache = ReadCache()
    read_runs([mine, colleague], cache, now=rf.NOW)
    # what the builder does: save the cache read_runs pruned, load it next build
    cache.save(tmp_path / "cache.pickle")
    cache = ReadCache.load(tmp_path / "cache.pickle")
    read_runs([mine, colleague], cache, now=rf.NOW)
    assert cache.parsed_bytes == 0


def test_relative_runs_dir_gives_absolute_run_dir_and_cache_keys(tmp_path, rf, monkeypatch):
    rf.write_run(tmp_path / "runs", metrics=rf.jsonl(rf.steps(2, loss=float)))
    monkeypatch.chdir(tmp_path)
    cache = ReadCache()
    projects, _ = read_runs(["runs"], cache, now=rf.NOW)
    run = projects[0].runs[0]
    assert Path(run.dir).is_absolute()
    assert str(Path(run.dir) / "metrics.jsonl") in cache.entries


def test_passing_a_project_folder_instead_of_the_runs_folder_says_so(runs, rf):
    rf.write_run(runs, metrics=rf.jsonl(rf.steps(1, loss=float)))
    projects, problems = read_runs([runs / "mnist"], now=rf.NOW)
    assert projects == [] and "looks like a project folder" in problems[0].reason
    projects, problems = read_runs([runs / "mnist" / "20261125-190000-base-abc123"], now=rf.NOW)
    assert projects == [] and "this is a run folder" in problems[0].reason
    assert read_runs([runs / "empty-is-fine"], now=rf.NOW)[1][0].reason == "runs folder not found"


def test_problem_paths_are_spelled_as_the_runs_folder_was_given(tmp_path, rf, monkeypatch):
    rf.write_run(tmp_path / "runs", metrics="oops\n")
    monkeypatch.chdir(tmp_path)
    _, problems = read_runs(["runs"], now=rf.NOW)
    assert str(problems[0]) == ("runs/mnist/20261125-190000-base-abc123/metrics.jsonl:1: "
                                "expected a JSON object, got text")


def test_absurd_step_is_reported_not_wrapped_around(runs, rf):
    body = '{"_step": 0, "a": 1}\n{"_step": 1e300, "a": 2}\n{"_step": 1, "a": 3}\n'
    run, problems = read_run(rf.write_run(runs, metrics=body), now=rf.NOW)
    assert run.metrics["_step"].tolist() == [0, 1] and [p.line for p in problems] == [2]


def test_changing_a_run_frame_does_not_change_the_next_read(runs, rf):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(3, loss=float)))
    cache = ReadCache()
    run, _ = read_run(run_dir, cache, now=rf.NOW)
    run.metrics["smoothed"] = 0.0
    run.metrics.loc[0, "loss"] = 99.0
    again, _ = read_run(run_dir, cache, now=rf.NOW)
    assert again.metric_keys == ["loss"] and again.metrics["loss"].tolist() == [0.0, 1.0, 2.0]


def test_file_that_cannot_be_read_is_a_problem_not_a_crash(runs, rf, monkeypatch):
    run_dir = rf.write_run(runs, metrics=rf.jsonl(rf.steps(2, loss=float)), config={"a": 1})
    real_read_bytes = Path.read_bytes

    def denied(self):
        if self.name in ("metrics.jsonl", "config.json"):
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)
    monkeypatch.setattr(Path, "read_bytes", denied)
    run, problems = read_run(run_dir, now=rf.NOW)
    assert run is not None and len(run.metrics) == 0
    assert sorted(p.reason for p in problems) == ["cannot read it (Permission denied); skipped"] * 2


def test_cached_problems_follow_how_the_folder_is_named_this_time(tmp_path, rf, monkeypatch):
    rf.write_run(tmp_path / "runs", metrics="oops\n")
    monkeypatch.chdir(tmp_path)
    cache = ReadCache()
    read_runs(["runs"], cache, now=rf.NOW)
    _, problems = read_runs([tmp_path / "runs"], cache, now=rf.NOW)
    assert problems[0].path == str(tmp_path / "runs/mnist/20261125-190000-base-abc123/metrics.jsonl")
