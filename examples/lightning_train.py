"""A small PyTorch Lightning script logging through runpages (the lines marked ``# runpages``).

    pip install 'runpages[integrations]'        # or: pip install lightning
    python examples/lightning_train.py --epochs 3 --lr 0.02
    runpages build                              # the run shows up under runs/lightning-example

Synthetic data (a noisy linear teacher) keeps the script self-contained: nothing is downloaded.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from runpages.integrations.lightning import RunpagesLogger  # noqa: E402  # runpages


class Regressor(L.LightningModule):
    def __init__(self, features: int = 16, hidden: int = 64, lr: float = 0.02) -> None:
        super().__init__()
        self.save_hyperparameters()          # → the run's config through log_hyperparams
        self.net = torch.nn.Sequential(torch.nn.Linear(features, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 1))

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        pred = self.net(x)
        self.log("val/loss", torch.nn.functional.mse_loss(pred, y))
        self.log("val/mae", (pred - y).abs().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def data(n: int, features: int, seed: int) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=g)
    w = torch.linspace(-1, 1, features).unsqueeze(1)
    return TensorDataset(x, x @ w + 0.1 * torch.randn(n, 1, generator=g))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--project", default="lightning-example")
    p.add_argument("--name", default=None)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--runs-dir", default=None, help="default: $RUNPAGES_DIR, else ./runs")
    args = p.parse_args(argv)

    run_logger = RunpagesLogger(project=args.project, name=args.name,  # runpages
                                dir=args.runs_dir, log_checkpoints=True)  # runpages
    trainer = L.Trainer(max_epochs=args.epochs, logger=run_logger, log_every_n_steps=5,
                        accelerator="auto", devices=1, enable_progress_bar=False)
    trainer.fit(Regressor(lr=args.lr), DataLoader(data(2048, 16, 0), batch_size=64, shuffle=True),
                DataLoader(data(512, 16, 1), batch_size=256))
    print(f"run written to {run_logger.experiment.dir}")


if __name__ == "__main__":
    main()
