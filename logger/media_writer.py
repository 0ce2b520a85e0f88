"""The media thread: encodes media objects and writes ``media/<key>/<step>-<hash>.<ext>`` plus one
``media.jsonl`` line per file (the format: ``schema.py``).

Invariants:
* ``put()`` (the training thread) only appends a reference to a bounded queue; it never waits
  and wakes nothing (the media thread polls the queue every ``POLL_S`` while idle).
  When ``MAX_PENDING`` items wait, the oldest pending item of the same key (else the oldest of
  all) is dropped, with one warning per run.
* A file lands by temp name + rename before its index line is written, so every index line names
  a whole file; a file without an index line is harmless.
* ``max_media_mb`` bounds what one run writes; past it, media is skipped with one warning.
* Nothing here raises into the caller: encoding errors warn once per cause and skip that value.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from typing import Any, Callable

from . import names, schema
from .encode import dumps
from .media import Media, MediaError, Table
from .writer import JsonlWriter

MAX_PENDING = 64
POLL_S = 0.05           # how often an idle media thread looks at the queue


def key_folder(key: str) -> str:
    """A metric key as a relative folder under media/: each ``/`` part made path-safe."""
    parts = [names.safe_dir_name(p) for p in str(key).split("/") if p.strip(". ")]
    return "/".join(parts) or "media"


class MediaWriter:
    def __init__(self, run_dir: str, warn: Callable[[str, str], None],
                 max_media_mb: float | None) -> None:
        self._dir = run_dir
        self._warn = warn
        self._budget = None if max_media_mb is None else float(max_media_mb) * 1024 * 1024
        self._used = 0
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._index = JsonlWriter(os.path.join(run_dir, schema.MEDIA_INDEX), warn)
        self._thread = threading.Thread(target=self._loop, name="runpages-media", daemon=True)
        self._thread.start()

    def put(self, key: str, step: int, time: float, items: list[Media]) -> None:
        items = [i.snapshot() if isinstance(i, Table) else i for i in items]
        if len(self._queue) >= MAX_PENDING:
            with self._cond:
                self._drop_oldest(key)
        # No lock and no wake-up: deque.append is atomic, and the media thread looks every
        # POLL_S. Waking it here would let it take the GIL while log() is still running.
        self._queue.append((key, step, time, items))

    def _drop_oldest(self, key: str) -> None:
        victim = next((q for q in self._queue if q[0] == key), self._queue[0])
        self._queue.remove(victim)
        self._warn("media-behind", f"runpages: media encoding is behind ({MAX_PENDING} values "
                                   f"waiting); the oldest pending {victim[0]!r} (step "
                                   f"{victim[1]}) is dropped, metrics are not delayed.")

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait(POLL_S)
                if not self._queue:
                    return
                job = self._queue.popleft()
            try:
                self._write(*job)
            except Exception as exc:          # a bug or a full disk: warn, keep going
                self._warn("media:" + type(exc).__name__,
                           f"runpages: writing media failed ({exc!r}); it is skipped.")

    def _write(self, key: str, step: int, time: float, items: list[Media]) -> None:
        folder = key_folder(key)
        for i, item in enumerate(items):
            try:
                out = item.encode()
            except MediaError as exc:
                self._warn(f"media-encode:{item.kind}:{key}",
                           f"runpages: cannot encode {item.kind} for {key!r} ({exc}); it is "
                           "skipped, training continues.")
                continue
            size = len(out.data) + len(out.thumb or b"")
            if self._budget is not None and self._used + size > self._budget:
                self._warn("media-budget", f"runpages: this run's media passed max_media_mb="
                                           f"{self._budget / 2**20:g}; further media is "
                                           "skipped (raise it in init(max_media_mb=...)).")
                continue
            sha = hashlib.sha256(out.data).hexdigest()
            rel = f"{schema.MEDIA_DIR}/{folder}/{step}-{sha[:12]}.{out.ext}"
            rec: dict[str, Any] = {"step": step, "time": time, "key": key, "kind": item.kind,
                                   "file": rel, "caption": item.caption, "bytes": len(out.data),
                                   "sha256": sha}
            if len(items) > 1:
                rec["index"] = i
            rec.update(out.fields)
            self._land(rel, out.data)
            if out.thumb:
                ext = "jpg" if out.thumb[:2] == b"\xff\xd8" else "png"   # JPEG, or the stdlib PNG
                thumb = f"{schema.MEDIA_DIR}/{folder}/{step}-{sha[:12]}.thumb.{ext}"
                self._land(thumb, out.thumb)
                rec["thumb"] = thumb
            self._used += size
            self._index.append(dumps(rec))
        self._index.flush()

    def _land(self, rel: str, data: bytes) -> None:
        path = os.path.join(self._dir, *rel.split("/"))
        if os.path.exists(path):
            return                              # same content, same name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def close(self, timeout: float = 60.0) -> None:
        """Write what is queued (up to ``timeout`` seconds), then close the index."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._warn("media-close", f"runpages: media still encoding after {timeout:g} s at "
                                      "finish; what is left is not written.")
        self._index.close()
