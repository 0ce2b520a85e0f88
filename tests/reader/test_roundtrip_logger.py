"""Round trip: what the real logger writes, the reader reads back (dvclive's habit)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

import runpages
from runpages.sitegen.reader import ReadCache, read_run, read_runs



def start(tmp_path, **kw):
    kw.setdefault("project", "mnist")
    return runpages.init(dir=str(tmp_path / "runs"), system_metrics=False, capture_console=False, **kw)


def test_logged_run_reads_back_with_its_values(tmp_path):
    run = start(tmp_path, name="lr-3e-4", config={"lr": 3e-4, "opt": {"name": "adam"}},
                tags=["baseline"])
    for step in range(50):
        run.log({"train/loss": 1.0 / (step + 1), "phase": "warmup" if step < 5 else "main"})
        if step % 10 == 9:
            run.log({"val/acc": step / 100}, step=step)
    run.log({"train/loss": float("nan")})
    run.log({"train/loss": float("inf")})
    run.summary["best/val_acc"] = 0.98
    run.finish()

    projects, problems = read_runs([tmp_path / "runs"])
    assert problems == []
    (got,) = projects[0].runs
    assert (projects[0].name, got.name, got.status, got.tags) == ("mnist", "lr-3e-4", "finished",
                                                                  ["baseline"])
    assert got.config == {"lr": 3e-4, "opt/name": "adam"}
    loss = got.metrics["train/loss"].tolist()
    assert loss[0] == 1.0 and math.isnan(loss[-2]) and loss[-1] == math.inf
    assert got.metrics["_step"].tolist() == list(range(52))
    assert got.last_value("val/acc") == 0.49 and got.best_value("train/loss") == 1 / 50
    assert got.text_keys["phase"][0] == (0, "warmup")
    assert got.summary["best/val_acc"] == 0.98
    assert got.duration_s is not None and got.duration_s >= 0


def test_hostile_names_from_the_logger_are_kept_verbatim(tmp_path):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    run = start(tmp_path, project=evil, name=evil, config={evil: evil}, notes=evil)
    run.log({evil: 1.0, "note": evil})
    run.finish()
    projects, problems = read_runs([tmp_path / "runs"])
    (got,) = projects[0].runs
    assert projects[0].name == evil and got.name == evil and got.notes == evil
    assert got.config == {evil: evil} and got.metric_keys == [evil]
    assert got.text_keys["note"] == [(0, evil)] and problems == []


def test_run_read_while_logging_then_again_after_more_steps(tmp_path):
    run = start(tmp_path)
    for step in range(20):
        run.log({"loss": float(step)})
    run.finish()
    cache = ReadCache()
    first, _ = read_run(run.dir, cache)
    assert len(first.metrics) == 20
    again, problems = read_run(run.dir, cache)
    assert again.fingerprint == first.fingerprint and problems == []


def _poll(run_dir, cache, rows, timeout=6.0):
    import time
    deadline = time.monotonic() + timeout
    while True:
        got, problems = read_run(run_dir, cache)
        if len(got.metrics) >= rows or time.monotonic() > deadline:
            return got, problems
        time.sleep(0.1)


def test_live_run_shows_complete_steps_and_grows_incrementally(tmp_path):
    run = start(tmp_path)
    try:
        for step in range(10):
            run.log({"loss": float(step)})
        cache = ReadCache()
        got, problems = _poll(run.dir, cache, 9)      # the newest step may still be open
        assert got.status == "running" and problems == []
        n = len(got.metrics)
        assert n >= 9 and got.metrics["_step"].tolist() == list(range(n))
        parsed = cache.parsed_bytes
        for step in range(10, 20):
            run.log({"loss": float(step)})
        got, problems = _poll(run.dir, cache, 19)
        assert got.metrics["_step"].tolist() == list(range(len(got.metrics))) and problems == []
        assert len(got.metrics) >= 19
        assert cache.parsed_bytes - parsed < (Path(run.dir) / "metrics.jsonl").stat().st_size
    finally:
        run.finish()
