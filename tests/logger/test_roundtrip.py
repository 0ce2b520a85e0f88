"""Write with the logger, read the files back with json and pandas."""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import sys
from pathlib import Path

import pytest

import runpages
from runpages import schema
from tests.logger.conftest import wait_until

META_FIELDS = ("format_version", "id", "name", "project", "group", "tags", "notes", "user",
               "host", "os", "python", "command", "cwd", "git", "gpu", "cpu_count",
               "memory_gb", "started_at", "ended_at", "duration_s", "status", "exit",
               "heartbeat_at", "system_source")


def test_a_finished_run_has_every_file_and_meta_field(live_run, files):
    run = live_run(name="lr-3e-4", config={"lr": 3e-4, "epochs": 10}, tags=["baseline"],
                   notes="first try", group="sweep-1")
    for step in range(5):
        run.log({"train/loss": 1.0 / (step + 1), "train/lr": 3e-4})
    run.summary["best/val_acc"] = 0.93
    run.finish()
    d = Path(run.dir)
    for name in (schema.META_FILE, schema.CONFIG_FILE, schema.METRICS_FILE,
                 schema.SYSTEM_FILE, schema.SUMMARY_FILE):
        assert (d / name).is_file(), name
    meta = files.meta(d)
    for field in META_FIELDS:
        assert field in meta, field
    assert meta["format_version"] == schema.SCHEMA_VERSION
    assert meta["id"] == d.name == run.id
    assert (meta["name"], meta["project"], meta["group"]) == ("lr-3e-4", "proj", "sweep-1")
    assert meta["tags"] == ["baseline"] and meta["notes"] == "first try"
    assert meta["status"] == schema.FINISHED
    assert meta["ended_at"] >= meta["started_at"] and meta["duration_s"] >= 0
    assert meta["exit"]["traceback"] is None
    assert files.config(d) == {"lr": 3e-4, "epochs": 10}
    rows = files.metrics(d)
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4]
    assert all(r["_time"] >= meta["started_at"] - 1 for r in rows)
    assert files.summary(d) == {"train/loss": 0.2, "train/lr": 3e-4, "best/val_acc": 0.93}
    assert not list(d.glob("*.tmp*")), "temp files left behind"


def test_run_folder_is_project_then_readable_run_id(live_run, tmp_path):
    run = live_run(name="lr-3e-4")
    assert Path(run.dir).parent == tmp_path / "runs" / "proj"
    assert re.fullmatch(r"\d{8}-\d{6}-lr-3e-4-[a-z0-9]{6}", run.id)


def test_pandas_reads_metrics_with_nan_and_inf_without_choking(live_run):
    pd = pytest.importorskip("pandas")
    run = live_run()
    run.log({"loss": 0.5, "acc": float("nan")})
    run.log({"loss": float("inf"), "acc": 0.7, "phase": "warmup"})
    run.log({"loss": float("-inf"), "nested": {"a": 1}})
    run.finish()
    frame = pd.read_json(Path(run.dir) / schema.METRICS_FILE, lines=True)
    assert list(frame["_step"]) == [0, 1, 2]
    values = [schema.NONFINITE_TOKENS.get(v, v) if isinstance(v, str) else v
              for v in frame["loss"]]
    assert values[0] == 0.5 and values[1] == math.inf and values[2] == -math.inf
    assert "nested/a" in frame.columns
    pd.read_json(Path(run.dir) / schema.SYSTEM_FILE, lines=True)


def test_every_line_is_strict_json(live_run):
    run = live_run()
    run.log({"a": float("nan"), "b": float("inf"), "c": -float("inf")})
    run.finish()
    for line in (Path(run.dir) / schema.METRICS_FILE).read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-strict token {c}"))


