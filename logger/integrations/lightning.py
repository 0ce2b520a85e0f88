"""PyTorch Lightning: ``Trainer(logger=RunpagesLogger(project="mnist", name="lr-3e-4"))``.

A Lightning ``Logger``: ``log_hyperparams`` fills the run's config, ``log_metrics`` logs at
Lightning's global step (train and validation share it, keys keep Lightning's names),
``finalize`` finishes the run, ``experiment`` is the runpages run and
``version`` its id. ``log_checkpoints=True`` logs the best and last checkpoints as artifacts when
training ends, ``"all"`` each checkpoint as it is saved. Only rank zero writes. Works with the
``lightning`` package and the older ``pytorch_lightning`` one.

A failed ``fit`` ends the run like a crashed script: Lightning calls ``finalize("failed")`` from
inside its ``except`` block, so the exception in flight is handed to the run's own exception
hook (status ``crashed``, the exception line as the reason, the traceback in the ending and in
``console.log``; Ctrl+C → ``killed``). A fit that fails before anything was logged still leaves
that crashed run.
"""
from __future__ import annotations

import os
import sys
from argparse import Namespace
from typing import Any, Mapping

from .. import schema
from . import missing
from .session import LazyRun

try:
    from lightning.fabric.utilities.logger import _convert_params, _sanitize_callable_params
    from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
    from lightning.pytorch.utilities import rank_zero_only
except ImportError as _lightning_error:
    try:
        from lightning_fabric.utilities.logger import _convert_params, _sanitize_callable_params
        from pytorch_lightning.loggers.logger import Logger, rank_zero_experiment
        from pytorch_lightning.utilities import rank_zero_only
    except ImportError:
        raise missing("PyTorch Lightning", "lightning", _lightning_error) from None


class RunpagesLogger(Logger):
    """Lightning logger that writes a runpages run (``runpages.init`` arguments pass through)."""

    def __init__(self, project: str = "lightning", name: str | None = None,
                 dir: str | os.PathLike | None = None, config: Mapping | None = None,
                 tags: Any = None, notes: str | None = None,
                 log_checkpoints: bool | str = False, **init_kwargs: Any) -> None:
        super().__init__()
        self._project = project
        self._name = name
        self._log_checkpoints = log_checkpoints
        self._logged_checkpoints: set[str] = set()
        self._checkpoint_callback: Any = None
        self._lazy = LazyRun(project=project, name=name, dir=dir, config=config, tags=tags,
                             notes=notes, **init_kwargs)

    # ---- Lightning's Logger interface -------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name or self._project

    @property
    def version(self) -> str:
        run_id = getattr(self.experiment, "id", None)   # a dummy experiment off rank zero
        return run_id if isinstance(run_id, str) else ""

    @property
    def save_dir(self) -> str | None:
        return None  # checkpoints go to Trainer(default_root_dir)/<name>/<run id>/checkpoints

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The runpages run (started on first use; after ``finalize`` the finished run)."""
        return self._lazy.get(reopen=False)

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any,
                        **kwargs: Any) -> None:
        params = _sanitize_callable_params(_convert_params(params))
        if params:
            self._lazy.get().config.update(dict(params))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self._lazy.get().log(dict(metrics), step=step)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self._checkpoint_callback = checkpoint_callback
        if self._log_checkpoints == "all":
            self._log_checkpoint_files(checkpoint_callback, every=True)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if status == "failed":
            self._fail(*sys.exc_info())
            return
        if not self._lazy.started:
            return
        if self._log_checkpoints and self._checkpoint_callback:
            self._log_checkpoint_files(self._checkpoint_callback, every=False)
        self._lazy.finish()

    def _fail(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:        # "failed" with no exception in flight: say what we know
            if self._lazy.started:
                self._lazy.finish("crashed", "Lightning reported the run failed")
            return
        run = self._lazy.get()
        if run.status == schema.RUNNING:
            run.on_exception(exc_type, exc, tb)     # as the excepthook does for a script

    # ---- checkpoints ------------------------------------------------------------------------
    def _log_checkpoint_files(self, callback: Any, every: bool) -> None:
        paths = [getattr(callback, "best_model_path", ""), getattr(callback, "last_model_path", "")]
        if every:
            paths.append(getattr(callback, "_last_checkpoint_saved", ""))
        run = self._lazy.get()
        for path in paths:
            if path and os.path.isfile(path) and path not in self._logged_checkpoints:
                self._logged_checkpoints.add(path)
                run.log_artifact(path, name=os.path.basename(path), type="checkpoint")
