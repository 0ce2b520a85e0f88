"""One warning per cause: what failed and what happens next, never an exception.

After ``init`` the logger must not raise into the training script, so even emitting a warning
is guarded: a ``warnings`` filter set to ``"error"`` falls back to a plain stderr line.
Causes repeat (a value that cannot be encoded, every step); only the first is shown, and
``summarize()`` at finish folds the repeats into one line with a count.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings


class RunpagesWarning(UserWarning):
    """Something the logger could not do; the run goes on without it."""


class Warner:
    """Per-run memory of which causes were already reported."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._first: dict[str, str] = {}
        self._lock = threading.RLock()   # re-entrant: a signal handler may warn mid-warning

    def __call__(self, cause: str, message: str) -> None:
        with self._lock:
            n = self._counts.get(cause, 0)
            self._counts[cause] = n + 1
            if n == 0:
                self._first[cause] = message
        if n == 0:
            emit(message)

    def summarize(self) -> None:
        """One line for every cause that happened more than once."""
        repeated = {c: n for c, n in self._counts.items() if n > 1}
        if repeated:
            parts = "; ".join(f"{_headline(self._first[c])} ({n} times)"
                              for c, n in repeated.items())
            emit(f"runpages: warnings repeated in this run: {parts}.")


def _headline(message: str) -> str:
    """The first clause of a warning, without the prefix: what failed, not what happens next."""
    text = message.removeprefix("runpages:").strip()
    for stop in ("; ", " ("):
        text = text.split(stop, 1)[0]
    return text


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller() -> tuple[str, int, dict]:
    """The first frame outside this package: the user's line for a call like ``log()``."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if os.path.dirname(os.path.abspath(filename)) != _PACKAGE_DIR:
            return filename, frame.f_lineno, frame.f_globals
        frame = frame.f_back
    return "runpages", 0, {}


def emit(message: str) -> None:
    if not message.startswith("runpages:"):
        message = "runpages: " + message
    try:
        if threading.current_thread() is threading.main_thread():
            filename, lineno, globs = _caller()
        else:  # a background thread: no user line to point at
            filename, lineno, globs = "runpages", 0, {}
        warnings.warn_explicit(message, RunpagesWarning, filename, lineno,
                               module=globs.get("__name__", "runpages"))
    except Exception:  # a filter turned warnings into errors: the promise still holds
        try:
            sys.__stderr__.write(message + "\n")
        except Exception:
            pass
