"""RunpagesCallback in a real Hugging Face Trainer on a tiny BERT built from a config."""
from __future__ import annotations

import importlib.util

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("transformers") is None
                       or importlib.util.find_spec("accelerate") is None,
                       reason="transformers and accelerate are not installed "
                              "(pip install 'runpages[integrations]')"),
]


def _train(tmp_path, evaluate_after=False, **callback_kwargs):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

    from runpages.integrations.transformers import RunpagesCallback

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, num_labels=2)
    model = BertForSequenceClassification(config)

    class Data(torch.utils.data.Dataset):
        def __init__(self, n):
            g = torch.Generator().manual_seed(n)
            self.x = torch.randint(0, 50, (n, 8), generator=g)
            self.y = torch.randint(0, 2, (n,), generator=g)

        def __len__(self):
            return len(self.y)

        def __getitem__(self, i):
            return {"input_ids": self.x[i], "labels": self.y[i]}

    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=6, logging_steps=2,
                             eval_strategy="steps", eval_steps=3, per_device_train_batch_size=4,
                             per_device_eval_batch_size=8, learning_rate=1e-3, report_to="none",
                             save_strategy="no", use_cpu=True, disable_tqdm=True, seed=0,
                             run_name="tiny-bert")
    callback = RunpagesCallback(project="hf", dir=tmp_path / "runs", system_metrics=False,
                                capture_console=False, **callback_kwargs)
    trainer = Trainer(model=model, args=args, train_dataset=Data(32), eval_dataset=Data(16),
                      callbacks=[callback])
    trainer.train()
    if evaluate_after:
        trainer.evaluate()
    return callback, trainer


def test_trainer_logs_train_and_eval_apart_at_global_steps(tmp_path, only_run, read_run, values):
    callback, trainer = _train(tmp_path)
    run = read_run(only_run(tmp_path / "runs", "hf"))
    assert run["meta"]["name"] == "tiny-bert"
    assert run["meta"]["status"] == "finished"
    assert run["config"]["args"]["learning_rate"] == 1e-3
    assert run["config"]["model"]["hidden_size"] == 16
    rows = run["metrics"]
    assert [r["_step"] for r in rows if "train/loss" in r] == [2, 4, 6]
    assert [r["_step"] for r in rows if "eval/loss" in r] == [3, 6]
    assert not any(k.startswith(("eval_", "train/eval")) for r in rows for k in r)
    assert "train/learning_rate" in run["summary"] and "train/train_runtime" in run["summary"]
    assert run["summary"]["global_step"] == 6


def test_evaluate_after_training_reopens_the_same_run(tmp_path, only_run, read_run, values):
    callback, _ = _train(tmp_path, evaluate_after=True)
    assert callback.run.status == "running"    # reopened; the exit hook finishes it in scripts
    callback.run.finish()
    run = read_run(only_run(tmp_path / "runs", "hf"))
    assert [r["_step"] for r in run["metrics"] if "eval/loss" in r] == [3, 6, 6]


def test_saved_model_is_an_artifact_when_asked(tmp_path, only_run, read_run):
    _train(tmp_path, log_model=True)
    run = read_run(only_run(tmp_path / "runs", "hf"))
    assert [(a["name"], a["type"]) for a in run["artifacts"]] == [("model", "model")]
    assert run["artifacts"][0]["files"] >= 2   # config.json + weights
