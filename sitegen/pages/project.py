"""The project page: one row per run, rendered on the server so it reads without JavaScript,
up to ``SERVER_ROWS_MAX`` runs; a larger project's rows come from its columnar rows script
(``pages.project_rows``) and table.js lays out only the rows in view (no ``<tr>`` per run in the
HTML, so 100,000 runs open in about a second). Small projects keep HTML rows on purpose: they read
without JavaScript and their layout costs nothing.

``themes/default/static/table.js`` enhances the table in place (sort, filter, columns, ticks,
CSV, charts). Invariants the script relies on:

- every ``<th data-key>`` names its column with the key the filter language uses
  (``sitegen.query``): run columns (``status``, ``name``, ``user``, ...), config columns as
  ``config.<key>``, summary columns by their own key (``summary.<key>`` only on a clash);
- a cell's value is its ``data-v`` attribute when it has one, else its text; numbers in
  ``data-v`` are spelled as JavaScript's ``String()`` spells them (``query.to_text``);
  list columns (tags) hold a JSON array;
- column ``i`` (1-based, the tick box is column 1) is hidden by ``:nth-child(i)`` rules in the
  ``#rp-hidden-columns`` style element, which the server fills with the default choice.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass
from typing import Any

from runpages.sitegen.model import metric_preference
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import ProjectContext
from runpages.sitegen.pages.checks import checks_url
from runpages.sitegen.pages.utilisation import project_path as utilisation_path
from runpages.sitegen.query import to_text
from runpages.sitegen.values import format_duration, format_number

MAX_DEFAULT_CONFIG_COLUMNS = 8
MAX_DEFAULT_SUMMARY_COLUMNS = 8
CHARTS_OPEN_MAX_RUNS = 100       # above this the overlay charts draw when their section opens
PAGE_ROWS = 250                  # rows laid out at first; "Show all" lays out the rest (JS only)
SERVER_ROWS_MAX = 500            # above this the rows come from the columnar rows script, on demand
OVERLAY_MAX_RUNS = 20            # the overlay charts draw at most this many runs at a time
# Who and what first, then results (main metric, test metrics), then the configuration, then
# when/where: what a reader scans for, left to right. The name column stays pinned on the left.
LEAD_COLUMNS = ("name", "status", "user")
TAIL_COLUMNS = ("start", "duration", "host", "git", "tags", "group")
RUN_COLUMNS = LEAD_COLUMNS + TAIL_COLUMNS
NUMERIC_RUN_COLUMNS = {"duration"}


@dataclass
class Column:
    key: str
    label: str
    group: str              # "run", "config" or "summary"
    type: str = "text"      # "num", "text" or "list"
    hidden: bool = False
    title: str = ""


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _iso(t: Any) -> str:
    try:
        return _dt.datetime.fromtimestamp(float(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _value_cell(v: Any) -> dict:
    """A config or summary cell: numbers compact with the full value in the title."""
    if v is None:
        return {"kind": "text", "text": "", "v": None, "title": "", "num": False}
    if _is_number(v):
        full = to_text(v)
        short = format_number(v)
        return {"kind": "text", "text": short, "v": full if full != short else None,
                "title": full if full != short else "", "num": True}
    text = to_text(v)
    return {"kind": "text", "text": text, "v": None, "title": text if len(text) > 40 else "",
            "num": False}


def _shared_value_cell(v: Any, made: dict) -> dict:
    """``_value_cell(v)``, made once per value in ``made``: a float by its spelling (-0.0 ==
    0.0, and a NaN equals nothing), a bool apart from an int; lists and mappings each time."""
    memo = ("f", repr(v)) if isinstance(v, float) else \
        (type(v), v) if v is None or isinstance(v, (str, int)) else None
    if memo is None:
        return _value_cell(v)
    cell = made.get(memo)
    if cell is None:
        cell = made[memo] = _value_cell(v)
    return cell


def _run_cells(run, site) -> dict[str, dict]:
    git = run.meta.get("git") if isinstance(run.meta.get("git"), dict) else {}
    commit = str(git.get("commit") or "")
    dirty = bool(git.get("dirty"))
    git_title = ""
    if commit:
        git_title = commit + (f" on {git['branch']}" if git.get("branch") else "") + \
            (", with uncommitted changes" if dirty else "")
    started = run.started_at
    start_iso = _iso(started) if started is not None else ""
    duration = getattr(run, "duration_s", None)
    if not _is_number(duration):
        duration = run.meta.get("duration_s") if _is_number(run.meta.get("duration_s")) else None
    tags = [str(t) for t in run.tags]
    return {
        "status": {"kind": "status", "text": run.status, "v": None, "title": "", "num": False},
        "name": {"kind": "name", "text": run.name or run.id, "v": None, "title": run.id,
                 "href": site.run_url(run), "num": False},
        "user": {"kind": "text", "text": run.user, "v": None, "title": "", "num": False},
        "host": {"kind": "text", "text": run.host, "v": None, "title": "", "num": False},
        "start": {"kind": "text", "text": start_iso[:16].replace("T", " "), "v": start_iso or None,
                  "title": start_iso.replace("T", " ").replace("Z", " UTC"), "num": False},
        "duration": {"kind": "text", "text": format_duration(duration),
                     "v": to_text(round(float(duration), 1)) if duration is not None else None,
                     "title": "", "num": True},
        "git": {"kind": "git", "text": commit[:7] + ("*" if dirty and commit else ""),
                "v": commit[:7] or None, "title": git_title, "num": False},
        "tags": {"kind": "tags", "tags": tags, "text": "", "v": json.dumps(tags, ensure_ascii=False),
                 "title": "", "num": False},
        "group": {"kind": "text", "text": run.group, "v": None, "title": "", "num": False},
    }


def _varies(values: list[Any]) -> bool:
    seen = {json.dumps(v, sort_keys=True, default=str) for v in values}
    return len(seen) > 1


def _column_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    return "num" if present and all(_is_number(v) for v in present) else "text"


def _run_column(key: str, runs) -> Column:
    label = {"start": "started", "git": "commit"}.get(key, key)
    col = Column(key, label, "run", "num" if key in NUMERIC_RUN_COLUMNS else
                 ("list" if key == "tags" else "text"))
    if key == "tags":
        col.hidden = not any(r.tags for r in runs)
    elif key == "group":
        col.hidden = not any(r.group for r in runs)
    elif key == "git":
        col.hidden = not any(isinstance(r.meta.get("git"), dict) and r.meta["git"].get("commit")
                             for r in runs)
    elif key == "host":
        col.hidden = len({r.host for r in runs}) <= 1 and len(runs) > 1
    return col


def _summary_order(key: str, main: str | None) -> tuple:
    """Main metric first, then test, validation, the rest; internal ``_`` keys last."""
    rank = 0 if key == main else 1 if key.startswith(("test/", "test_", "eval/test")) else \
        2 if key.startswith(("val/", "val_", "valid", "eval/")) else 4 if key.startswith("_") else 3
    return (rank,)


def project_columns(project) -> tuple[list[Column], list[str], list[str]]:
    """The table's columns, with the config and summary keys behind them, in table order:
    ``LEAD_COLUMNS``, summary, config, ``TAIL_COLUMNS``."""
    runs = project.runs
    columns: list[Column] = [_run_column(key, runs) for key in LEAD_COLUMNS]
    taken = {c.key for c in columns} | set(TAIL_COLUMNS)
    main = getattr(project, "main_metric", None)
    summary_keys = sorted(project.summary_keys, key=lambda k: _summary_order(k, main))  # stable
    shown = 0
    for key in summary_keys:
        values = [r.summary.get(key) for r in runs]
        ckey = key if key not in taken and not key.startswith("config.") else "summary." + key
        col = Column(ckey, key, "summary", _column_type(values), title=f"summary: {key}")
        col.hidden = key.startswith("_") or shown >= MAX_DEFAULT_SUMMARY_COLUMNS
        shown += not col.hidden
        columns.append(col)

    config_keys = list(project.config_keys)
    shown = 0
    for key in config_keys:
        values = [r.config.get(key) for r in runs]
        vary = _varies(values) or len(runs) <= 1
        col = Column("config." + key, key, "config", _column_type(values), title=f"config: {key}")
        col.hidden = not vary or shown >= MAX_DEFAULT_CONFIG_COLUMNS
        shown += not col.hidden
        columns.append(col)
    columns += [_run_column(key, runs) for key in TAIL_COLUMNS]
    return columns, config_keys, summary_keys


def hidden_columns_css(columns: list[Column]) -> str:
    """The ``#rp-hidden-columns`` rules; table-columns.js writes the same form (no ``>``: autoescape)."""
    rules = []
    for i, col in enumerate(columns):
        if col.hidden:
            n = i + 2                       # 1-based, after the tick box column
            rules.append(f"#rp-runs th:nth-child({n}), #rp-runs td:nth-child({n})")
    return (",\n".join(rules) + " { display: none; }") if rules else ""


