"""What a source folder holds, as a user sees it after ``runpages import``: runs of several
projects stay apart, several formats in one folder are all imported and counted, ``--format``
restricts, nothing is skipped unsaid, and a sub-folder imported again adds nothing."""
from __future__ import annotations

import json
import shutil

import pytest

from runpages.importers import ImportSourceError, import_source
from runpages.sitegen.cli import main as runpages_main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
MLRUN = "mlflow/deepcnn-classifier/mlruns"


def _projects(runs_dir):
    return {p.name: sorted(r.name for r in p.iterdir() if r.is_dir())
            for p in sorted(runs_dir.iterdir()) if p.is_dir()}


def _meta(folder):
    return json.loads((folder / "meta.json").read_text())


def _two_experiments(real_logs, tmp_path):
    """An MLflow store with experiments "Default" (0) and "tuning" (1), one run each."""
    store = tmp_path / "mlruns"
    shutil.copytree(real_logs / MLRUN, store)
    shutil.copytree(store / "0", store / "1")
    meta = (store / "1" / "meta.yaml").read_text()
    (store / "1" / "meta.yaml").write_text(meta.replace("name: Default", "name: tuning")
                                           .replace("experiment_id: '0'", "experiment_id: '1'"))
    return store


def _tensorboard(folder, scalars=3):
    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(folder))
    for i in range(scalars):
        writer.add_scalar("train/loss", 1 / (i + 1), i)
    writer.close()


def test_runs_of_two_mlflow_experiments_land_in_their_own_projects(real_logs, tmp_path):
    result = import_source(_two_experiments(real_logs, tmp_path), tmp_path / "runs")
    projects = _projects(tmp_path / "runs")
    assert sorted(projects) == ["Default", "tuning"]
    assert [len(v) for v in projects.values()] == [1, 1]
    assert sorted(set(result.projects.values())) == ["Default", "tuning"]


def test_project_flag_puts_every_run_in_one_project(real_logs, tmp_path):
    import_source(_two_experiments(real_logs, tmp_path), tmp_path / "runs", project="all")
    assert [len(v) for v in _projects(tmp_path / "runs").values()] == [2]


def test_lightning_experiment_folders_become_projects_when_there_are_several(real_logs,
                                                                              tmp_path):
    src = tmp_path / "logs"
    for exp in ("gan-small", "gan-large"):
        shutil.copytree(real_logs / "lightning_csv/genrisk-gan/lightning_logs/version_0",
                        src / exp / "version_0")
    import_source(src, tmp_path / "runs")
    projects = _projects(tmp_path / "runs")
    assert sorted(projects) == ["gan-large", "gan-small"]


def test_hf_output_folder_imports_its_event_files_and_trainer_state(real_logs, tmp_path,
                                                                    capsys):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    pytest.importorskip("torch", reason="torch is not installed (writes the event file)")
    out = tmp_path / "out"
    state = real_logs / "hf_trainer_state/multi-eval-groups/trainer_state.json"
    for where in (".", "checkpoint-500", "last-checkpoint"):
        (out / where).mkdir(parents=True, exist_ok=True)
        shutil.copy(state, out / where / "trainer_state.json")
    _tensorboard(out / "runs" / "Dec01_10-00-00_host")
    argv = ["import", str(out), "-o", str(tmp_path / "runs")]
    assert runpages_main(argv) == 0
    text = capsys.readouterr().out
    assert "found 1 tensorboard run, 1 trainer_state run" in text
    assert "imported 2 runs (tensorboard+trainer_state)" in text
    assert len(_projects(tmp_path / "runs")["out"]) == 2


def test_format_flag_imports_only_that_format_and_says_what_else_is_there(real_logs, tmp_path,
                                                                          capsys):
    pytest.importorskip("torch", reason="torch is not installed (writes the event file)")
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(real_logs / "hf_trainer_state/multi-eval-groups/trainer_state.json", out)
    _tensorboard(out / "runs" / "a")
    result = import_source(out, tmp_path / "runs", format="trainer_state")
    assert result.found == {"trainer_state": 1} and len(result.written) == 1
    with pytest.raises(ImportSourceError, match=r"no mlflow runs found \(found: tensorboard, "
                                                r"trainer_state\)"):
        import_source(out, tmp_path / "runs", format="mlflow")
    assert runpages_main(["import", str(out), "--format", "csv", "-o", str(tmp_path)]) == 1
    assert "--format 'csv' is not a format" in capsys.readouterr().err


