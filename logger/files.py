"""Keeping a run's files current while it trains: the rewritten files (meta.json, config.json,
summary.json) and the ticker thread behind them.

Invariants: the ticker (``_tick``, thread "runpages-flush") writes the JSONL buffers every
``FLUSH_INTERVAL_S`` on a monotonic schedule (tick k is due at start + k intervals, so a slow
flush or a busy CPU delays one tick without pushing every later one back) and rewrites
``meta.json`` (``heartbeat_at``) and a changed ``summary.json`` every ``HEARTBEAT_INTERVAL_S``;
a failure there warns and is retried on the next tick. When a writer finds the run folder
deleted, the next tick writes meta.json, config.json and summary.json again. Rewritten
files land by temp name + rename (``writer.atomic_write``); once the run is finished only the
final meta.json write lands. The git dirty check runs once, in its own thread ("runpages-git"),
and adds ``dirty`` to meta.json's ``git``.

``Files`` is mixed into ``Run`` (``run.py``), which owns the state used here: ``dir``, ``config``,
``summary``, ``_meta`` and its ``_meta_lock``, ``_lock``, ``_summary_dirty``, ``_finished``,
``_clock``, ``_warn``, ``_stop``, ``_heartbeat_interval`` and the four JSONL writers.
"""
from __future__ import annotations

import os
import time

from . import host, schema
from .encode import clean_line, dumps, needs_surrogate_check, to_json_tree
from .writer import atomic_write


class Files:
    """The run's rewritten files and its background ticker (part of ``Run``)."""

    def _json_line(self, value) -> str:
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

    def _write_meta(self, final: bool = False) -> None:
        """Rewrite meta.json; once the run is finished only the final write lands."""
        with self._meta_lock:
            if self._finished and not final:
                return
            atomic_write(os.path.join(self.dir, schema.META_FILE),
                         self._json_line(to_json_tree(self._meta)) + "\n", self._warn,
                         self._on_folder_gone)

    def _write_config(self) -> None:
        atomic_write(os.path.join(self.dir, schema.CONFIG_FILE),
                     self._json_line(to_json_tree(self.config.as_dict())) + "\n", self._warn,
                     self._on_folder_gone)

    def _on_folder_gone(self) -> None:
        self._folder_gone = True    # the ticker writes every rewritten file again

    def _rewrite_all(self) -> None:
        self._folder_gone = False
        self._write_meta()
        self._write_config()
        self._write_summary()

    def _mark_summary(self) -> None:
        self._summary_dirty = True

    def _write_summary(self) -> None:
        with self._lock:
            self._summary_dirty = False
            data = self.summary.as_dict()
        atomic_write(os.path.join(self.dir, schema.SUMMARY_FILE),
                     self._json_line(to_json_tree(data)) + "\n", self._warn, self._on_folder_gone)

    def _flush(self) -> None:
        for w in (self._metrics, self._system, self._console, self._manifest):
            w.flush()

    def _heartbeat(self) -> None:
        with self._meta_lock:
            self._meta["heartbeat_at"] = self._clock()
        self._write_meta()
        if self._summary_dirty:
            self._write_summary()

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
                self._flush()
                if self._folder_gone:
                    self._rewrite_all()
                if time.monotonic() - last_beat >= self._heartbeat_interval:
                    last_beat = time.monotonic()
                    self._heartbeat()
            except Exception as exc:
                self._warn("tick:" + type(exc).__name__,
                           f"runpages: background writing failed ({exc!r}); retrying.")

    def _describe_git(self) -> None:
        git = self._meta.get("git")
        if not git:
            return
        dirty = host.git_dirty(self._meta.get("cwd"))
        with self._meta_lock:
            self._meta["git"] = {**git, "dirty": dirty}
            self._write_meta()