def group_options(project, config_keys: list[str], max_keys: int = 40) -> list[tuple[str, str]]:
    """Table columns worth grouping rows by: ``group`` when runs have one, and config keys
    where some value is shared by two runs or more and not every run has the same value."""
    runs = project.runs
    out: list[tuple[str, str]] = []
    if any(r.group for r in runs):
        out.append(("group", "group"))
    for key in config_keys:
        values = [json.dumps(r.config.get(key), sort_keys=True, default=str) for r in runs]
        distinct = len(set(values))
        if 2 <= distinct < len(values):
            out.append(("config." + key, key))
        if len(out) >= max_keys:
            break
    return out


def _sort_time(run) -> float:
    t = run.started_at
    return float(t) if _is_number(t) and math.isfinite(t) else -math.inf


def is_large(project) -> bool:
    """Rows from the columnar rows script, laid out on demand, instead of HTML rows."""
    return len(project.runs) > SERVER_ROWS_MAX


def table_runs(project) -> list:
    """The table's first order: newest first (ties by run id)."""
    return sorted(project.runs, key=lambda r: (_sort_time(r), r.id), reverse=True)


def run_cells(run, site, summary_keys: list[str], config_keys: list[str],
              made: dict | None = None) -> list[dict]:
    """One row's cells in column order (``project_columns``). ``made``: cells already made
    for a value, shared by the rows of one table (configs repeat from run to run); the cells
    are read, never changed, by the rows and the rows script."""
    base = _run_cells(run, site)
    cells = [base[k] for k in LEAD_COLUMNS]
    made = {} if made is None else made
    cells += [_shared_value_cell(run.summary.get(k), made) for k in summary_keys]
    cells += [_shared_value_cell(run.config.get(k), made) for k in config_keys]
    cells += [base[k] for k in TAIL_COLUMNS]
    return cells


