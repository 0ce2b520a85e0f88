"""Every real public log in shared/fixtures/real_logs/ imports, and its values match the
original, read here with an independent, simple parse of the original files."""
from __future__ import annotations

import csv
import json
import math
import re
import struct

import pytest

from runpages.importers import detect

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_every_fixture_is_detected_and_imports(real_logs, import_into):
    expected = {"hf_trainer_state": "trainer_state", "lightning_csv": "lightning_csv",
                "mlflow": "mlflow", "nanogpt_text": "text", "tensorboard": "tensorboard",
                "wandb_run": "wandb"}
    assert sorted(p.name for p in real_logs.iterdir() if p.is_dir()) == sorted(expected)
    for folder, fmt in expected.items():
        if fmt == "tensorboard":
            pytest.importorskip("tensorboard", reason="tensorboard is not installed")
        assert detect(real_logs / folder) == fmt
        imported = import_into(real_logs / folder)
        assert imported.result.written, folder
        for name in imported.runs:
            assert imported.meta(name)["tags"][:2] == ["imported", fmt]
            assert imported.meta(name)["imported_from"]["format"] == fmt


def test_trainer_state_history_split_into_train_and_eval(real_logs, import_into):
    path = real_logs / "hf_trainer_state" / "multi-eval-groups" / "trainer_state.json"
    state = json.loads(path.read_text())
    run = import_into(path)
    name = "multi-eval-groups"
    for group in range(6):
        original = [(e["step"], e[f"eval_g{group}_loss"]) for e in state["log_history"]
                    if f"eval_g{group}_loss" in e]
        assert run.series(name, f"eval/g{group}_loss") == original
    original_train = [(e["step"], e["loss"]) for e in state["log_history"] if "loss" in e]
    assert run.series(name, "train/loss") == original_train
    assert len(original_train) > 10
    assert run.summary(name)["global_step"] == state["global_step"] == 12030
    assert run.config(name)["logging_steps"] == state["logging_steps"]
    total = [e for e in state["log_history"] if "train_runtime" in e]
    if total:
        assert run.summary(name)["train/train_runtime"] == total[0]["train_runtime"]


