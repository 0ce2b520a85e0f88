"""Live reload state for ``serve --watch``: an epoch that tabs long-poll, and what each epoch changed.

Invariants:
- The builder thread is the only writer: ``publish(changed)`` after a good build that changed
  files, ``fail(message)`` after a failed one. Each call that changes what a tab should show
  bumps the epoch by one and wakes every waiting request.
- ``wait(since, timeout)`` never blocks past ``timeout`` (so long-polls cannot pile up) and
  answers at once when the tab is behind. The answer lists every site path changed since
  ``since``, or ``full: True`` when that history is no longer kept (the tab then reloads).
- ``server_id`` changes with every server process: a tab that outlived its server reloads.
- The changed paths come from the build (``BuildResult.changed``): the site is never walked.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import deque

HISTORY = 256              # epochs whose changed paths are kept for tabs that fall behind
MAX_PATHS = 2000           # above this many changed paths an answer says "full" instead


class LiveState:
    def __init__(self) -> None:
        self.server_id = uuid.uuid4().hex[:12]
        self.epoch = 0
        self.error: str | None = None
        self.build_ms: float | None = None      # how long the last build took (benchmarks, logs)
        self._history: deque[tuple[int, frozenset[str]]] = deque(maxlen=HISTORY)
        self._cond = threading.Condition()
        self._closed = False

    def publish(self, changed: set[str] | frozenset[str], seconds: float | None = None) -> int:
        """A good build: clears the error; bumps the epoch when files changed or an error went."""
        with self._cond:
            if seconds is not None:
                self.build_ms = round(seconds * 1000, 1)
            if not changed and self.error is None:
                return self.epoch
            self.error = None
            self.epoch += 1
            self._history.append((self.epoch, frozenset(changed)))
            self._cond.notify_all()
            return self.epoch

    def fail(self, message: str) -> int:
        """A failed build: the site on disk stays as it was; tabs show ``message`` in a banner."""
        with self._cond:
            if message == self.error:
                return self.epoch
            self.error = message
            self.epoch += 1
            self._history.append((self.epoch, frozenset()))
            self._cond.notify_all()
            return self.epoch

    def close(self) -> None:
        """Wake every waiting request (server stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, since: int, timeout: float = 25.0, server_id: str | None = None) -> dict:
        """Block until the epoch passes ``since`` or ``timeout`` seconds pass; the answer for a tab."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            if server_id is None or server_id == self.server_id:
                while self.epoch <= since and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            return self._answer(since, server_id)

    def _answer(self, since: int, server_id: str | None) -> dict:
        answer = {"id": self.server_id, "epoch": self.epoch, "error": self.error,
                  "changed": [], "full": False, "build_ms": self.build_ms}
        if (server_id is not None and server_id != self.server_id) or since > self.epoch:
            answer["full"] = True         # another server process (restarted): start over
            return answer
        if since == self.epoch:
            return answer
        kept = [(e, paths) for e, paths in self._history if e > since]
        if not kept or kept[0][0] != since + 1:
            answer["full"] = True
            return answer
        paths: set[str] = set()
        for _e, p in kept:
            paths |= p
        if len(paths) > MAX_PATHS:
            answer["full"] = True
        else:
            answer["changed"] = sorted(paths)
        return answer


def inject(html: bytes, snippet: bytes) -> bytes:
    """``snippet`` before the last ``</body>`` (any case), else at the end. Bytes in, bytes out."""
    low = html.lower()
    i = low.rfind(b"</body>")
    if i < 0:
        return html + snippet
    return html[:i] + snippet + html[i:]
