"""Parse many runs over both cores before the logbook is read: workers fill the read cache.

Invariants:
- Only a shortcut: a worker runs ``reader.read_run`` on its runs with the build's read cache,
  writes each new frame into the cache folder (``ReadCache.store``) and sends back the
  cache entries as JSON text. The parent takes them as its own entries, so its
  ``load_logbook`` that follows finds every file parsed and holds each run's points on disk
  (``lazyframe.LazyFrame``) until a page needs them. What the site shows is what the parent's
  own read gives: a run whose worker died is simply parsed again there.
- A run is sent to a worker only when one of its JSONL files is not in the cache as it is on
  disk; few such runs (under ``build_pool.POOL_MIN_RUNS``) are left to the parent.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from runpages import schema

_PARSED_FILES = (schema.METRICS_FILE, schema.SYSTEM_FILE)


def _needs_parse(cache, real, stats: dict) -> bool:
    from runpages.sitegen import longread

    for name in _PARSED_FILES:
        st = stats.get(name)
        if st is None:
            continue
        path = os.path.join(real, name)
        long = name == schema.METRICS_FILE and longread.is_long(st.st_size)
        if not cache.entries.holds(longread.cache_key(path) if long else path, st):
            return True
    return False


def warm_read_cache(found: dict, cache, folder: Path, now: float, records=None,
                    fingerprints: dict[str, str] | None = None) -> int:
    """Parse, over the build pool, the runs in ``found`` (a ``runscan.scan_runs`` result)
    whose files ``cache`` does not hold as they are; their entries join ``cache``. A run that
    ``records`` (``runrecords.RunRecords``) still holds is made from its record, not read, so
    its cache entries are not looked at (nor their shard read). ``fingerprints``: the runs'
    ``runscan.fingerprints``, when the caller took them already. Returns how many runs were
    parsed by workers (0 when the pool would not pay)."""
    from runpages.sitegen import build_pool
    from runpages.sitegen.readcache import entry_from_json
    from runpages.sitegen.reader import read_run
    from runpages.sitegen.runscan import fingerprint

    def recalled(source: str, entry) -> bool:
        run_dir, real, stats = entry
        if records is None:
            return False
        fp = fingerprints.get(str(real)) if fingerprints is not None else None
        return records.peek(str(real), fp or fingerprint(stats), str(run_dir), source) is not None

    todo = [(source, entry) for source, entries in found.items() for entry in entries
            if not recalled(source, entry) and _needs_parse(cache, entry[1], entry[2])]
    if (len(todo) < build_pool.POOL_MIN_RUNS or build_pool.jobs() <= 1 or not hasattr(os, "fork")
            or not build_pool._alone()):
        return 0
    folder.mkdir(parents=True, exist_ok=True)

    def work(batch: list[int]) -> list[str]:
        """Per run: its entries as one JSON text, ``[[key, entry], ...]`` ("" when it failed)."""
        out = []
        for i in batch:
            source, entry = todo[i]
            cache.seen.clear()
            try:
                read_run(entry[0], cache, now, source=source, found=entry)
            except Exception:  # noqa: BLE001 - the parent's own read reports what is wrong
                out.append("")
                continue
            stored = [(key, cache.store(key, folder)) for key in sorted(cache.seen) if key in cache.entries]
            pairs = (f"[{json.dumps(key)},{text}]" for key, text in stored if text is not None)
            out.append("[" + ",".join(pairs) + "]")
            for key, _text in stored:        # sent to the parent: a worker holds no run it is done with
                del cache.entries[key]
        return out

    results, _crashed = build_pool.map_runs(work, list(range(len(todo))))
    sent = [text for text in results if text]
    for k in range(0, len(sent), _RUNS_PER_DECODE):
        for key, raw in _decode(sent[k:k + _RUNS_PER_DECODE]):
            try:
                cache.entries[key] = entry_from_json(raw, folder)
            except (ValueError, KeyError, TypeError, OSError):
                continue                               # that file is parsed again by the parent
    return len(sent)


# Many runs' entries decoded by one json.loads: the decoder makes each distinct key once per
# call, so the names every run repeats (metric names, meta's fields) are held once, not per run.
_RUNS_PER_DECODE = 1000


def _decode(texts: list[str]) -> list:
    """``[key, raw entry]`` of each run's text; a run's text that does not decode is skipped
    (its files are parsed again by the parent)."""
    try:
        return [pair for run in json.loads("[" + ",".join(texts) + "]") for pair in run]
    except ValueError:
        out = []
        for text in texts:
            try:
                out += json.loads(text)
            except ValueError:
                continue
        return out