def test_html_and_unicode_in_names_and_config_are_kept_verbatim(live_run, files):
    evil = "<script>alert('x')</script> / ../ é 🚀"
    run = live_run(name=evil, config={"<b>": evil}, tags=[evil], notes=evil)
    run.log({evil: 1.0})
    run.finish()
    assert re.fullmatch(r"[a-z0-9._-]+", run.id)
    assert Path(run.dir).parent.name == "proj"
    meta = files.meta(run.dir)
    assert meta["name"] == evil and meta["tags"] == [evil] and meta["notes"] == evil
    assert files.config(run.dir) == {"<b>": evil}
    assert files.metrics(run.dir)[0][evil] == 1.0


def test_unsafe_project_name_still_lands_in_one_folder(live_run, tmp_path, files):
    run = live_run(project="../My Project/é")
    assert Path(run.dir).parent.parent == tmp_path / "runs"
    assert files.meta(run.dir)["project"] == "../My Project/é"


def test_default_name_is_readable(live_run):
    run = live_run()
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", run.name)


def test_config_from_argparse_namespace(live_run, files):
    ns = argparse.Namespace(lr=0.1, layers=[64, 64], name="x")
    run = live_run(config=ns)
    assert files.config(run.dir) == {"lr": 0.1, "layers": [64, 64], "name": "x"}
    assert run.config.lr == 0.1


@dataclasses.dataclass
class _Cfg:
    lr: float = 0.01
    opt: dict = dataclasses.field(default_factory=lambda: {"name": "adam", "betas": (0.9, 0.99)})
    out: Path = Path("/tmp/out")


def test_config_from_dataclass_keeps_nesting(live_run, files):
    run = live_run(config=_Cfg())
    assert files.config(run.dir) == {"lr": 0.01, "opt": {"name": "adam", "betas": [0.9, 0.99]},
                                     "out": "/tmp/out"}


def test_config_changes_are_saved_at_once(live_run, files):
    run = live_run(config={"lr": 0.1})
    run.config["batch"] = 32
    run.config.update({"epochs": 3, "nan": float("nan")})
    assert files.config(run.dir) == {"lr": 0.1, "batch": 32, "epochs": 3, "nan": "NaN"}


def test_config_of_wrong_type_fails_at_init(live_run):
    with pytest.raises(TypeError, match="config must be a dict"):
        live_run(config=[("lr", 1)])


def test_summary_keeps_last_values_and_explicit_entries_win(live_run, files):
    run = live_run()
    run.log({"loss": 3.0, "acc": 0.1})
    run.log({"loss": 2.0, "acc": 0.5})
    run.summary["acc"] = 0.9
    assert run.summary["loss"] == 2.0 and run.summary["acc"] == 0.9
    assert set(run.summary) == {"loss", "acc"}
    run.finish()
    assert files.summary(run.dir) == {"loss": 2.0, "acc": 0.9}


def test_with_block_finishes_the_run(live_run, files, tmp_path):
    with runpages.init(project="p", dir=tmp_path / "r", system_metrics=False,
                     capture_console=False) as run:
        run.log({"x": 1})
    assert files.meta(run.dir)["status"] == schema.FINISHED


def test_with_block_that_raises_marks_crashed_with_traceback(tmp_path, files):
    with pytest.raises(ZeroDivisionError):
        with runpages.init(project="p", dir=tmp_path / "r", system_metrics=False,
                         capture_console=False) as run:
            run.log({"x": 1})
            1 / 0
    meta = files.meta(run.dir)
    assert meta["status"] == schema.CRASHED
    assert "ZeroDivisionError" in meta["exit"]["reason"]
    assert "1 / 0" in meta["exit"]["traceback"]


def test_module_level_log_and_finish_use_the_current_run(tmp_path, files):
    run = runpages.init(project="p", dir=tmp_path / "r", system_metrics=False,
                      capture_console=False)
    runpages.log({"a": 1})
    runpages.log({"a": 2})
    runpages.finish()
    assert [r["a"] for r in files.metrics(run.dir)] == [1, 2]
    assert files.meta(run.dir)["status"] == schema.FINISHED
    runpages.finish()  # nothing current: no error


def test_dir_defaults_to_runpages_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNPAGES_DIR", str(tmp_path / "envruns"))
    run = runpages.init(project="p", system_metrics=False, capture_console=False)
    run.finish()
    assert Path(run.dir).parent == tmp_path / "envruns" / "p"