@pytest.mark.parametrize("version", ["version_0", "version_10", "version_13"])
def test_lightning_csv_sparse_columns_and_nan_kept(real_logs, import_into, version):
    folder = real_logs / "lightning_csv" / "genrisk-gan" / "lightning_logs" / version
    with open(folder / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    run = import_into(folder)
    name = f"lightning_logs/{version}"
    for key in ("train_disc_loss", "train_gen_loss"):
        original = [(int(r["step"]), float(r[key])) for r in rows if r[key] != ""]
        got = run.series(name, key)
        assert len(got) == len(original) and got, key
        assert all(s1 == s2 and (v1 == v2 or (math.isnan(v1) and math.isnan(v2)))
                   for (s1, v1), (s2, v2) in zip(got, original, strict=True))
    assert run.meta(name)["status"] == "finished"
    assert run.config(name) == {}            # hparams.yaml is '{}'


def test_mlflow_params_metrics_times_and_status(real_logs, import_into):
    pytest.importorskip("yaml", reason="PyYAML is not installed (pip install 'runpages[import]')")
    run_dir = next((real_logs / "mlflow").glob("*/mlruns/0/*/metrics")).parent
    run = import_into(real_logs / "mlflow")
    name = run_dir.name                                   # no mlflow.runName tag
    assert run.meta(name)["project"] == "Default"         # the experiment's name
    ts, value, step = (run_dir / "metrics" / "loss").read_text().split()
    assert run.series(name, "loss") == [(int(step), float(value))]
    row = run.rows(name)[0]
    assert row["_time"] == pytest.approx(int(ts) / 1000, abs=1e-3)
    params = run_dir / "params"
    assert run.config(name)["LEARNING_RATE"] == float((params / "LEARNING_RATE").read_text())
    assert run.config(name)["WEIGHTS"] == (run_dir / "params" / "WEIGHTS").read_text()
    meta = run.meta(name)
    assert meta["user"] == (run_dir / "tags" / "mlflow.user").read_text()
    assert meta["git"]["commit"] == (run_dir / "tags" / "mlflow.source.git.commit").read_text()
    assert meta["started_at"] == pytest.approx(1664364007.025)
    assert meta["status"] == "crashed" and "RUNNING" in meta["exit"]["reason"]  # never ended


def test_nanogpt_text_log_steps_values_and_units(real_logs, import_into):
    path = next((real_logs / "nanogpt_text").glob("*/*.txt"))
    text = path.read_text()
    def series(key):
        found = re.findall(rf"^step:(\d+)/\d+ {key}:([\d.]+)", text, re.M)
        return [(int(s), float(v)) for s, v in found]
    val, train = series("val_loss"), series("train_loss")
    run = import_into(path)
    name = path.stem
    assert run.series(name, "val_loss") == val and len(val) == 49
    assert run.series(name, "train_loss") == train and len(train) == 6000
    times = run.series(name, "train_time_ms")
    assert times[0] == (0, 305) and times[-1] == (6000, 2176424)
    assert math.isnan(run.series(name, "step_avg_ms")[0][1])     # 'nanms' in the log
    assert run.config(name)["total_steps"] == 6000
    assert (run.runs[name] / "console.log").read_text() == text


def _tfrecords(path):
    """Independent reader: TFRecord framing + TensorBoard's Event protobuf."""
    from tensorboard.compat.proto import event_pb2
    data, pos = path.read_bytes(), 0
    while pos + 12 <= len(data):
        (n,) = struct.unpack("<Q", data[pos:pos + 8])
        yield event_pb2.Event.FromString(data[pos + 12:pos + 12 + n])
        pos += 12 + n + 4


def test_tensorboard_scalars_steps_and_wall_times(real_logs, import_into):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    folder = next(real_logs.glob("tensorboard/*/lightning_logs/version_119"))
    events = [(e.step, e.wall_time, v.simple_value)
              for e in _tfrecords(next(folder.glob("events*")))
              for v in e.summary.value if v.tag == "val_loss"]
    run = import_into(folder.parent)
    name = "lightning_logs/version_119"
    got = run.series(name, "val_loss")
    assert len(got) == len(events) == 40
    assert [s for s, _ in got] == [s for s, _, _ in events]
    assert [v for _, v in got] == pytest.approx([v for _, _, v in events])
    first = next(r for r in run.rows(name) if "val_loss" in r)
    assert first["_time"] == pytest.approx(events[0][1], abs=1e-3)
    assert run.config(name)["hidden_size"] == 80           # hparams.yaml beside the events
    assert len(run.runs) == 4


def test_wandb_config_summary_console_and_crash(real_logs, import_into):
    pytest.importorskip("yaml", reason="PyYAML is not installed (pip install 'runpages[import]')")
    run = import_into(real_logs / "wandb_run")
    for folder in (real_logs / "wandb_run").glob("*/run-*"):
        name = folder.name.rsplit("-", 1)[-1]
        summary = json.loads((folder / "files" / "wandb-summary.json").read_text())
        got = run.summary(name)
        for key, value in summary.items():
            if not key.startswith("_"):
                assert got[key] == pytest.approx(value), key
        assert run.config(name)["dataset"] == "IMDB" and "_wandb" not in run.config(name)
        console = (run.runs[name] / "console.log").read_text()
        assert console == (folder / "files" / "output.log").read_text()
        meta = run.meta(name)
        assert meta["host"] == "mark.inf.ethz.ch" and meta["user"] == "orvietoa"
        assert meta["ended_at"] == pytest.approx(summary["_timestamp"])
    assert run.meta("xpeipnem")["status"] == "crashed"
    assert run.meta("o5vo12ki")["status"] == "finished"
    assert any("no .wandb file" in str(p) for p in run.result.problems)


def test_wandb_history_read_from_the_run_file(real_logs, import_into):
    pytest.importorskip("wandb", reason="wandb is not installed: the .wandb history is left out")
    folder = next((real_logs / "wandb_run").glob("*/run-*-xpeipnem"))
    run = import_into(folder)
    summary = json.loads((folder / "files" / "wandb-summary.json").read_text())
    rows = run.rows("xpeipnem")
    assert [r["_step"] for r in rows] == [0]
    assert rows[0]["train_loss_local"] == pytest.approx(summary["train_loss_local"])
    assert rows[0]["_time"] == pytest.approx(summary["_timestamp"], abs=1e-3)
    assert run.meta("xpeipnem")["exit"]["reason"] == "exit code 1"
    assert run.meta("xpeipnem")["project"] == "Lion and Adam"
