"""Keras 3 (any backend): ``model.fit(..., callbacks=[RunpagesKerasCallback(project="mnist")])``.

Logs every batch's metrics as ``batch/<name>`` at a global batch step and every epoch's as
``epoch/<name>`` (validation keeps Keras's ``val_`` spelling) with ``epoch`` at the step the
epoch ended; the config gets the fit parameters (``fit``: epochs, steps), the optimizer's
config and the model's name and parameter count. ``log_every_n_batches`` thins the batch
records (0: epochs only). The run is finished at train end; a second ``fit`` reopens it.
"""
from __future__ import annotations

import os
from typing import Any

from . import missing
from .session import LazyRun

try:
    import keras
except ImportError as _error:
    raise missing("Keras 3", "keras", _error) from None


def _scalars(logs: dict | None, prefix: str) -> dict:
    out = {}
    for k, v in (logs or {}).items():
        try:
            out[prefix + k] = float(v)
        except (TypeError, ValueError):
            out[prefix + k] = v
    return out


class RunpagesKerasCallback(keras.callbacks.Callback):
    """Writes ``fit`` metrics to a runpages run (``runpages.init`` arguments pass through)."""

    def __init__(self, project: str = "keras", name: str | None = None,
                 dir: str | os.PathLike | None = None, config: dict | None = None,
                 tags: Any = None, notes: str | None = None, log_every_n_batches: int = 1,
                 **init_kwargs: Any) -> None:
        super().__init__()
        self._lazy = LazyRun(project=project, name=name, dir=dir, tags=tags, notes=notes,
                             **init_kwargs)
        self._user_config = dict(config or {})
        self._every = int(log_every_n_batches)
        self._step = 0

    @property
    def run(self) -> Any:
        return self._lazy.run

    def on_train_begin(self, logs: dict | None = None) -> None:
        config: dict = {**self._user_config, "fit": dict(self.params or {})}
        model = self.model
        if model is not None:
            config["model"] = {"name": model.name}
            try:
                config["model"]["num_parameters"] = int(model.count_params())
            except Exception:  # noqa: BLE001 (not built yet)
                pass
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None:
                try:
                    config["optimizer"] = {"class": type(optimizer).__name__,
                                           **optimizer.get_config()}
                except Exception:  # noqa: BLE001
                    config["optimizer"] = {"class": type(optimizer).__name__}
        run = self._lazy.get(name=model.name if model is not None else None, config=config)
        if self._lazy.started and run.config.get("fit") != config["fit"]:
            run.config.update(config)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._step += 1
        if self._every > 0 and self._step % self._every == 0:
            self._lazy.get().log(_scalars(logs, "batch/"), step=self._step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        values = _scalars(logs, "epoch/")
        values["epoch"] = epoch
        self._lazy.get().log(values, step=self._step)

    def on_train_end(self, logs: dict | None = None) -> None:
        run = self._lazy.get()
        for k, v in _scalars(logs, "").items():
            run.summary[f"final/{k}"] = v
        self._lazy.finish()