def overlay_rule(project) -> dict:
    """Which runs the overlay charts draw when more than ``max`` would: the best ``max`` by the
    main metric in its preferred direction (``model.metric_preference``), else the newest;
    table-charts.js applies the same rule to the filtered or ticked runs."""
    metric = getattr(project, "main_metric", None)
    direction = metric_preference(metric) if metric else None
    return {"max": OVERLAY_MAX_RUNS, "metric": metric if direction else None, "direction": direction,
            "total": len(project.runs)}


def _finite_value(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and not isinstance(v, bool) else None


def chart_runs(project, limit: int = OVERLAY_MAX_RUNS) -> list:
    """The runs the overlay charts open with, by ``overlay_rule``: ties and runs without a finite
    value keep the table's order (newest first), after the ranked ones."""
    runs = table_runs(project)
    rule = overlay_rule(project)
    if len(runs) <= limit:
        return runs
    if not rule["direction"]:
        return runs[:limit]
    sign = 1.0 if rule["direction"] == "min" else -1.0
    metric = rule["metric"]

    def rank(item):
        v = _finite_value(item[1].summary.get(metric)) if isinstance(item[1].summary, dict) else None
        return (v is None, sign * v if v is not None else 0.0, item[0])
    return [r for _, r in sorted(enumerate(runs), key=rank)[:limit]]


def build_project(project, book) -> Page:
    """``p/<project>/index.html``: every run of ``project`` in one table, newest first (as HTML
    rows up to ``SERVER_ROWS_MAX`` runs, else from the rows script)."""
    config, site = book.config, book.site
    runs = table_runs(project)
    columns, config_keys, summary_keys = project_columns(project)
    large = is_large(project)
    rows, made = [], {}
    for run in ([] if large else runs):
        rows.append({"key": site.key(run), "name": run.name or run.id,
                     "cells": run_cells(run, site, summary_keys, config_keys, made)})
    slug = site.project_slug(project.name)
    status_counts = project.status_counts() if hasattr(project, "status_counts") else {}
    ctx: ProjectContext = {
            "title": f"{project.name} \u00b7 {getattr(config, 'title', 'runpages')}",
            "project": {"name": project.name, "slug": slug, "url": site.project_url(project),
                        "users": list(getattr(project, "users", [])),
                        "runs": len(runs), "status_counts": status_counts,
                        "main_metric": getattr(project, "main_metric", None)},
            "columns": columns,
            "rows": rows,
            "hidden_css": hidden_columns_css(columns),
            "data_src": site.project_data(project),
            "rows_src": site.project_rows(project) if large else None,
            "overlay": overlay_rule(project),
            "charts_open": len(runs) <= CHARTS_OPEN_MAX_RUNS,
            "group_options": group_options(project, config_keys),
            "utilisation_url": utilisation_path(site, project),
            "checks_url": checks_url(project, site) if project.name in book.checks else None,
            "page_rows": PAGE_ROWS,
    }
    return Page(site.project_url(project), "project.html", ctx)
