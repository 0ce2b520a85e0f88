"""The module-level calls (``init``, ``log``, ``finish``) over the current run, and disabled mode.

Invariants: the current run is the one ``init`` returned last and is forgotten when it
finishes. ``log`` before ``init`` is wrong use and says so, except in disabled mode
(``RUNPAGES_MODE=disabled``), where every call is a no-op. A ``DisabledRun`` has the whole
``Run`` API, writes nothing, and still rejects a ``log`` call that is not given a dict.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable

from . import schema
from .mappings import Config, Summary, config_to_dict
from .run import Run, _not_a_dict

_MODES = ("online", "offline", "disabled")
_RESUME = (None, "allow", "must")

_current: "Run | DisabledRun | None" = None
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
         **private: Any) -> Run | DisabledRun:
    """Start a run in ``<dir>/<project>/<run-id>/`` and make it the current one.

    ``dir`` defaults to ``$RUNPAGES_DIR``, else ``./runs``. ``mode="disabled"`` (or the
    environment variable ``RUNPAGES_MODE=disabled``) returns a run that writes nothing.
    ``clock`` supplies every timestamp and ``meta`` the descriptive meta.json fields (user,
    host, gpu, ...): see ``logger/run.py`` for writing past or simulated runs.
    """
    global _current
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
        run = Run(project=project, name=name, config=config, tags=tags, notes=notes,
                  group=group, dir=dir, id=id, resume=resume,
                  system_metrics=bool(system_metrics), system_interval=float(system_interval),
                  capture_console=bool(capture_console), clock=clock or time.time,
                  meta=meta, **private)
        run._on_end = _forget
    with _current_lock:
        _current = run
    return run


def log(values: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
    """``run.log`` on the current run (the last one ``init`` started)."""
    run = _current
    if run is None:
        if _env_disabled():
            return
        raise RuntimeError("runpages: runpages.log() was called before runpages.init(); start a "
                           "run first: run = runpages.init(project='...').")
    run.log(values, step=step, commit=commit)


def finish(status: str | None = None, reason: str | None = None) -> None:
    """Finish the current run; nothing happens when there is none."""
    run = _current
    if run is not None:
        run.finish(status=status, reason=reason)


def _forget(run: Any) -> None:
    global _current
    with _current_lock:
        if _current is run:
            _current = None


def _env_disabled() -> bool:
    return os.environ.get("RUNPAGES_MODE", "").strip().lower() == "disabled"
