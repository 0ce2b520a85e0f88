"""What a user notices across formats: no duplicates on re-import, damaged sources imported
as far as they are readable with the problems listed, text logs, --pattern, the CLI."""
from __future__ import annotations

import json
import shutil

import pytest

from runpages.importers import ImportSourceError, detect, import_source
from runpages.sitegen.cli import main as runpages_main
from runpages.importers.text import parse_line

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _run_folders(runs_dir):
    return sorted(p for p in runs_dir.glob("*/*") if p.is_dir())


def _rows(folder):
    return [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]


def test_importing_the_same_source_twice_adds_no_run(real_logs, tmp_path):
    source = real_logs / "lightning_csv"
    first = import_source(source, tmp_path / "runs")
    second = import_source(source, tmp_path / "runs")
    assert len(first.written) == 3 and not first.skipped
    assert not second.written and sorted(second.skipped) == sorted(first.written)
    assert len(_run_folders(tmp_path / "runs")) == 3


def test_a_changed_source_is_a_new_run(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("step 1 | loss: 3.0\nstep 2 | loss: 2.5\nstep 3 | loss: 2.0\n")
    a = import_source(log, tmp_path / "runs")
    log.write_text(log.read_text() + "step 4 | loss: 1.5\n")
    b = import_source(log, tmp_path / "runs")
    assert a.written != b.written and len(_run_folders(tmp_path / "runs")) == 2


def test_a_half_written_earlier_import_is_redone(real_logs, tmp_path):
    source = real_logs / "hf_trainer_state"
    rid = import_source(source, tmp_path / "runs").written[0]
    folder = next((tmp_path / "runs").glob(f"*/{rid}"))
    meta = json.loads((folder / "meta.json").read_text())
    del meta["imported_from"]                       # as if the importer died before the end
    (folder / "meta.json").write_text(json.dumps(meta))
    again = import_source(source, tmp_path / "runs")
    assert again.written == [rid]
    assert "imported_from" in json.loads((folder / "meta.json").read_text())


@pytest.mark.parametrize("line, step, values", [
    ("step:120/5000 val_loss:3.41 train_time:1234ms", 120,
     {"val_loss": 3.41, "train_time_ms": 1234}),
    ("step 120 | loss: 3.41 | lr 6e-4", 120, {"loss": 3.41, "lr": 6e-4}),
    ("iter 7: loss=2.5, time 12.5ms, mfu 33.2%", 7,
     {"loss": 2.5, "time_ms": 12.5, "mfu_pct": 33.2}),
    ("Epoch 3/10 step 40 loss 0.25", 40, {"Epoch": 3, "loss": 0.25}),  # spelling kept
    ("nr. of training examples 6250", None, {}),
    ("  0%|          | 0/6250 [00:00<?, ?it/s]", None, {}),
    ("Traceback (most recent call last):", None, {}),
])
def test_text_lines_become_metrics_and_free_text_is_skipped(line, step, values):
    got_step, _, got = parse_line(line)
    assert got_step == step
    assert got == pytest.approx(values)


def test_pattern_with_named_groups_reads_other_styles(tmp_path):
    log = tmp_path / "out.txt"
    log.write_text("hello\n[it 10] acc=0.5 loss=1.2\nnoise\n[it 20] acc=0.7 loss=0.9\n")
    result = import_source(log, tmp_path / "runs",
                           pattern=r"\[it (?P<step>\d+)\] acc=(?P<acc>\S+) loss=(?P<loss>\S+)")
    assert result.format == "text" and len(result.written) == 1
    folder = _run_folders(tmp_path / "runs")[0]
    rows = _rows(folder)
    assert [(r["_step"], r["acc"], r["loss"]) for r in rows] == [(10, 0.5, 1.2), (20, 0.7, 0.9)]


def test_damaged_csv_rows_are_listed_and_the_rest_imported(tmp_path):
    folder = tmp_path / "lightning_logs" / "version_0"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text("step,epoch,loss\n0,0,1.0\n1,0\nx,0,0.8\n3,0,0.7\n4,0,0.")
    result = import_source(tmp_path / "lightning_logs", tmp_path / "runs")
    assert [p.line for p in result.problems] == [3, 4]
    run = _run_folders(tmp_path / "runs")[0]
    rows = _rows(run)
    assert [r["_step"] for r in rows] == [0, 3, 4]


def test_truncated_tensorboard_file_imports_what_precedes_the_cut(real_logs, tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    original = next(real_logs.glob("tensorboard/*/lightning_logs/version_119/events*"))
    cut = tmp_path / "tb" / "version_119" / original.name
    cut.parent.mkdir(parents=True)
    cut.write_bytes(original.read_bytes()[:9000])
    result = import_source(tmp_path / "tb", tmp_path / "runs")
    assert len(result.written) == 1
    assert any("cut off at byte" in str(p) for p in result.problems)
    rows = (_run_folders(tmp_path / "runs")[0] / "metrics.jsonl").read_text().splitlines()
    assert 10 < len(rows) < 134


def test_damaged_mlflow_metric_line_is_listed(real_logs, tmp_path):
    pytest.importorskip("yaml", reason="PyYAML is not installed (pip install 'runpages[import]')")
    store = tmp_path / "mlruns"
    shutil.copytree(next(real_logs.glob("mlflow/*/mlruns")), store)
    for p in store.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    loss = next(store.glob("0/*/metrics/loss"))
    loss.write_text(loss.read_text() + "garbage\n1664364008310 2.5 1\n")
    result = import_source(store, tmp_path / "runs")
    assert [(p.line, "timestamp" in p.reason) for p in result.problems] == [(2, True)]
    run = _run_folders(tmp_path / "runs")[0]
    rows = _rows(run)
    assert [r["_step"] for r in rows if "loss" in r] == [0, 1]


def test_truncated_wandb_run_file_is_listed(real_logs, tmp_path):
    pytest.importorskip("wandb", reason="wandb is not installed")
    original = next(real_logs.glob("wandb_run/*/run-*-xpeipnem"))
    copy = tmp_path / "wandb" / original.name
    shutil.copytree(original, copy)
    for p in copy.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    wb = next(copy.glob("*.wandb"))
    wb.write_bytes(wb.read_bytes()[:3000])
    result = import_source(tmp_path / "wandb", tmp_path / "runs")
    assert len(result.written) == 1
    assert any("cut off at byte" in str(p) for p in result.problems)


def test_unknown_source_says_what_can_be_imported(tmp_path):
    (tmp_path / "notes.md").write_text("# nothing to see\n")
    with pytest.raises(ImportSourceError, match="not a format runpages can import"):
        detect(tmp_path / "notes.md")
    with pytest.raises(ImportSourceError, match="no such file"):
        detect(tmp_path / "missing")


def test_runpages_import_prints_a_summary_and_returns_exit_codes(real_logs, tmp_path, capsys):
    argv = ["import", str(real_logs / "wandb_run"), "-o", str(tmp_path / "runs"), "--project", "old-runs"]
    assert runpages_main(argv) == 0
    text = capsys.readouterr().out
    assert "imported 2 runs (wandb)" in text and "old-runs" in text and "no .wandb file" in text
    assert runpages_main(argv) == 0                                # again: skipped, still fine
    assert "2 already imported" in capsys.readouterr().out
    assert runpages_main(["import", str(tmp_path / "nothing"), "-o", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert "runpages: error:" in err and "no such file or folder" in err


def test_offline_run_from_current_wandb_imports_history_config_and_summary(tmp_path):
    pytest.importorskip("wandb", reason="wandb is not installed")
    import os
    import subprocess
    import sys
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
           "WANDB_DIR": str(tmp_path), "WANDB_DISABLE_CODE": "true"}
    script = ("import wandb\n"
              "run = wandb.init(project='p', name='modern', config={'lr': 0.1, 'opt': {'b': 2}})\n"
              "for i in range(5):\n    run.log({'loss': 1 / (i + 1), 'acc/top1': i / 10})\n"
              "run.log({'val': 3.0}, step=10)\nrun.finish()\n")
    subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, check=True,
                   timeout=120, capture_output=True)
    result = import_source(tmp_path / "wandb", tmp_path / "runs")
    assert result.format == "wandb" and result.project == "p" and len(result.written) == 1
    run = _run_folders(tmp_path / "runs")[0]
    rows = _rows(run)
    assert [(r["_step"], r.get("loss")) for r in rows] == [
        (0, 1), (1, 0.5), (2, pytest.approx(1 / 3)), (3, 0.25), (4, 0.2), (10, None)]
    assert json.loads((run / "config.json").read_text()) == {"lr": 0.1, "opt": {"b": 2}}
    assert json.loads((run / "summary.json").read_text())["val"] == 3
    meta = json.loads((run / "meta.json").read_text())
    assert meta["name"] == "modern" and meta["status"] == "finished"


def test_tensorboard_hparams_and_scalars_written_by_torch(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    pytest.importorskip("torch", reason="torch is not installed (writes the event file)")
    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(tmp_path / "tb" / "run1"))
    for i in range(5):
        writer.add_scalar("train/loss", 1 / (i + 1), i)
    writer.add_hparams({"lr": 0.1, "opt": "adam"}, {"hp/acc": 0.9}, run_name=".")
    writer.close()
    result = import_source(tmp_path / "tb", tmp_path / "runs")
    assert result.format == "tensorboard" and len(result.written) == 1
    run = _run_folders(tmp_path / "runs")[0]
    assert json.loads((run / "config.json").read_text()) == {"lr": 0.1, "opt": "adam"}
    rows = _rows(run)
    assert [r["_step"] for r in rows if "train/loss" in r] == [0, 1, 2, 3, 4]
    assert json.loads((run / "meta.json").read_text())["name"] == "tb/run1"


def test_cut_off_trainer_state_keeps_its_complete_entries(real_logs, tmp_path):
    original = (real_logs / "hf_trainer_state" / "multi-eval-groups" / "trainer_state.json")
    text = original.read_text()
    cut = tmp_path / "out" / "trainer_state.json"
    cut.parent.mkdir()
    cut.write_text(text[:len(text) // 2])
    entries = json.loads(text)["log_history"]
    result = import_source(cut, tmp_path / "runs")
    assert len(result.written) == 1 and len(result.problems) == 1
    assert "not valid JSON" in result.problems[0].reason
    run = _run_folders(tmp_path / "runs")[0]
    rows = _rows(run)
    assert 50 < len(rows) < len(entries)
    assert rows[0]["eval/g0_loss"] == entries[0]["eval_g0_loss"]


def test_keras_csvlogger_file_imports_with_epoch_as_step(tmp_path):
    log = tmp_path / "training.log"
    keras = None
    try:
        import os
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras
    except ImportError:
        pass
    if keras is not None:      # the real CSVLogger output
        import numpy as np
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=3, validation_split=0.25, verbose=0,
                  callbacks=[keras.callbacks.CSVLogger(str(log))])
    else:                      # what CSVLogger writes
        log.write_text("epoch,loss,mae,val_loss,val_mae\n0,1.0,0.9,1.1,1.0\n"
                       "1,0.8,0.7,0.9,0.8\n2,0.6,0.5,0.7,0.6\n")
    original = log.read_text().splitlines()
    assert detect(log) == "keras_csv"
    result = import_source(log, tmp_path / "runs")
    run = _run_folders(tmp_path / "runs")[0]
    rows = _rows(run)
    assert result.format == "keras_csv" and [r["_step"] for r in rows] == [0, 1, 2]
    header, last = original[0].split(","), original[-1].split(",")
    assert rows[-1]["val_loss"] == pytest.approx(float(last[header.index("val_loss")]))
