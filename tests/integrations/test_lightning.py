"""RunpagesLogger in a real Lightning Trainer on the example's module, made tiny, and random
tensors."""
from __future__ import annotations

import importlib.util

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("lightning") is None,
                       reason="lightning is not installed (pip install 'runpages[integrations]')"),
]


def _fit(tmp_path, **logger_kwargs):
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from examples.lightning_train import Regressor
    from runpages.integrations.lightning import RunpagesLogger

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(64, 3), torch.randn(64, 1))
    run_logger = RunpagesLogger(project="lit", name="tiny", dir=tmp_path / "runs",
                                system_metrics=False, capture_console=False, **logger_kwargs)
    trainer = L.Trainer(max_epochs=2, logger=run_logger, log_every_n_steps=2,
                        default_root_dir=tmp_path, accelerator="cpu", devices=1,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Regressor(features=3, hidden=4, lr=0.05), DataLoader(data, batch_size=8),
                DataLoader(data, batch_size=32))
    return run_logger, trainer


def test_lightning_fit_writes_hyperparams_metrics_and_finishes(tmp_path, only_run, read_run,
                                                               values):
    run_logger, trainer = _fit(tmp_path)
    folder = only_run(tmp_path / "runs", "lit")
    run = read_run(folder)
    assert run["meta"]["name"] == "tiny"
    assert run["meta"]["status"] == "finished"
    assert run["config"]["lr"] == 0.05 and run["config"]["hidden"] == 4
    assert run_logger.version == folder.name and run_logger.experiment.id == folder.name
    steps = [r["_step"] for r in run["metrics"] if "train/loss" in r]
    assert len(steps) == 8                  # 2 epochs x 8 batches, logged every 2nd step
    assert steps == sorted(steps) and steps[-1] <= trainer.global_step
    assert len(values(run["metrics"], "val/loss")) == 2   # one per epoch
    assert "epoch" in run["summary"] and "val/loss" in run["summary"]


def test_validate_after_fit_adds_to_the_same_run(tmp_path, only_run, read_run, values):
    run_logger, trainer = _fit(tmp_path)
    assert run_logger.experiment.status == "finished"     # reading it does not reopen it
    trainer.validate(trainer.lightning_module, trainer.val_dataloaders, verbose=False)
    run_logger.experiment.finish()
    run = read_run(only_run(tmp_path / "runs", "lit"))
    assert len(values(run["metrics"], "val/loss")) == 3


def test_lightning_checkpoints_become_artifacts_when_asked(tmp_path, only_run, read_run):
    _fit(tmp_path, log_checkpoints=True)
    run = read_run(only_run(tmp_path / "runs", "lit"))
    assert [a["type"] for a in run["artifacts"]] == ["checkpoint"]
    assert run["artifacts"][0]["name"].endswith(".ckpt")


def test_a_failed_fit_ends_crashed_with_its_traceback_and_console(tmp_path, only_run, read_run):
    import lightning as L
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from examples.lightning_train import Regressor
    from runpages.integrations.lightning import RunpagesLogger

    class Diverges(Regressor):
        def training_step(self, batch, batch_idx):
            if self.global_step == 3:
                print("about to fail at step 3")
                raise FloatingPointError("loss is nan at step 3")
            return super().training_step(batch, batch_idx)

    data = TensorDataset(torch.randn(64, 3), torch.randn(64, 1))
    run_logger = RunpagesLogger(project="lit", name="fails", dir=tmp_path / "runs",
                                system_metrics=False, capture_console=True)
    trainer = L.Trainer(max_epochs=2, logger=run_logger, log_every_n_steps=1,
                        default_root_dir=tmp_path, accelerator="cpu", devices=1,
                        enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(FloatingPointError):
        trainer.fit(Diverges(features=3, hidden=4), DataLoader(data, batch_size=8))
    folder = only_run(tmp_path / "runs", "lit")
    meta = read_run(folder)["meta"]
    assert meta["status"] == "crashed"
    assert meta["exit"]["reason"] == "FloatingPointError: loss is nan at step 3"
    assert "Traceback (most recent call last)" in meta["exit"]["traceback"]
    assert "training_step" in meta["exit"]["traceback"]
    console = (folder / "console.log").read_text()
    assert "about to fail at step 3" in console
    assert "FloatingPointError: loss is nan at step 3" in console
    assert [r["_step"] for r in read_run(folder)["metrics"] if "train/loss" in r] == [0, 1, 2]