def test_lightning_tensorboard_and_csv_loggers_in_one_folder_are_one_run(tmp_path):
    pytest.importorskip("lightning", reason="lightning is not installed")
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    from examples.lightning_train import Regressor

    data = TensorDataset(torch.randn(32, 3), torch.randn(32, 1))
    trainer = L.Trainer(max_epochs=1, log_every_n_steps=1, default_root_dir=tmp_path,
                        logger=[TensorBoardLogger(tmp_path / "logs"), CSVLogger(tmp_path / "logs")],
                        accelerator="cpu", devices=1, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(Regressor(features=3, hidden=4), DataLoader(data, batch_size=8))
    # Lightning gives the second logger the next version: version_0 events, version_1 CSV
    assert (tmp_path / "logs/lightning_logs/version_1/metrics.csv").is_file()
    result = import_source(tmp_path / "logs", tmp_path / "runs")
    assert result.found == {"tensorboard": 1} and len(result.written) == 1
    assert result.notes == ["lightning_csv run 'lightning_logs/version_1' is the same run as "
                            "tensorboard run 'lightning_logs/version_0' (imported once)"]
    run = next((tmp_path / "runs").glob("*/*"))
    assert _meta(run)["imported_from"]["format"] == "tensorboard"
    assert json.loads((run / "config.json").read_text())["hidden"] == 4
    assert result.format == "tensorboard"
    csv_only = import_source(tmp_path / "logs", tmp_path / "runs", format="lightning_csv")
    assert csv_only.found == {"lightning_csv": 1}


def test_a_folder_with_nothing_importable_is_an_error_and_unread_files_are_named(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.md").write_text("# notes\nnothing numeric here\n")
    with pytest.raises(ImportSourceError, match="not a format runpages can import"):
        import_source(tmp_path / "src", tmp_path / "runs")
    (tmp_path / "src" / "train.log").write_text("".join(f"step {i} loss: {1 / (i + 1)}\n"
                                                        for i in range(5)))
    result = import_source(tmp_path / "src", tmp_path / "runs")
    assert len(result.written) == 1
    assert result.notes == ["1 file not imported (no metrics found in them): notes.md"]


def test_importing_a_sub_folder_again_adds_no_run_under_a_new_project(real_logs, tmp_path,
                                                                      capsys):
    top = real_logs / "lightning_csv"
    first = import_source(top, tmp_path / "runs")
    assert set(first.projects.values()) == {"lightning_csv"}
    again = import_source(top / "genrisk-gan" / "lightning_logs" / "version_10", tmp_path / "runs")
    assert again.skipped and not again.written
    assert again.projects == {again.skipped[0]: "lightning_csv"}
    assert list(_projects(tmp_path / "runs")) == ["lightning_csv"]
    argv = ["import", str(top / "genrisk-gan"), "-o", str(tmp_path / "runs")]
    assert runpages_main(argv) == 0
    out = capsys.readouterr().out
    assert "imported 0 runs (lightning_csv)" in out and "3 already imported" in out
    assert list(_projects(tmp_path / "runs")) == ["lightning_csv"]


def test_a_trainer_state_whose_history_stops_early_says_so(real_logs, tmp_path):
    state = json.loads((real_logs / "hf_trainer_state/multi-eval-groups/trainer_state.json")
                       .read_text())
    state["log_history"] = [e for e in state["log_history"] if e["step"] <= 6000]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "trainer_state.json").write_text(json.dumps(state))
    result = import_source(tmp_path / "out", tmp_path / "runs")
    assert [p.reason for p in result.problems] == [
        "the history ends at step 5614, but its global_step says the run reached step 12030: "
        "the steps after 5614 are missing from the source and were not imported (the summary "
        "is kept as the source has it)"]
    complete = import_source(real_logs / "hf_trainer_state", tmp_path / "runs2")
    assert not complete.problems


def test_importing_a_checkpoint_folder_after_its_output_folder_adds_no_run(real_logs, tmp_path):
    out = tmp_path / "out"
    state = real_logs / "hf_trainer_state/multi-eval-groups/trainer_state.json"
    for where in (".", "checkpoint-500", "last-checkpoint"):
        (out / where).mkdir(parents=True, exist_ok=True)
        shutil.copy(state, out / where / "trainer_state.json")
    first = import_source(out, tmp_path / "runs")
    assert len(first.written) == 1
    for sub in ("checkpoint-500", "last-checkpoint"):
        again = import_source(out / sub, tmp_path / "runs", project="elsewhere")
        assert again.skipped == first.written and not again.written
    assert list(_projects(tmp_path / "runs")) == ["out"]
