"""How a run ends: ``finish()``, an exception, a signal, the end of the process, a fork, or the
end of a ``with`` block.

Invariants: a run ends once (``_finish_lock``); ending stops the ticker and the sampler, writes
the open step, restores the console, closes every writer, then writes summary.json and the final
meta.json (status, exit, ended_at, duration_s). The first status set wins: a run marked killed
by a signal stays killed. Ending runs inside ``hooks.signals_held``: a SIGTERM/SIGINT arriving
meanwhile is handled once the run is finished (status ``finished``, every record written once);
a signal while another thread is finishing waits (bounded) for that thread to finish. ``finish(status=...)`` with a wrong status is wrong use and raises;
a failure while ending warns. The hooks (``hooks.py``) call ``on_exception``, ``on_signal``,
``on_exit`` and ``after_fork_in_child``.

``Ending`` is mixed into ``Run`` (``run.py``), which owns the state used here.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from . import hooks, schema

if TYPE_CHECKING:
    from .run import Run

_STATUSES_AT_END = (schema.FINISHED, schema.CRASHED, schema.KILLED)
_WAIT_FOR_OTHER_FINISH_S = 10.0   # a finish on another thread normally takes milliseconds


class Ending:
    """Finishing, crash, kill, exit and fork handling, and the context manager (part of ``Run``)."""

    def finish(self, status: str | None = None, reason: str | None = None) -> None:
        """Write everything and close the run. Safe to call twice.

        ``status`` defaults to ``"finished"``; a script that handles a failure itself may
        pass ``"crashed"`` or ``"killed"`` with a ``reason``.
        """
        if status is not None and status not in _STATUSES_AT_END:
            raise ValueError(f"runpages: finish(status=...) takes one of {_STATUSES_AT_END}; "
                             f"got {status!r}.")
        self._end(status, reason, None)

    def _end(self, status: str | None, reason: str | None, tb: str | None) -> None:
        with hooks.signals_held:
            with self._finish_lock:
                first = not self._finished
                self._finished = True
                if first:
                    self._ending_thread = threading.get_ident()
            if first:
                self._end_once(status, reason, tb)
            elif self._ending_thread != threading.get_ident():
                self._ended.wait(_WAIT_FOR_OTHER_FINISH_S)   # e.g. SIGTERM during a finish

    def _end_once(self, status: str | None, reason: str | None, tb: str | None) -> None:
        try:
            self._stop.set()
            if self._ticker is not threading.current_thread():
                self._ticker.join(2.0)
            if self._sampler is not None:
                self._sampler.stop()
            with self._lock:
                self._commit_pending()
            if self._media is not None:
                self._media.close()
            if self._code_thread is not None:     # a short script ends before git answers
                self._code_thread.join(15.0)
            if self._tees is not None:
                hooks.untee_console(self._tees)
            if status is not None:
                self._set_status(status, reason, tb)
            self._set_status(schema.FINISHED, reason or "finished", None)
            for w in (self._metrics, self._system, self._console, self._manifest):
                w.close()
            if self._folder_gone:
                self._write_config()    # meta and summary follow in any case
            self._write_summary()
            end = self._clock()
            with self._meta_lock:
                self._meta.update(status=self._status, exit=self._exit, ended_at=end,
                                  heartbeat_at=end,
                                  duration_s=round(max(0.0, end - self.started_at), 3))
                self._write_meta(final=True)
            self._warn.summarize()
        except Exception as exc:
            self._warn("finish", f"runpages: finishing run {self.id} failed ({exc!r}).")
        finally:
            self._release_writer_lock(unlink=True)
            self._ended.set()
            hooks.remove(self)
            if self._on_end is not None:
                self._on_end(self)

    def _release_writer_lock(self, unlink: bool = False) -> None:
        fd, self._writer_lock = self._writer_lock, None
        if fd is not None:
            if unlink:      # a finished run folder holds only the run's files
                try:
                    os.unlink(os.path.join(self.dir, schema.WRITER_LOCK_FILE))
                except OSError:
                    pass
            try:
                os.close(fd)    # drops the flock: the run may be resumed now
            except OSError:
                pass

    def _set_status(self, status: str, reason: str | None, tb: str | None) -> None:
        """The first status set wins: a run marked killed by a signal stays killed."""
        if self._status == schema.RUNNING:
            self._status = status
            self._exit = {"reason": reason, "traceback": tb}

    # called by hooks ------------------------------------------------------------------------
    def on_exception(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._end(schema.KILLED, "KeyboardInterrupt", None)
            return
        import traceback  # noqa: PLC0415
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        reason = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        if self._tees is not None and not self._finished:
            self._console.append(text)  # printed after the tee is gone; keep it in the run too
        self._end(schema.CRASHED, reason, text)

    def on_signal(self, signum: int) -> None:
        import signal  # noqa: PLC0415
        if self._finished:
            return      # finish() ran (or runs on another thread) and writes the final state
        self._set_status(schema.KILLED, signal.Signals(signum).name, None)
        with self._meta_lock:
            self._meta.update(status=self._status, exit=self._exit,
                              heartbeat_at=self._clock())
        with self._lock:
            self._commit_pending()
        self._flush()
        self._write_summary()
        self._write_meta()

    def after_fork_in_child(self) -> None:
        """A forked child shares nothing with the run: fresh locks, tee off, calls ignored."""
        self._lock = threading.RLock()
        self._meta_lock = threading.RLock()
        self._finish_lock = threading.Lock()
        self._finished = True
        self._ended = threading.Event()
        self._ended.set()       # nothing to wait for: the parent owns the ending
        self._release_writer_lock()   # the parent's lock stays held through its own fd
        for w in (self._metrics, self._system, self._console, self._manifest):
            w.after_fork_in_child()
        if self._tees is not None:
            for tee in self._tees:
                tee.active = False

    def on_exit(self) -> None:
        self._end(None, "process exited", None)

    # ---- context manager ------------------------------------------------------------------
    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self._end(None, None, None)
        elif issubclass(exc_type, SystemExit) and exc.code in (None, 0):
            self._end(None, "sys.exit(0)", None)
        elif issubclass(exc_type, SystemExit):
            self._end(schema.CRASHED, f"sys.exit({exc.code!r})", None)
        else:
            self.on_exception(exc_type, exc, tb)
        return False
