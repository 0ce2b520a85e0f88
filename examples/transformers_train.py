"""A small Hugging Face Trainer script logging through runpages (lines marked ``# runpages``).

    pip install 'runpages[integrations]'        # or: pip install transformers accelerate
    python examples/transformers_train.py --steps 60
    runpages build                              # the run shows up under runs/transformers-example

The model is a tiny BERT built from a config and the task a synthetic one (is token 7 in the
sequence?), so nothing is downloaded.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from runpages.integrations.transformers import RunpagesCallback  # noqa: E402  # runpages


class Sequences(torch.utils.data.Dataset):
    def __init__(self, n: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randint(0, 64, (n, 16), generator=g)
        self.y = (self.x == 7).any(dim=1).long()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.x[i], "labels": self.y[i]}


def accuracy(pred) -> dict:
    return {"accuracy": float((pred.predictions.argmax(-1) == pred.label_ids).mean())}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--project", default="transformers-example")
    p.add_argument("--name", default="tiny-bert")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--runs-dir", default=None, help="default: $RUNPAGES_DIR, else ./runs")
    args = p.parse_args(argv)

    config = BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=32, num_labels=2)
    with tempfile.TemporaryDirectory() as out:
        training = TrainingArguments(output_dir=out, run_name=args.name, max_steps=args.steps,
                                     learning_rate=args.lr, per_device_train_batch_size=32,
                                     logging_steps=5, eval_strategy="steps", eval_steps=20,
                                     save_strategy="no", report_to="none", disable_tqdm=True)
        trainer = Trainer(model=BertForSequenceClassification(config), args=training,
                          train_dataset=Sequences(2048, 0), eval_dataset=Sequences(256, 1),
                          compute_metrics=accuracy,
                          callbacks=[RunpagesCallback(project=args.project,  # runpages
                                                      dir=args.runs_dir)])  # runpages
        trainer.train()


if __name__ == "__main__":
    main()
