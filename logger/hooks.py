"""Process-wide hooks that end runs honestly: excepthook, SIGTERM/SIGINT, atexit, console tee.

Invariants:
* Hooks are installed once, when the first live run starts, and removed when the last one
  finishes, only where they are still ours (something installed later is left alone).
* ``sys.excepthook``: every live run is marked ``crashed`` with the traceback (``killed`` for
  KeyboardInterrupt) and finished, then the previous hook runs (the traceback still prints).
* SIGTERM / SIGINT (installed from the main thread only, never over ``SIG_IGN``): every live
  run is marked ``killed`` and its records flushed, then the previous behaviour proceeds:
  a Python handler is called (SIGINT's default raises KeyboardInterrupt); ``SIG_DFL`` finishes
  the runs and re-raises the signal so the process dies exactly as it would have.
* A signal handler runs on the main thread between two bytecodes of whatever it was doing.
  Code that must not be cut in half there (a flush between taking the buffer and writing it,
  an atomic rewrite, ``finish()``) runs inside ``signals_held``: a signal arriving then is
  queued with the handler that was current, and handled the moment the outermost such block
  ends. So a record is never written twice (the handler re-sending bytes the interrupted
  write already sent) nor lost (the handler killing the process while the buffer sat in the
  interrupted frame), and a run being finished is finished before the process dies.
* ``atexit``: a run not finished is finished (status kept if a hook set one).
* Forked children (DataLoader workers) inherit the objects but never act: hooks check the pid.
* The console tee writes to the terminal first and copies to the run after; copying can
  never raise into ``print``.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import Any, Callable

_SIGNALS = ("SIGTERM", "SIGINT")

_lock = threading.RLock()
_live: list[Any] = []               # runs with .on_exception / .on_signal / .on_exit / ._pid
_prev_excepthook: Callable | None = None
_prev_signals: dict[int, Any] = {}
_atexit_registered = False
_main_ident = threading.main_thread().ident   # signal handlers run on this thread only
_held = 0                                     # main thread's depth inside ``signals_held``
_deferred: list[tuple[int, Any]] = []         # (signum, handler then current) held back


class _SignalsHeld:
    """``with signals_held:`` defers SIGTERM/SIGINT handling on the main thread to its end.

    Other threads pass straight through (signals never interrupt them). Cheap: no objects,
    two integer updates; nested blocks deliver once, at the outermost end.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global _held
        if threading.get_ident() == _main_ident:
            _held += 1

    def __exit__(self, *exc: Any) -> bool:
        global _held
        if threading.get_ident() == _main_ident:
            _held -= 1      # first, so a signal from here on is handled directly
            if not _held and _deferred:
                _deliver_deferred()
        return False


signals_held = _SignalsHeld()


def _deliver_deferred() -> None:
    while _deferred:
        signum, prev = _deferred.pop(0)
        _handle_signal(signum, prev, None)


def add(run: Any) -> None:
    global _atexit_registered
    with _lock:
        if not _live:
            _install()
        _live.append(run)
        if not _atexit_registered:
            atexit.register(_at_exit)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=_after_fork_in_child)
            _atexit_registered = True


def remove(run: Any) -> None:
    with _lock:
        if run in _live:
            _live.remove(run)
        if not _live:
            _uninstall()


def _mine() -> list[Any]:
    pid = os.getpid()
    with _lock:
        return [r for r in _live if r._pid == pid]


def _install() -> None:
    global _prev_excepthook
    _prev_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    if threading.current_thread() is not threading.main_thread():
        return
    for name in _SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            prev = signal.getsignal(signum)
            if prev is signal.SIG_IGN or prev is None:
                continue  # ignored (e.g. `cmd &` ignores SIGINT) or set from C: leave it be
            signal.signal(signum, _on_signal)
            _prev_signals[signum] = prev
        except (ValueError, OSError):
            pass


def _uninstall() -> None:
    global _prev_excepthook
    if sys.excepthook is _excepthook and _prev_excepthook is not None:
        sys.excepthook = _prev_excepthook
    _prev_excepthook = None
    if threading.current_thread() is threading.main_thread():
        for signum, prev in list(_prev_signals.items()):
            try:
                if signal.getsignal(signum) is _on_signal:
                    signal.signal(signum, prev)
            except (ValueError, OSError):
                pass
    _prev_signals.clear()


