"""Report blocks that show logged media: ```` ```media ```` and ```` ```table ````.

```media
runs: name = resnet18-a       # the runs-table filter language, as in the other blocks
key: val/samples              # a media key the runs logged (image, video, audio, histogram)
step: last                    # last (each run's last logged step) or a step N (nearest per run)
layout: grid                  # grid: runs side by side; rows: one run per row
limit: 8                      # at most this many items per run (default 8)
```

```table
runs: name = resnet18-a
key: val/predictions          # a logged runpages.Table
step: last
columns: [id, text, pred]     # optional: which columns, in this order
sort: -score                  # optional: a column; -column sorts descending
limit: 20                     # rows shown per run (default 20, at most 1,000)
```

Resolved blocks are plain data: per run, the step shown and the reader's ``MediaItem``s
(paths inside the run's ``media/``, checked by ``sitegen.media``); a table block also holds the
rows it shows, read here from the run's table file. Runs that did not log the key are listed
as such; a key no selected run logged is a ``BlockError`` with the nearest key as a hint.
"""
from __future__ import annotations

from pathlib import Path

from runpages.sitegen.media_page import confusion_matrix, nearest_step, read_hist, read_table
from runpages.sitegen.report_blocks import (BlockError, Selector, _list_of_text, _nearest, _opt_line,
                                            _select, _sort_key, _type)

LAYOUTS = ("grid", "rows")
MEDIA_LIMIT = 8
TABLE_LIMIT = 20
MAX_TABLE_LIMIT = 1000
FILE_KINDS = ("image", "video", "audio", "histogram")


def _key(opts: dict, block, runs: list, kinds: tuple[str, ...]) -> str:
    key = opts.get("key")
    logged = sorted({m.key for r in runs for m in r.media if m.kind in kinds})
    if not isinstance(key, str) or not key:
        hint = f" (logged: {', '.join(logged[:8])})" if logged else ""
        raise BlockError(f"key: say which media key to show{hint}", _opt_line(block, "key"))
    if key not in logged:
        other = {m.key: m.kind for r in runs for m in r.media}.get(key)
        if other:
            raise BlockError(f"key: {key!r} is a {other}; use a "
                             f"{'table' if other == 'table' else 'media'} block", _opt_line(block, "key"))
        raise BlockError(f"key: no selected run logged media {key!r}{_nearest(key, logged)}",
                         _opt_line(block, "key"))
    return key


def _step(opts: dict, block) -> int | None:
    """None for ``last``, else the step asked for."""
    step = opts.get("step", "last")
    if step == "last":
        return None
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise BlockError(f"step: expected last or a step number, got {step!r}", _opt_line(block, "step"))
    return step


def _limit(opts: dict, block, default: int, most: int) -> int:
    limit = opts.get("limit", default)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise BlockError(f"limit: expected a whole number from 1 to {most}, got {limit!r}",
                         _opt_line(block, "limit"))
    return limit


def _per_run(runs: list, key: str, want: int | None) -> tuple[list[dict], list]:
    """``(shown, missing)``: per run that logged ``key``, the step shown and its items."""
    shown, missing = [], []
    for run in runs:
        items = [m for m in run.media if m.key == key]
        if not items:
            missing.append(run)
            continue
        kind = items[-1].kind                       # one kind per key: the latest wins (run page's rule)
        items = [m for m in items if m.kind == kind]
        steps = sorted({m.step for m in items})
        step = steps[-1] if want is None else nearest_step(steps, want)
        shown.append({"run": run, "step": step, "kind": kind,
                      "items": sorted((m for m in items if m.step == step), key=lambda m: m.index)})
    return shown, missing


def resolve_media(block, opts: dict, selector: Selector) -> dict:
    runs = _select(opts, block, selector)
    key = _key(opts, block, runs, FILE_KINDS)
    layout = opts.get("layout", "grid")
    if layout not in LAYOUTS:
        raise BlockError(f"layout: expected {' or '.join(LAYOUTS)}, got {layout!r}", _opt_line(block, "layout"))
    want = _step(opts, block)
    limit = _limit(opts, block, MEDIA_LIMIT, 200)
    shown, missing = _per_run(runs, key, want)
    for entry in shown:
        entry["more"] = max(0, len(entry["items"]) - limit)
        entry["items"] = entry["items"][:limit]
        if entry["kind"] == "histogram":
            entry["hists"] = [h for m in entry["items"]
                              if (h := read_hist(Path(entry["run"].dir) / m.file, m.step))]
    return {"runs": [e["run"] for e in shown], "key": key, "step": want, "layout": layout,
            "shown": shown, "missing": missing, "title": str(opts.get("title") or "")}


def _sorted_rows(rows: list, col: int, desc: bool) -> list:
    return sorted(rows, key=lambda r: _sort_key(r[col] if col < len(r) else None), reverse=desc)


def resolve_table(block, opts: dict, selector: Selector) -> dict:
    runs = _select(opts, block, selector)
    key = _key(opts, block, runs, ("table",))
    want = _step(opts, block)
    limit = _limit(opts, block, TABLE_LIMIT, MAX_TABLE_LIMIT)
    columns = _list_of_text(opts, "columns", block)
    sort = opts.get("sort")
    if sort is not None and (not isinstance(sort, str) or not sort.lstrip("-")):
        raise BlockError(f"sort: expected a column name (-name sorts descending), got {_type(sort)}",
                         _opt_line(block, "sort"))
    shown, missing = _per_run(runs, key, want)
    for entry in shown:
        item = entry["items"][0]
        table = read_table(Path(entry["run"].dir) / item.file)
        entry["items"] = [item]
        if table is None:
            entry["error"] = "unreadable table file"
            continue
        cols, rows = table["columns"], table["data"]
        entry["matrix"] = confusion_matrix(table) if columns is None and sort is None else None
        if sort is not None:
            name = sort.lstrip("-")
            if name not in cols:
                raise BlockError(f"sort: {entry['run'].name}'s table has no column {name!r}"
                                 f"{_nearest(name, cols)}", _opt_line(block, "sort"))
            rows = _sorted_rows(rows, cols.index(name), sort.startswith("-"))
        if columns is not None:
            for c in columns:
                if c not in cols:
                    raise BlockError(f"columns: {entry['run'].name}'s table has no column {c!r}"
                                     f"{_nearest(c, cols)}", _opt_line(block, "columns"))
            pick = [cols.index(c) for c in columns]
            cols = list(columns)
            rows = [[r[i] if i < len(r) else None for i in pick] for r in rows]
        entry["columns"] = cols
        entry["total"] = len(rows)
        entry["rows"] = rows[:limit]
    return {"runs": [e["run"] for e in shown], "key": key, "step": want, "shown": shown,
            "missing": missing, "title": str(opts.get("title") or "")}