def test_dir_defaults_to_runs_in_working_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = runpages.init(project="p", system_metrics=False, capture_console=False)
    run.finish()
    assert Path(run.dir).parent == tmp_path / "runs" / "p"


def test_console_output_is_copied_and_still_shown(live_run, capsys):
    run = live_run(capture_console=True)
    print("epoch 1: loss 0.5")
    print("to stderr", file=sys.stderr)
    run.finish()
    out, err = capsys.readouterr()
    assert "epoch 1: loss 0.5" in out and "to stderr" in err
    text = (Path(run.dir) / schema.CONSOLE_FILE).read_text()
    assert "epoch 1: loss 0.5\n" in text and "to stderr\n" in text
    print("after finish")
    assert "after finish" not in (Path(run.dir) / schema.CONSOLE_FILE).read_text()


def test_console_is_restored_at_finish(live_run):
    before = sys.stdout, sys.stderr
    run = live_run(capture_console=True)
    assert sys.stdout is not before[0]
    run.finish()
    assert (sys.stdout, sys.stderr) == before


def test_artifact_file_is_copied_with_sha256_and_manifest_line(live_run, tmp_path, files):
    import hashlib
    model = tmp_path / "model.pt"
    model.write_bytes(b"weights" * 100)
    run = live_run()
    run.log({"loss": 1.0})
    entry = run.log_artifact(model, name="model", type="model")
    model.write_bytes(b"changed")   # the stored copy must not change
    run.finish()
    stored = Path(run.dir) / schema.ARTIFACTS_DIR / "model.pt"
    assert stored.read_bytes() == b"weights" * 100
    (line,) = files.manifest(run.dir)
    assert line == entry
    assert line["name"] == "model" and line["type"] == "model" and line["path"] == "model.pt"
    assert line["bytes"] == 700 and line["files"] == 1 and line["step"] == 0
    assert line["sha256"] == hashlib.sha256(b"weights" * 100).hexdigest()
    assert isinstance(line["time"], float)


def test_artifact_logged_twice_keeps_both_versions(live_run, tmp_path, files):
    model = tmp_path / "model.pt"
    run = live_run()
    model.write_bytes(b"v1")
    run.log_artifact(model)
    model.write_bytes(b"v2")
    run.log_artifact(model)
    run.finish()
    paths = [m["path"] for m in files.manifest(run.dir)]
    assert paths == ["model.pt", "model-2.pt"]
    art = Path(run.dir) / schema.ARTIFACTS_DIR
    assert (art / "model.pt").read_bytes() == b"v1" and (art / "model-2.pt").read_bytes() == b"v2"


def test_artifact_folder_counts_files(live_run, tmp_path, files):
    ckpt = tmp_path / "ckpt"
    (ckpt / "sub").mkdir(parents=True)
    (ckpt / "a.bin").write_bytes(b"a")
    (ckpt / "sub" / "b.bin").write_bytes(b"bb")
    run = live_run()
    run.log_artifact(ckpt, type="checkpoint")
    run.finish()
    (line,) = files.manifest(run.dir)
    assert line["files"] == 2 and line["bytes"] == 3 and line["type"] == "checkpoint"
    assert (Path(run.dir) / schema.ARTIFACTS_DIR / "ckpt" / "sub" / "b.bin").read_bytes() == b"bb"


def test_artifact_hard_link_on_request(live_run, tmp_path):
    model = tmp_path / "model.pt"
    model.write_bytes(b"w")
    run = live_run()
    run.log_artifact(model, link=True)
    run.finish()
    stored = Path(run.dir) / schema.ARTIFACTS_DIR / "model.pt"
    assert os.stat(stored).st_ino == os.stat(model).st_ino


def test_missing_artifact_path_is_a_clear_error_at_the_call(live_run):
    run = live_run()
    with pytest.raises(FileNotFoundError, match="log_artifact.*nope.pt"):
        run.log_artifact("nope.pt")