def _excepthook(exc_type, exc, tb) -> None:
    prev = _prev_excepthook or sys.__excepthook__
    for run in _mine():
        try:
            run.on_exception(exc_type, exc, tb)
        except Exception:
            pass
    prev(exc_type, exc, tb)


def _on_signal(signum, frame) -> None:
    # the previous handler is looked up now: by the time a held signal is delivered the
    # last run may have finished and put it back
    prev = _prev_signals.get(signum, signal.SIG_DFL)
    if _held:       # the main thread is inside a write or finish(): let it complete first
        _deferred.append((signum, prev))
        return
    _handle_signal(signum, prev, frame)


def _handle_signal(signum: int, prev: Any, frame: Any) -> None:
    runs = _mine()
    with signals_held:      # a second signal waits until these runs are written
        for run in runs:
            try:
                run.on_signal(signum)
            except Exception:
                pass
    if callable(prev):
        prev(signum, frame)
        return
    # SIG_DFL: finish, restore the default and die by the same signal
    with signals_held:
        for run in runs:
            try:
                run.on_exit()
            except Exception:
                pass
    try:
        signal.signal(signum, signal.SIG_DFL)
    except (ValueError, OSError):
        pass
    os.kill(os.getpid(), signum)


def _after_fork_in_child() -> None:
    global _lock, _main_ident, _held
    _lock = threading.RLock()   # the parent's lock may have been held at fork time
    _main_ident = threading.get_ident()   # the forking thread is the child's main thread
    _held = 0
    _deferred.clear()
    for run in list(_live):
        try:
            run.after_fork_in_child()
        except Exception:
            pass


def _at_exit() -> None:
    for run in _mine():
        try:
            run.on_exit()
        except Exception:
            pass


class ConsoleTee:
    """Stands in for ``sys.stdout``/``sys.stderr``: the terminal first, then the run's copy."""

    def __init__(self, stream: Any, sink: Callable[[str], None]) -> None:
        self._stream = stream
        self._sink = sink
        self.active = True

    def write(self, text: str) -> int:
        n = self._stream.write(text)
        if self.active:
            try:
                self._sink(text)
            except Exception:
                pass
        return n

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _stream_handlers() -> list[Any]:
    """``logging`` handlers that hold a stream; only when the script already uses logging."""
    logging = sys.modules.get("logging")
    if logging is None:
        return []
    loggers = [logging.getLogger()] + [
        lg for lg in list(logging.Logger.manager.loggerDict.values())
        if isinstance(lg, logging.Logger)]
    return [h for lg in loggers for h in list(lg.handlers)
            if isinstance(h, logging.StreamHandler) and hasattr(h, "setStream")]


def tee_console(sink: Callable[[str], None]) -> tuple[ConsoleTee, ConsoleTee]:
    """Tee ``sys.stdout``/``sys.stderr`` into ``sink``.

    ``logging.basicConfig()`` before ``init`` holds the old ``sys.stderr``: such stream
    handlers are pointed at the tee too (and back at finish), so log lines reach console.log.
    Output written by C code or child processes straight to file descriptors 1/2 is not copied.
    """
    out, err = ConsoleTee(sys.stdout, sink), ConsoleTee(sys.stderr, sink)
    for handler in _stream_handlers():
        try:
            if handler.stream is out._stream:
                handler.setStream(out)
            elif handler.stream is err._stream:
                handler.setStream(err)
        except Exception:
            pass
    sys.stdout, sys.stderr = out, err
    return out, err


def untee_console(tees: tuple[ConsoleTee, ConsoleTee]) -> None:
    out, err = tees
    out.active = err.active = False
    if sys.stdout is out:
        sys.stdout = out._stream
    if sys.stderr is err:
        sys.stderr = err._stream
    for handler in _stream_handlers():
        try:
            if handler.stream is out or handler.stream is err:
                handler.setStream(handler.stream._stream)
        except Exception:
            pass
