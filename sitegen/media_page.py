"""The run page's Media and Reproduce sections: which media files the build copies into the site
and the data the browser (``themes/default/static/media.js``) draws them from.

Invariants: only entries the reader kept (``sitegen.media``: files inside the run's ``media/``)
are copied; table and histogram files are read here and handed to the page as JSON data (the
template writes it with ``tojson``, so no user text is ever markup). Tables past
``MAX_INLINE_TABLE_BYTES`` in all keep their latest step inline and link the rest.
The same sections go to ``data/media/<key>.js`` (``sitegen.pages.compare_media``), from which the
compare page (``themes/default/static/compare-media.js``) shows any chosen runs' media side by side.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MAX_INLINE_TABLE_BYTES = 8 * 1024 * 1024
MAX_DIFF_CHARS = 200_000


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _table(data: Any) -> dict | None:
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list) \
            or not isinstance(data.get("data"), list):
        return None
    cols = [str(c) for c in data["columns"]]
    rows = [[c if isinstance(c, (int, float, str, bool)) or c is None else json.dumps(c)
             for c in r] for r in data["data"] if isinstance(r, list)]
    return {"columns": cols, "data": rows}


def _hist(data: Any, step: int) -> dict | None:
    if not isinstance(data, dict):
        return None
    counts, edges = data.get("counts"), data.get("edges")
    if not isinstance(counts, list) or not isinstance(edges, list) or len(edges) != len(counts) + 1:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in counts + edges):
        return None
    return {"step": step, "counts": counts, "edges": edges}


def read_table(path: Path) -> dict | None:
    """A table file as ``{"columns", "data"}`` with display-safe cells, None when unreadable."""
    return _table(_read_json(path))


def read_hist(path: Path, step: int) -> dict | None:
    return _hist(_read_json(path), step)


def nearest_step(steps: list[int], target: int) -> int | None:
    """The logged step nearest to ``target``, the earlier one on a tie (compare-media.js's
    twin; both run tests/cases/media/nearest_step.json)."""
    best = None
    for s in steps:
        if best is None or (abs(s - target), s) < (abs(best - target), best):
            best = s
    return best


def confusion_matrix(table: dict) -> dict | None:
    """``{"labels", "rows", "max"}`` when ``table`` is a square numeric matrix with labels: a
    first column of row labels equal (as text, in any order) to the other columns' names, and a
    finite number in every other cell. Rows come back in the columns' order."""
    cols, data = table.get("columns") or [], table.get("data") or []
    labels = [str(c) for c in cols[1:]]
    n = len(labels)
    if n < 2 or len(data) != n or len(set(labels)) != n:
        return None
    by_label = {}
    for r in data:
        if len(r) != n + 1 or isinstance(r[0], (bool, float)) or r[0] is None:
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in r[1:]):
            return None
        by_label[str(r[0])] = r[1:]
    if sorted(by_label) != sorted(labels):
        return None
    rows = [by_label[lab] for lab in labels]
    return {"labels": labels, "rows": rows, "max": max((v for r in rows for v in r), default=0),
            "row_title": str(cols[0])}


def plan_media(run, base: str) -> tuple[dict[str, str], list[dict]]:
    """``(copies, sections)``: site path → source file, and one section per media key."""
    run_dir = Path(run.dir)
    copies: dict[str, str] = {}
    by_key: dict[str, list] = {}
    for item in run.media:
        by_key.setdefault(item.key, []).append(item)
    sections = []
    inline_left = MAX_INLINE_TABLE_BYTES
    for key, items in by_key.items():
        kind = items[-1].kind
        items = [i for i in items if i.kind == kind]      # one kind per key: the latest wins
        steps = sorted({i.step for i in items})
        sec: dict[str, Any] = {"key": key, "kind": kind, "steps": steps, "note": ""}
        if kind in ("image", "video", "audio"):
            per_step: dict[str, list] = {}
            for i in sorted(items, key=lambda i: (i.step, i.index)):
                src = base + i.file
                copies[src] = str(run_dir / i.file)
                thumb = None
                if i.thumb:
                    thumb = base + i.thumb
                    copies[thumb] = str(run_dir / i.thumb)
                per_step.setdefault(str(i.step), []).append(
                    {"src": src, "thumb": thumb or src, "caption": i.caption or "", **i.extra})
            sec["items"] = per_step
        elif kind == "table":
            tables = {}
            for i in sorted(items, key=lambda i: i.step, reverse=True):   # latest first
                src = base + i.file
                copies[src] = str(run_dir / i.file)
                if i.bytes > inline_left and tables:
                    sec["note"] = "earlier steps' tables are too large to show inline; download them"
                    tables[str(i.step)] = {"href": src}
                    continue
                t = _table(_read_json(run_dir / i.file))
                if t is not None:
                    t["matrix"] = confusion_matrix(t)       # drawn as a heat map (media.js)
                tables[str(i.step)] = t if t is not None else {"error": "unreadable table file", "href": src}
                inline_left -= i.bytes
            sec["tables"] = tables
        else:   # histogram
            hists = [h for h in (_hist(_read_json(run_dir / i.file), i.step)
                                 for i in sorted(items, key=lambda i: i.step)) if h]
            sec["hists"] = hists
            sec["steps"] = [h["step"] for h in hists]
        sections.append(sec)
    return copies, sections


def plan_reproduce(run, base: str) -> tuple[dict[str, str], dict | None]:
    """``(copies, section)`` for the Reproduce section, None when the run saved no code."""
    rep = run.reproduce
    if not rep:
        return {}, None
    run_dir = Path(run.dir)
    copies, links = {}, []
    for name, label in (("diff", "git diff (patch)"), ("script", "entry script"),
                        ("requirements", "installed packages")):
        rel = rep.get(name)
        if rel:
            copies[base + rel] = str(run_dir / rel)
            links.append({"label": label, "url": base + rel})
    diff_text = ""
    if rep.get("diff"):
        try:
            diff_text = (run_dir / rep["diff"]).read_text("utf-8", "replace")[:MAX_DIFF_CHARS]
        except OSError:
            diff_text = ""
    return copies, {"links": links, "diff": diff_text, "diff_bytes": rep.get("diff_bytes"),
                    "untracked": rep.get("untracked"), "notes": rep.get("notes") or [],
                    "commit": rep.get("commit") or ""}
