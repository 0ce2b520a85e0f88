"""Per-run build work over both cores: a process pool of forked workers, results merged by the caller.

Invariants:
- Processes, not threads: a run's work (templates, JSON, small numpy/pandas steps) holds the
  GIL nearly all the time, so threads would take turns on one core.
- Workers are forked (``fork``) once the logbook is read, so each sees every run without a
  byte being pickled to it; a worker is sent a list of run keys and sends back only small,
  plain results (paths written, the run's build state). The parent merges them in submission
  order, so the site is the same bytes whichever path built it.
- A worker that dies (killed, out of memory, a crash in a C library) never fails the build:
  the runs of its batch are tried again one per process, and a run whose own process dies is
  named in ``crashed`` with the exit status, for the caller to turn into a Problem.
- Small builds stay in one process (``POOL_MIN_RUNS``), where forking costs more than it saves.
  ``RUNPAGES_JOBS=1`` turns the pool off; ``RUNPAGES_JOBS=N`` sets the number of workers.
- A process with other threads running (``serve --watch``: its HTTP and watcher threads) stays
  in one process too: a fork copies every lock another thread may hold at that moment (stdout,
  logging, an import), and a worker would wait on it forever.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

POOL_MIN_RUNS = 48        # fewer runs to redo than this: one process (a fork costs ~10-30 ms)
BATCHES_PER_WORKER = 8    # small batches keep both cores busy to the end and bound a crash's retry

_work: Callable[[list], list] | None = None    # set before forking; workers inherit it


def jobs() -> int:
    """How many processes to use: ``$RUNPAGES_JOBS``, else every core."""
    try:
        n = int(os.environ.get("RUNPAGES_JOBS") or 0)
    except ValueError:
        n = 0
    return n if n > 0 else (os.cpu_count() or 1)


def _alone() -> bool:
    """No other thread runs in this process (then a fork is safe)."""
    import threading

    return threading.active_count() == 1


def _call(items: list) -> list:
    return _work(items)


def map_runs(work: Callable[[list], list], items: list, on_batch: Callable[[int], None] | None = None
             ) -> tuple[list[Any], dict[Any, str]]:
    """``work(batch) -> [result per item]`` over ``items``; returns the results in item order
    (None for an item that crashed its worker) and ``{item: why}`` for those. One process when
    the pool would not pay; an exception raised by ``work`` is raised here (it is a bug)."""
    n = jobs()
    if n <= 1 or len(items) < POOL_MIN_RUNS or not hasattr(os, "fork") or not _alone():
        out = []
        for k in range(0, len(items), 64):
            out += work(items[k:k + 64])
            if on_batch:
                on_batch(len(items[k:k + 64]))
        return out, {}
    size = max(1, -(-len(items) // (n * BATCHES_PER_WORKER)))
    batches = [items[k:k + size] for k in range(0, len(items), size)]
    results: dict[int, list] = {}
    broken: list[int] = []
    for idx, res, _why in _run_batches(work, batches, n, on_batch):
        if res is None:
            broken.append(idx)
        else:
            results[idx] = res
    crashed: dict[Any, str] = {}
    for idx in broken:   # the batch alone in a process (a dead worker fails every batch in flight)
        got = list(_run_batches(work, [batches[idx]], 1, on_batch))
        if got[0][1] is not None:
            results[idx] = got[0][1]
            continue
        res = []                             # then one process per run: find the run that kills it
        for item in batches[idx]:
            got = list(_run_batches(work, [[item]], 1, None))
            if got[0][1] is None:
                crashed[item] = got[0][2]
                res.append(None)
            else:
                res += got[0][1]
            if on_batch:
                on_batch(1)
        results[idx] = res
    return [r for idx in range(len(batches)) for r in results[idx]], crashed


def _run_batches(work, batches: list[list], n: int, on_batch) -> Iterable[tuple]:
    """Yield ``(batch index, results or None, why)``; None when the batch's worker died."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _work
    _work = work
    try:
        pool = ProcessPoolExecutor(max_workers=min(n, len(batches)),
                                   mp_context=multiprocessing.get_context("fork"))
        with pool:
            futures = [pool.submit(_call, b) for b in batches]
            # The pool forgets its processes once one dies; keep them to say how it ended.
            procs = list((getattr(pool, "_processes", None) or {}).values())
            for idx, fut in enumerate(futures):
                try:
                    res = fut.result()
                except BrokenProcessPool:
                    yield idx, None, _how_it_died(procs)
                    continue
                if on_batch:
                    on_batch(len(batches[idx]))
                yield idx, res, ""
    finally:
        _work = None


def _how_it_died(procs: list) -> str:
    import time

    end = time.monotonic() + 5.0      # a loaded machine may take a moment to reap the dead one
    while True:
        for p in procs:
            code = p.exitcode
            if code:
                how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                return f"the worker process building it died ({how})"
        if time.monotonic() > end:
            return "the worker process building it died"
        time.sleep(0.05)
