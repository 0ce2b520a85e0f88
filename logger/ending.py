"""How a run ends, once: ``finish()``, an exception, a signal, the end of the process, a fork,
or the end of a ``with`` block all come here through the ``Run``.

Invariants: a run ends once (``_finish_lock``); ending winds the run down (ticker, sampler, the
open step, media, console tee), then seals it (every writer closed, summary.json and the final
meta.json with status, exit, ended_at, duration_s). The first status set wins: a run marked
killed by a signal stays killed. Ending runs inside ``hooks.signals_held``: a SIGTERM/SIGINT
arriving meanwhile is handled once the run is finished (status ``finished``, every record
written once); a signal while another thread is finishing waits (bounded) for that thread. A
failure while ending warns.

``Lifecycle`` is one part of a ``Run``; it knows the run only through the callables it is given.
"""
from __future__ import annotations

import threading
from typing import Callable

from . import hooks, schema
from .warn import Warner

STATUSES_AT_END = (schema.FINISHED, schema.CRASHED, schema.KILLED)
_WAIT_FOR_OTHER_FINISH_S = 10.0   # a finish on another thread normally takes milliseconds


class Lifecycle:
    """A run's status and its one ending. ``wind_down()`` stops what writes; ``seal(status,
    exit)`` writes the final files; ``release()`` lets go of the folder (always runs);
    ``after()`` runs last, once the ending is visible (e.g. the store's last upload)."""

    def __init__(self, *, warn: Warner, name: str, wind_down: Callable[[], None],
                 seal: Callable[[str, dict | None], None], release: Callable[[], None]) -> None:
        self.status = schema.RUNNING
        self.exit: dict | None = None
        self.finished = False
        self.after: Callable[[], None] | None = None
        self._warn, self._name = warn, name
        self._wind_down, self._seal, self._release = wind_down, seal, release
        self._finish_lock = threading.Lock()
        self._ended = threading.Event()         # set once ending has written everything
        self._ending_thread: int | None = None

    def end(self, status: str | None, reason: str | None, tb: str | None) -> None:
        """End the run (once; a second call from another thread waits for the first)."""
        with hooks.signals_held:
            with self._finish_lock:
                first = not self.finished
                self.finished = True
                if first:
                    self._ending_thread = threading.get_ident()
            if first:
                self._end_once(status, reason, tb)
            elif self._ending_thread != threading.get_ident():
                self._ended.wait(_WAIT_FOR_OTHER_FINISH_S)   # e.g. SIGTERM during a finish

    def _end_once(self, status: str | None, reason: str | None, tb: str | None) -> None:
        try:
            self._wind_down()
            if status is not None:
                self.set_status(status, reason, tb)
            self.set_status(schema.FINISHED, reason or "finished", None)
            self._seal(self.status, self.exit)
            self._warn.summarize()
        except Exception as exc:
            self._warn("finish", f"runpages: finishing run {self._name} failed ({exc!r}).")
        finally:
            try:
                self._release()
            finally:
                self._ended.set()
                if self.after is not None:
                    self.after()

    def set_status(self, status: str, reason: str | None, tb: str | None) -> None:
        """The first status set wins: a run marked killed by a signal stays killed."""
        if self.status == schema.RUNNING:
            self.status = status
            self.exit = {"reason": reason, "traceback": tb}

    def after_fork_in_child(self) -> None:
        """A forked child shares nothing with the run: it counts as ended there."""
        self._finish_lock = threading.Lock()
        self.finished = True
        self._ended = threading.Event()
        self._ended.set()       # nothing to wait for: the parent owns the ending