def test_heartbeat_is_rewritten_while_running(live_run, files):
    run = live_run()
    run._files.heartbeat_interval = 0.0
    first = files.meta(run.dir)["heartbeat_at"]
    wait_until(lambda: files.meta(run.dir)["heartbeat_at"] != first)
    meta = files.meta(run.dir)
    assert meta["heartbeat_at"] > first and meta["status"] == schema.RUNNING


def test_records_reach_the_file_within_a_second_without_finish(live_run):
    run = live_run()
    run.log({"loss": 1.0})
    path = Path(run.dir) / schema.METRICS_FILE
    wait_until(lambda: path.read_text(), timeout=3)
    assert json.loads(path.read_text())["loss"] == 1.0


def test_past_timestamps_with_a_clock(live_run, files):
    now = [1_700_000_000.0]
    run = live_run(clock=lambda: now[0], name="old")
    for step in range(3):
        now[0] += 10
        run.log({"loss": step})
    run.log_system({"gpu/0/util_pct": 97.0}, source="simulated")
    run.log_system({"gpu/0/util_pct": 95.0}, time=now[0] + 1)
    now[0] += 5
    run.finish()
    assert run.id.startswith("20231114-221320-old-")
    meta = files.meta(run.dir)
    assert meta["started_at"] == 1_700_000_000.0
    assert meta["ended_at"] == 1_700_000_035.0 and meta["duration_s"] == 35.0
    assert meta["system_source"] == "simulated"
    assert [r["_time"] for r in files.metrics(run.dir)] == [1_700_000_010.0, 1_700_000_020.0,
                                                           1_700_000_030.0]
    assert files.system(run.dir) == [{"_time": 1_700_000_030.0, "gpu/0/util_pct": 97.0},
                                     {"_time": 1_700_000_031.0, "gpu/0/util_pct": 95.0}]


def test_finish_can_record_a_handled_crash(live_run, files):
    run = live_run()
    run.finish(status="crashed", reason="CUDA out of memory")
    meta = files.meta(run.dir)
    assert meta["status"] == "crashed" and meta["exit"]["reason"] == "CUDA out of memory"


def test_logging_set_up_before_init_reaches_console_log(live_run):
    import logging
    original = sys.stderr
    handler = logging.StreamHandler(original)
    log = logging.getLogger("runpages-test-train")
    log.addHandler(handler)
    try:
        run = live_run(capture_console=True)
        log.warning("epoch 3 done")
        run.finish()
        assert handler.stream is original
        assert "epoch 3 done" in (Path(run.dir) / schema.CONSOLE_FILE).read_text()
    finally:
        log.removeHandler(handler)


def test_generated_past_run_with_fixed_id_and_descriptive_meta(live_run, files):
    now = [1_732_000_000.0]
    gpus = {"count": 2, "names": ["NVIDIA H100 80GB HBM3"] * 2}
    with pytest.raises(RuntimeError):
        with live_run(id="20241119-070640-lr-1e-2-s0-abc123", name="lr-1e-2", group="lr-sweep",
                      clock=lambda: now[0], system_metrics=False,
                      meta={"user": "ana", "host": "gpu-node-3", "gpu": gpus}) as run:
            for step in range(3):
                now[0] += 1.5
                run.log({"train/loss": float("nan") if step == 2 else 1.0})
            run.log_system({"gpu/0/util_pct": 99.0}, source="simulated")
            now[0] += 1
            raise RuntimeError("loss is NaN")
    meta = files.meta(run.dir)
    assert Path(run.dir).name == "20241119-070640-lr-1e-2-s0-abc123"
    assert (meta["user"], meta["host"], meta["gpu"]) == ("ana", "gpu-node-3", gpus)
    assert meta["status"] == "crashed" and meta["exit"]["reason"] == "RuntimeError: loss is NaN"
    assert meta["ended_at"] == 1_732_000_005.5 and meta["system_source"] == "simulated"


def test_meta_override_of_a_format_field_fails_at_init(live_run):
    with pytest.raises(ValueError, match="meta= may only set"):
        live_run(meta={"status": "finished"})
