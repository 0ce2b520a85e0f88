"""A typical small PyTorch training script with the few runpages lines (marked ``# runpages``).

    pip install torch                     # CPU build is enough
    python examples/pytorch_train.py --epochs 5 --lr 3e-3
    python examples/pytorch_train.py --device cuda --runs-dir runs

Synthetic data (a noisy teacher MLP) keeps the script self-contained: it needs no download.
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import runpages  # noqa: E402  # runpages

logger = logging.getLogger("train")   # the usual name, untouched by runpages


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--project", default="pytorch-example")
    p.add_argument("--name", default=None, help="run name (default: generated)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--samples", type=int, default=20_000)
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--runs-dir", default=None, help="default: $RUNPAGES_DIR or ./runs")
    p.add_argument("--out", default="checkpoints")
    return p.parse_args(argv)


def make_data(args) -> tuple[TensorDataset, TensorDataset]:
    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.samples, args.features, generator=g)
    teacher = nn.Sequential(nn.Linear(args.features, 64), nn.Tanh(), nn.Linear(64, args.classes))
    with torch.no_grad():
        for param in teacher.parameters():
            param.copy_(torch.randn(param.shape, generator=g))
        logits = teacher(x) + 0.5 * torch.randn(args.samples, args.classes, generator=g)
    y = logits.argmax(dim=1)
    split = int(0.9 * args.samples)
    return TensorDataset(x[:split], y[:split]), TensorDataset(x[split:], y[split:])


def make_model(args) -> nn.Module:
    return nn.Sequential(
        nn.Linear(args.features, args.hidden), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(args.hidden, args.hidden), nn.ReLU(),
        nn.Linear(args.hidden, args.classes),
    )


@torch.no_grad()
def evaluate(model, loader, device) -> tuple[float, float]:
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss_sum += nn.functional.cross_entropy(out, y, reduction="sum").item()
        correct += (out.argmax(1) == y).sum().item()
        count += len(y)
    model.train()
    return loss_sum / count, correct / count


@torch.no_grad()
def sample_predictions(model, val_set, device, n: int = 32) -> "runpages.Table":
    """The same first ``n`` validation rows every epoch: label, prediction, confidence."""
    model.eval()
    x, y = val_set[:n]
    probs = torch.softmax(model(x.to(device)), dim=1).cpu()
    model.train()
    table = runpages.Table(columns=["id", "label", "pred", "confidence", "correct"])
    for i, (label, p) in enumerate(zip(y.tolist(), probs)):
        pred = int(p.argmax())
        table.add_data(i, label, pred, round(float(p[pred]), 4), pred == label)
    return table


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    train_set, val_set = make_data(args)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=1024)
    model = make_model(args).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=len(train_loader))

    run = runpages.init(project=args.project, name=args.name, config=args,   # runpages
                      tags=["example", args.device], dir=args.runs_dir,
                      notes="examples/pytorch_train.py on synthetic data")
    logger.info("run %s writing to %s", run.id, run.dir)

    best_acc, step = 0.0, 0
    os.makedirs(args.out, exist_ok=True)
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        for x, y in train_loader:
            x, y = x.to(args.device), y.to(args.device)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            if step % 10 == 0:
                run.log({"train/loss": loss, "train/grad_norm": grad_norm,   # runpages:
                         "train/lr": sched.get_last_lr()[0], "epoch": epoch})  # tensors ok
            step += 1
        val_loss, val_acc = evaluate(model, val_loader, args.device)
        run.log({"val/loss": val_loss, "val/acc": val_acc,                       # runpages
                 "perf/epoch_s": time.perf_counter() - t0,
                 "val/predictions": sample_predictions(model, val_set, args.device),  # a table
                 "weights/fc1": runpages.Histogram(model[0].weight.detach().cpu())})  # over epochs
        logger.info("epoch %d: val_loss %.4f val_acc %.4f", epoch, val_loss, val_acc)
        if val_acc > best_acc:
            best_acc = val_acc
            torch.save(model.state_dict(), os.path.join(args.out, "best.pt"))

    path = os.path.join(args.out, "last.pt")
    torch.save(model.state_dict(), path)
    run.summary["best/val_acc"] = best_acc                                       # runpages
    run.log_artifact(os.path.join(args.out, "best.pt"), name="best", type="model")  # runpages
    run.log_artifact(path, name="last", type="model")                           # runpages
    run.finish()                                                                 # runpages
    logger.info("best val_acc %.4f; run folder %s", best_acc, run.dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
