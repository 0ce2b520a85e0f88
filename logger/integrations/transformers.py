"""Hugging Face Transformers: ``Trainer(..., callbacks=[RunpagesCallback(project="glue")])``.

At train begin the config gets the training arguments (``args``) and the model's config
(``model``); every ``on_log`` is logged at the global step with HF's keys split by prefix
(``eval_loss`` → ``eval/loss``, ``loss`` → ``train/loss``, ``epoch`` kept); the totals HF logs
once at the end (``train_runtime``, ``train_loss``, ...) and the best metric go to the summary;
the run is finished at train end (a later ``trainer.evaluate()`` reopens it). With
``log_model=True`` the final model (``save_pretrained``) is logged as an artifact. Only the
main process writes. Pass ``report_to="none"`` to stop HF adding its other trackers.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from . import missing
from ..importers.trainer_state import is_totals, split_key
from .session import LazyRun

try:
    from transformers import TrainerCallback
except ImportError as _error:
    raise missing("Hugging Face Transformers", "transformers", _error) from None


class RunpagesCallback(TrainerCallback):
    """Writes the Trainer's logs to a runpages run (``runpages.init`` arguments pass through)."""

    def __init__(self, project: str = "transformers", name: str | None = None,
                 dir: str | os.PathLike | None = None, tags: Any = None,
                 notes: str | None = None, log_model: bool = False,
                 **init_kwargs: Any) -> None:
        self._lazy = LazyRun(project=project, name=name, dir=dir, tags=tags, notes=notes,
                             **init_kwargs)
        self._log_model = log_model

    @property
    def run(self) -> Any:
        """The runpages run, once training has begun (None before)."""
        return self._lazy.run

    def _start(self, args: Any, state: Any, model: Any) -> Any:
        config: dict = {}
        try:
            config["args"] = args.to_dict()
        except Exception:  # noqa: BLE001 (a custom args object: keep going without it)
            config["args"] = {}
        model_config = getattr(model, "config", None)
        if model_config is not None and hasattr(model_config, "to_dict"):
            config["model"] = model_config.to_dict()
        if model is not None and hasattr(model, "num_parameters"):
            config["model_num_parameters"] = model.num_parameters()
        run_name = getattr(args, "run_name", None)
        output_dir = getattr(args, "output_dir", None)
        name = run_name if run_name and run_name != output_dir else (
            os.path.basename(os.path.normpath(output_dir)) if output_dir else None)
        return self._lazy.get(name=name, config=config)

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self._start(args, state, model)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None,
               model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        run = self._start(args, state, model)
        if is_totals(logs):
            for k, v in logs.items():
                if k != "epoch":
                    run.summary[split_key(k)] = v
            return
        run.log({split_key(k): v for k, v in logs.items()}, step=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None,
                     **kwargs: Any) -> None:
        if not state.is_world_process_zero or not self._lazy.started:
            return
        run = self._lazy.get()
        run.summary["global_step"] = state.global_step
        if state.best_metric is not None:
            run.summary["best_metric"] = state.best_metric
        if state.best_model_checkpoint:
            run.summary["best_model_checkpoint"] = state.best_model_checkpoint
        if self._log_model and model is not None and hasattr(model, "save_pretrained"):
            with tempfile.TemporaryDirectory(prefix="runpages-model-") as tmp:
                model.save_pretrained(tmp)
                run.log_artifact(tmp, name="model", type="model")
        self._lazy.finish()
