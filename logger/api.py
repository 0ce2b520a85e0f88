"""The module-level calls (``init``, ``log``, ``finish``) over the current run, and disabled mode.

Invariants: the current run is the one ``init`` returned last and is forgotten when it
finishes (``log`` after that warns and is ignored, as ``run.log`` does). ``log`` before
``init`` is wrong use and says so, except in disabled mode
(``RUNPAGES_MODE=disabled``), where every call is a no-op. A ``DisabledRun`` has the whole
``Run`` API, writes nothing, and still rejects a ``log`` call that is not given a dict.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable

from . import names, porting, schema, store   # store: stdlib only; fsspec is imported in its thread
from .mappings import Config, Summary, config_to_dict
from .run import Run, _not_a_dict
from .warn import Warner

_MODES = ("online", "offline", "disabled")
_RESUME = (None, "allow", "must")

_current: "Run | DisabledRun | None" = None
_last_finished: "Run | DisabledRun | None" = None
_current_lock = threading.RLock()   # re-entrant: a signal handler may finish a run


class DisabledRun:
    """What ``init`` returns in disabled mode: the same API, nothing written."""

    dir = None
    status = "disabled"
    step = 0

    def __init__(self, project: str = "default", name: str | None = None,
                 config: Any = None) -> None:
        self.project = project
        self.name = name or "disabled"
        self.id = "disabled"
        self.config = Config(config_to_dict(config))
        self.summary = Summary({})

    def log(self, values: Mapping[str, Any], step: int | None = None,
            commit: bool = True) -> None:
        if not isinstance(values, Mapping):
            raise TypeError(_not_a_dict("run.log()", values))

    def log_system(self, sample: Mapping[str, Any], time: float | None = None,
                   source: str | None = None) -> None:
        pass

    def define_metric(self, name: str, step_metric: str | None = None,
                      summary: str | None = None) -> None:
        pass

    def log_artifact(self, path: Any, name: str | None = None, type: str | None = None,
                     link: bool = False) -> None:
        return None

    def finish(self, status: str | None = None, reason: str | None = None) -> None:
        _forget(self)

    def __enter__(self) -> "DisabledRun":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.finish()
        return False

    def __repr__(self) -> str:
        return "<runpages DisabledRun>"


def init(project: str = "default", name: str | None = None, config: Any = None,
         tags: Any = None, notes: str | None = None, group: str | None = None,
         dir: str | os.PathLike | None = None, id: str | None = None,
         resume: str | None = None, system_metrics: bool = True,
         system_interval: float = schema.DEFAULT_SYSTEM_INTERVAL_S,
         capture_console: bool = True, mode: str = "online",
         clock: Callable[[], float] | None = None, meta: Mapping[str, Any] | None = None,
         save_code: bool = True, max_media_mb: float | None = schema.DEFAULT_MAX_MEDIA_MB,
         sync_interval: float = store.DEFAULT_SYNC_INTERVAL_S, **private: Any) -> Run | DisabledRun:
    """Start a run in ``<dir>/<project>/<run-id>/`` and make it the current one.

    ``dir`` defaults to ``$RUNPAGES_DIR``, else ``./runs``. A store URL (``s3://bucket/runs``)
    writes the run to a staging folder and uploads it every ``sync_interval`` seconds and at
    ``finish()`` (``logger/store.py``). ``mode="disabled"`` (or the
    environment variable ``RUNPAGES_MODE=disabled``) returns a run that writes nothing.
    ``clock`` supplies every timestamp and ``meta`` the descriptive meta.json fields (user,
    host, gpu, ...): see ``logger/run.py`` for writing past or simulated runs. ``save_code``
    saves the git diff, untracked file list, entry script and package list (``reproduce.py``);
    ``max_media_mb`` caps the media one run writes (``None``: no cap).
    """
    global _current
    resume = porting.resume_value(resume)
    wandb_meta, private = porting.split(dict(private))
    if mode not in _MODES:
        raise ValueError(f"runpages: mode must be one of {_MODES}; got {mode!r}.")
    if resume not in _RESUME:
        raise ValueError(f"runpages: resume must be None, 'allow' or 'must'; got {resume!r}.")
    if isinstance(tags, str):
        tags = [tags]
    if system_interval is None or not system_interval > 0:
        raise ValueError(f"runpages: system_interval must be a positive number of seconds; "
                         f"got {system_interval!r}.")
    unknown = set(private) - {"_gpu", "_read_host"}
    if unknown:
        raise TypeError(f"runpages: init() got unexpected arguments {sorted(unknown)}.")
    if mode == "disabled" or _env_disabled():
        run: Run | DisabledRun = DisabledRun(str(project), name, config)
    else:
        if dir is None:
            dir = os.environ.get("RUNPAGES_DIR") or "runs"
        store_url = None
        if isinstance(dir, str) and dir.lower().startswith("file://"):
            dir = dir[len("file://"):]
        elif store.is_store_url(dir):
            if sync_interval is None or not sync_interval > 0:
                raise ValueError(f"runpages: sync_interval must be a positive number of "
                                 f"seconds; got {sync_interval!r}.")
            store_url, dir = str(dir), store.staging_root()
            if id is not None and resume is not None:    # staged runs go once uploaded
                store.restore_for_resume(store_url, dir, names.safe_dir_name(str(project)), id,
                                         Warner())
        run = Run(project=project, name=name, config=config, tags=tags, notes=notes,
                  group=group, dir=dir, id=id, resume=resume,
                  system_metrics=bool(system_metrics), system_interval=float(system_interval),
                  capture_console=bool(capture_console), clock=clock or time.time,
                  meta=meta, save_code=bool(save_code), max_media_mb=max_media_mb,
                  **private)
        run._on_end = _forget
        if wandb_meta:  # W&B's entity / job_type: kept, shown nowhere yet
            run._files.update_meta(wandb=wandb_meta)
        if store_url is not None:
            uploader = store.start_uploader(run, store_url, dir, float(sync_interval))
            run.uploader = uploader

            def _end_and_upload(r: Any, _up=uploader) -> None:
                _up.finish()          # final upload + compaction, after the final meta.json
                _forget(r)
            run._on_end = _end_and_upload
    with _current_lock:
        _current = run
    return run


def current() -> "Run | DisabledRun | None":
    """The current run (``runpages.run``), or None when none is started."""
    return _current


def log(values: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
    """``run.log`` on the current run (the last one ``init`` started)."""
    run = _current or _last_finished
    if run is None:
        if _env_disabled():
            return
        raise RuntimeError("runpages: runpages.log() was called before runpages.init(); start a "
                           "run first: run = runpages.init(project='...').")
    run.log(values, step=step, commit=commit)


def define_metric(name: str, step_metric: str | None = None,
                  summary: str | None = None) -> None:
    """``run.define_metric`` on the current run (W&B's ``wandb.define_metric``)."""
    run = _current
    if run is None:
        raise RuntimeError("runpages: runpages.define_metric() was called before "
                           "runpages.init(); start a run first.")
    run.define_metric(name, step_metric=step_metric, summary=summary)


def finish(status: str | None = None, reason: str | None = None) -> None:
    """Finish the current run; nothing happens when there is none."""
    run = _current
    if run is not None:
        run.finish(status=status, reason=reason)


def _forget(run: Any) -> None:
    global _current, _last_finished
    with _current_lock:
        if _current is run:
            _current = None
            _last_finished = run  # a later runpages.log() warns like run.log() does


def _env_disabled() -> bool:
    return os.environ.get("RUNPAGES_MODE", "").strip().lower() == "disabled"
