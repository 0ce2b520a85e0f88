"""A run folder's files while the run trains: the four JSONL writers, the rewritten files
(meta.json, config.json, summary.json) and the ticker thread that keeps them current.

Invariants: the ticker (thread "runpages-flush") writes the JSONL buffers every
``FLUSH_INTERVAL_S`` on a monotonic schedule (tick k is due at start + k intervals, so a slow
flush or a busy CPU delays one tick without pushing every later one back) and rewrites
``meta.json`` (``heartbeat_at``) and a changed ``summary.json`` every ``heartbeat_interval``;
a failure there warns and is retried on the next tick. When a writer finds the run folder
deleted, the next tick writes meta.json, config.json and summary.json again. Rewritten
files land by temp name + rename (``writer.atomic_write``); once ``sealed`` only the final
meta.json write lands. The git dirty check runs once, in its own thread ("runpages-git"),
and adds ``dirty`` to meta.json's ``git``.

``RunFiles`` is one part of a ``Run`` (``run.py``); it knows the run only through the two
callables it is given: the config and the summary as plain dicts.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

from . import host, schema
from .encode import clean_line, dumps, needs_surrogate_check, to_json_tree
from .warn import Warner
from .writer import JsonlWriter, atomic_write


class RunFiles:
    """The files of one run folder. ``meta`` is the live meta.json dict (changed under
    ``meta_lock``); ``config_dict`` / ``summary_dict`` return what config.json and
    summary.json should hold now."""

    def __init__(self, dir: str, meta: dict[str, Any], warn: Warner, clock: Callable[[], float],
                 config_dict: Callable[[], dict], summary_dict: Callable[[], dict]) -> None:
        self.dir = dir
        self.meta = meta
        self.meta_lock = threading.RLock()
        self.heartbeat_interval = schema.HEARTBEAT_INTERVAL_S
        self.sealed = False             # the run is finished: only the final meta.json lands
        self.summary_dirty = False
        self._folder_gone = False       # set when a write found the run folder deleted
        self._warn, self._clock = warn, clock
        self._config_dict, self._summary_dict = config_dict, summary_dict
        gone = self._on_folder_gone
        self.metrics = JsonlWriter(os.path.join(dir, schema.METRICS_FILE), warn, on_gone=gone)
        self.system = JsonlWriter(os.path.join(dir, schema.SYSTEM_FILE), warn, on_gone=gone)
        self.console = JsonlWriter(os.path.join(dir, schema.CONSOLE_FILE), warn, newline=False,
                                   on_gone=gone)
        self.manifest = JsonlWriter(os.path.join(dir, schema.ARTIFACTS_DIR, schema.ARTIFACT_MANIFEST),
                                    warn, on_gone=gone)
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def writers(self) -> tuple[JsonlWriter, ...]:
        return (self.metrics, self.system, self.console, self.manifest)

    def json_line(self, value) -> str:
        """``dumps(value)``, lone surrogates replaced (one warning): never a line that strict
        readers reject. The substring test keeps this free for ordinary lines."""
        line = dumps(value)
        if needs_surrogate_check(line):
            line, changed = clean_line(line)
            if changed:
                self._warn("surrogates", "runpages: text with lone surrogates (not valid Unicode, "
                                         "e.g. from a bad decode) was logged; each is written as "
                                         "U+FFFD, training continues.")
        return line

    # ---- the rewritten files --------------------------------------------------------------
    def write_meta(self, final: bool = False) -> None:
        """Rewrite meta.json; once sealed only the final write lands."""
        with self.meta_lock:
            if self.sealed and not final:
                return
            self._rewrite(schema.META_FILE, self.meta)

    def update_meta(self, **fields: Any) -> None:
        """Set meta.json fields and write it."""
        with self.meta_lock:
            self.meta.update(fields)
            self.write_meta()

    def write_config(self) -> None:
        self._rewrite(schema.CONFIG_FILE, self._config_dict())

    def write_summary(self) -> None:
        self.summary_dirty = False
        self._rewrite(schema.SUMMARY_FILE, self._summary_dict())

    def _rewrite(self, name: str, data: dict) -> None:
        atomic_write(os.path.join(self.dir, name), self.json_line(to_json_tree(data)) + "\n",
                     self._warn, self._on_folder_gone)

    def _on_folder_gone(self) -> None:
        self._folder_gone = True    # the ticker writes every rewritten file again

    def start(self, describe_git: bool = True) -> None:
        """Write the first meta, config and summary, create the JSONL files, start the ticker
        (and, with ``describe_git``, the one git dirty check)."""
        self.write_meta()
        self.write_config()
        self.write_summary()
        self.metrics.touch()
        self.system.touch()
        self._ticker = threading.Thread(target=self._tick, name="runpages-flush", daemon=True)
        self._ticker.start()
        if describe_git and self.meta.get("git"):
            threading.Thread(target=self._describe_git, name="runpages-git", daemon=True).start()

    # ---- the ticker -----------------------------------------------------------------------
    def flush(self) -> None:
        for w in self.writers:
            w.flush()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the ticker (waits for a tick in progress unless called from the ticker)."""
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout)

    def close(self) -> None:
        """Write and close every JSONL file; rewrite config.json if the folder was deleted
        (meta and summary are written by the ending in any case)."""
        for w in self.writers:
            w.close()
        if self._folder_gone:
            self.write_config()

    def after_fork_in_child(self) -> None:
        self.meta_lock = threading.RLock()
        for w in self.writers:
            w.after_fork_in_child()

    def _heartbeat(self) -> None:
        with self.meta_lock:
            self.meta["heartbeat_at"] = self._clock()
        self.write_meta()
        if self.summary_dirty:
            self.write_summary()

    def _tick(self) -> None:
        period = schema.FLUSH_INTERVAL_S
        last_beat = due = time.monotonic()
        while True:
            due += period
            now = time.monotonic()
            if due < now:           # more than a whole interval late: start the grid again
                due = now
            if self._stop.wait(due - now):
                return
            try:
                self.flush()
                if self._folder_gone:
                    self._folder_gone = False
                    self.write_meta()
                    self.write_config()
                    self.write_summary()
                if time.monotonic() - last_beat >= self.heartbeat_interval:
                    last_beat = time.monotonic()
                    self._heartbeat()
            except Exception as exc:
                self._warn("tick:" + type(exc).__name__,
                           f"runpages: background writing failed ({exc!r}); retrying.")

    def _describe_git(self) -> None:
        git = self.meta.get("git")
        if not git:
            return
        dirty = host.git_dirty(self.meta.get("cwd"))
        with self.meta_lock:
            self.meta["git"] = {**git, "dirty": dirty}
            self.write_meta()
