"""Report blocks: ``chart``, ``runs`` and ``compare`` options checked and resolved to runs
(``media`` and ``table`` blocks: ``sitegen.report_media``).

Runs are selected with the runs-table filter language (``sitegen.query``) over rows shaped like
the project table's rows plus ``project``, ``id`` and ``start`` (``run_row``). A block that
cannot be drawn raises ``BlockError(reason, line)``, ``line`` counted from the block's opening
fence (the line of the option at fault when there is one); ``sitegen.reports`` turns it into a
Problem and an error box. Resolved blocks are plain data: Runs, keys, numbers, user text as is.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
from typing import Any, Iterable

from runpages.sitegen import markdown
from runpages.sitegen.config import nearest_key
from runpages.sitegen.colors import GROUP_PALETTE
from runpages.sitegen.model import metric_direction
from runpages.sitegen.query import _MISSING, QueryError, _compare, lookup, parse_query, to_number, to_text
from runpages.sitegen.values import format_number

CHART_KEYS = ("runs", "project", "metric", "metrics", "x", "log_x", "log_y", "smoothing",
              "group_by", "title", "y_range", "height")
RUNS_KEYS = ("runs", "project", "columns", "best", "sort", "limit", "title")
COMPARE_KEYS = ("runs", "project", "metrics", "charts", "x", "log_x", "log_y", "smoothing", "title")
MEDIA_KEYS = ("runs", "project", "key", "step", "layout", "limit", "title")     # sitegen.report_media
TABLE_KEYS = ("runs", "project", "key", "step", "columns", "sort", "limit", "title")
BLOCK_KEYS = {"chart": CHART_KEYS, "runs": RUNS_KEYS, "compare": COMPARE_KEYS,
              "media": MEDIA_KEYS, "table": TABLE_KEYS}
X_MODES = {"step": "step", "time": "time", "relative": "rel", "rel": "rel"}
RUN_COLUMNS = ("name", "project", "user", "host", "status", "group", "tags", "id")
MAX_COMPARE_CHARTS = 4


class BlockError(Exception):
    """A block or value that cannot be drawn; ``line`` is relative to the block (0 = fence)."""

    def __init__(self, reason: str, line: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def _nearest(name: str, options: Iterable[str]) -> str:
    match = nearest_key(name, list(options))
    return f"; did you mean {match!r}?" if match else ""


def _key_line(source: str, key: str) -> int:
    """0-based line of ``key:`` in a YAML text, -1 when not found."""
    pat = re.compile(r"^\s*" + re.escape(key) + r"\s*:")
    for i, line in enumerate(source.splitlines()):
        if pat.match(line):
            return i
    return -1


def run_row(run) -> dict[str, Any]:
    """The row the filter language sees: project-table keys plus ``project`` and ``id``."""
    row: dict[str, Any] = {}
    taken = set(RUN_COLUMNS) | {"start", "git", "duration"}
    for k, v in run.summary.items():
        row[k if k not in taken and not k.startswith("config.") else "summary." + k] = v
    for k, v in run.config.items():
        row["config." + k] = v
    git = run.meta.get("git") if isinstance(run.meta.get("git"), dict) else {}
    row.update({"name": run.name or run.id, "project": run.project, "user": run.user,
                "host": run.host, "status": run.status, "group": run.group,
                "tags": [str(t) for t in run.tags], "id": run.id,
                "git": str(git.get("commit") or "")[:7], "start": _iso(run.started_at)})
    return row


class Selector:
    """Every run of every project, with its row; selects runs by a filter text. A project's
    rows are made when a filter may match them: one that names the project (``project = x``)
    leaves the others unread (a kept project's runs are read on asking: ``build_kept``)."""

    def __init__(self, projects):
        self.projects = {p.name: p for p in projects}
        self._rows: dict[str, list[tuple]] = {}          # project name -> [(run, row)]
        self._row_of: dict[int, dict] = {}

    def _project_rows(self, name: str) -> list[tuple]:
        got = self._rows.get(name)
        if got is None:
            got = self._rows[name] = [(r, run_row(r)) for r in sorted(self.projects[name].runs, key=_run_order)]
            self._row_of.update((id(r), row) for r, row in got)
        return got

    def select(self, text: Any, project: Any = None, what: str = "runs") -> list:
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise BlockError(f"{what}: expected a filter text such as \"user = ana\", got {_type(text)}")
        if project is not None and str(project) not in self.projects:
            hint = _nearest(str(project), self.projects) or "; projects: " + ", ".join(sorted(self.projects))
            raise BlockError(f"project {str(project)!r} not found{hint}")
        try:
            query = parse_query(text)
        except QueryError as err:
            raise BlockError(f"bad runs filter {text!r}: {err}") from None
        names = [n for n in self.projects if (project is None or n == str(project))
                 and all(_compare(n, "=", t.value, t.quoted) for t in query.terms
                         if t.key == "project" and t.op in ("=", "=="))]
        found = [r for n in names for r, row in self._project_rows(n)
                 if (project is None or r.project == str(project)) and query.matches(row)]
        if not found:
            raise BlockError(f"no run matches {text!r}" + (f" in project {project!r}" if project else ""))
        return found

    def row(self, run) -> dict:
        return self._row_of[id(run)]


def _iso(t: Any) -> str:
    try:
        return _dt.datetime.fromtimestamp(float(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _run_order(run) -> tuple:
    t = run.started_at
    return (t if t is not None else math.inf, run.id)


def _type(v: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping"}.get(type(v), type(v).__name__)


def format_value(v: Any, spec: str = "") -> str:
    """A number by the one display rule (``values``) or by a Python format spec; text as is."""
    num = None if isinstance(v, bool) else (v if isinstance(v, (int, float)) else None)
    if num is None:
        return to_text(v)
    if spec:
        return format(num, spec)
    return format_number(num)


def final_value(run, key: str) -> Any:
    """What a run ended with for ``key``: its summary value, else the last logged value."""
    v = run.summary.get(key)
    if v is not None:
        return v
    return run.last_value(key)


def _numeric(v: Any) -> float | None:
    return None if isinstance(v, bool) else to_number(v) if isinstance(v, (int, float)) else None


def _no_metric(key: str, runs: list) -> str:
    keys = {k for r in runs for k in list(r.metric_keys) + list(r.summary)}
    return f"no selected run logged {key!r}{_nearest(key, keys)}"


def parse_options(block: markdown.Block) -> dict:
    import yaml

    try:
        opts = yaml.safe_load(block.source) if block.source.strip() else {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        last = max(0, len(block.source.splitlines()) - 1)     # an error "at the end" is on the last line
        line = min(mark.line, last) + 1 if mark is not None else 0
        raise BlockError(f"not valid YAML: {getattr(err, 'problem', None) or err}", line) from None
    if opts is None:
        opts = {}
    if not isinstance(opts, dict):
        raise BlockError("expected key: value lines (YAML), e.g. runs: user = ana")
    allowed = BLOCK_KEYS[block.kind]
    for key in opts:
        if key not in allowed:
            raise BlockError(f"unknown key {str(key)!r}{_nearest(str(key), allowed)}"
                             f" (keys: {', '.join(allowed)})", _key_line(block.source, str(key)) + 1)
    return opts


def _opt_line(block: markdown.Block, key: str) -> int:
    return _key_line(block.source, key) + 1


def _list_of_text(opts: dict, key: str, block) -> list[str] | None:
    v = opts.get(key)
    if v is None:
        return None
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and all(isinstance(x, (str, int, float)) for x in v) and v:
        return [str(x) for x in v]
    raise BlockError(f"{key}: expected a name or a list of names, got {_type(v)}", _opt_line(block, key))


def _select(opts: dict, block, selector: Selector) -> list:
    sel = opts.get("runs", "")
    try:
        if isinstance(sel, list):
            seen, runs = set(), []
            for item in sel:
                for r in selector.select(item, opts.get("project")):
                    if id(r) not in seen:
                        seen.add(id(r))
                        runs.append(r)
            return runs
        return selector.select(sel, opts.get("project"))
    except BlockError as err:
        err.line = _opt_line(block, "runs" if "project" not in str(err) else "project")
        raise


def _metrics(opts: dict, block, runs: list, selector: Selector, series_only: bool) -> list[str]:
    names = _list_of_text(opts, "metric", block) or []
    names += _list_of_text(opts, "metrics", block) or []
    if not names:
        projects = {r.project for r in runs}
        main = selector.projects[next(iter(projects))].main_metric if len(projects) == 1 else None
        if not main:
            raise BlockError("say which metric to draw, e.g. metric: val/acc")
        names = [main]
    logged = {k for r in runs for k in r.metric_keys}
    for name in names:
        if name not in logged and (series_only or not any(name in r.summary for r in runs)):
            key = "metric" if "metric" in opts else "metrics"
            raise BlockError(f"no selected run logged {name!r}{_nearest(name, logged)}", _opt_line(block, key))
    return names


def _bool(opts: dict, key: str, block) -> bool:
    v = opts.get(key, False)
    if not isinstance(v, bool):
        raise BlockError(f"{key}: expected true or false, got {_type(v)}", _opt_line(block, key))
    return v


def _view(opts: dict, block, runs: list) -> dict:
    """Options shared by chart and compare drawings."""
    x = opts.get("x", "step")
    if not isinstance(x, str) or not x:
        raise BlockError(f"x: expected step, time, relative or a metric name, got {_type(x)}", _opt_line(block, "x"))
    if x in X_MODES:
        x_mode = X_MODES[x]
    else:
        logged = {k for r in runs for k in r.metric_keys}
        if x not in logged:
            raise BlockError(f"x: {x!r} is not step, time, relative or a logged metric"
                             f"{_nearest(x, list(X_MODES) + sorted(logged))}", _opt_line(block, "x"))
        x_mode = "m:" + x
    smoothing = opts.get("smoothing", 0)
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not 0 <= smoothing < 1:
        raise BlockError(f"smoothing: expected a number from 0 to 0.99, got {smoothing!r}", _opt_line(block, "smoothing"))
    y_range = opts.get("y_range")
    if y_range is not None:
        if (not isinstance(y_range, list) or len(y_range) != 2
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in y_range)
                or y_range[0] >= y_range[1]):
            raise BlockError(f"y_range: expected [low, high] numbers, got {y_range!r}", _opt_line(block, "y_range"))
        y_range = [float(v) for v in y_range]
    height = opts.get("height", 260)
    if isinstance(height, bool) or not isinstance(height, int) or not 120 <= height <= 1200:
        raise BlockError(f"height: expected pixels from 120 to 1200, got {height!r}", _opt_line(block, "height"))
    title = opts.get("title")
    return {"x": x_mode, "log_x": _bool(opts, "log_x", block), "log_y": _bool(opts, "log_y", block),
            "smoothing": float(smoothing), "y_range": y_range, "height": height,
            "title": "" if title is None else str(title)}


def _groups(opts: dict, block, runs: list, selector: Selector) -> list[dict] | None:
    key = opts.get("group_by")
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise BlockError(f"group_by: expected a column name such as group, user or lr, got {_type(key)}",
                         _opt_line(block, "group_by"))
    groups: dict[str, list] = {}
    missing = 0
    for run in runs:
        cell = lookup(selector.row(run), key)
        if isinstance(cell, list):
            cell = ", ".join(map(str, cell))
        text = "" if cell is None or not isinstance(cell, (str, int, float, bool)) else to_text(cell)
        missing += text == ""
        groups.setdefault(text or "(none)", []).append(run)
    if missing == len(runs):
        names = sorted({k.removeprefix("config.") for r in runs for k in selector.row(r)})
        raise BlockError(f"group_by: no selected run has {key!r}{_nearest(key, names)}", _opt_line(block, "group_by"))
    named = key.lower() not in ("group", "user", "name", "project", "status", "host")
    return [{"label": f"{key} = {label}" if named else label, "runs": members,
             "color": GROUP_PALETTE[i % len(GROUP_PALETTE)]}
            for i, (label, members) in enumerate(groups.items())]


def resolve_chart(block, opts, selector) -> dict:
    runs = _select(opts, block, selector)
    metrics = _metrics(opts, block, runs, selector, series_only=True)
    return {"runs": runs, "metrics": metrics, "groups": _groups(opts, block, runs, selector),
            **_view(opts, block, runs)}


def resolve_runs(block, opts, selector) -> dict:
    runs = _select(opts, block, selector)
    rows = [selector.row(r) for r in runs]
    columns = _list_of_text(opts, "columns", block)
    projects = {r.project for r in runs}
    main = selector.projects[next(iter(projects))].main_metric if len(projects) == 1 else None
    best = opts.get("best", main)
    if best is not None and not isinstance(best, str):
        raise BlockError(f"best: expected a metric name, got {_type(best)}", _opt_line(block, "best"))
    if columns is None:
        columns = ["name", "user", "status"]
        config_keys = [k for k in rows[0] if k.startswith("config.")] if rows else []
        for row in rows[1:]:
            config_keys += [k for k in row if k.startswith("config.") and k not in config_keys]
        varying = [k for k in config_keys
                   if len({json.dumps(r.get(k), sort_keys=True, default=str) for r in rows}) > 1]
        columns += [k[len("config."):] for k in varying[:5]]
        if best:
            columns.append(best)
    known = {k for row in rows for k in row} | {k[len("config."):] for row in rows for k in row
                                                if k.startswith("config.")}
    for col in columns:
        if lookup_any(rows, col) is _ABSENT:
            raise BlockError(f"columns: no selected run has {col!r}{_nearest(col, known)}", _opt_line(block, "columns"))
    if best is not None and best not in columns:
        columns.append(best)
    if best is not None and lookup_any(rows, best) is _ABSENT:
        raise BlockError(f"best: no selected run has {best!r}{_nearest(best, known)}", _opt_line(block, "best"))
    sort = opts.get("sort")
    if sort is not None:
        if not isinstance(sort, str) or lookup_any(rows, sort.lstrip("-")) is _ABSENT:
            raise BlockError(f"sort: no selected run has {str(sort).lstrip('-')!r} (write -key to sort descending)",
                             _opt_line(block, "sort"))
        desc, skey = sort.startswith("-"), sort.lstrip("-")
        pairs = sorted(zip(runs, rows), key=lambda p: _sort_key(lookup(p[1], skey)), reverse=desc)
        runs, rows = [p[0] for p in pairs], [p[1] for p in pairs]
    limit = opts.get("limit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise BlockError(f"limit: expected a positive whole number, got {limit!r}", _opt_line(block, "limit"))
        runs, rows = runs[:limit], rows[:limit]
    best_run = None
    if best is not None:
        scored = [(n, r) for r, row in zip(runs, rows)
                  if (n := _numeric(lookup(row, best))) is not None and math.isfinite(n)]
        if scored:
            pick = min if metric_direction(best) == "min" else max
            best_run = pick(scored, key=lambda p: p[0])[1]
    return {"runs": runs, "rows": rows, "columns": columns, "best": best, "best_run": best_run,
            "title": str(opts.get("title") or "")}


_ABSENT = object()


def lookup_any(rows: list[dict], key: str) -> Any:
    for row in rows:
        v = lookup(row, key)
        if v is not _MISSING:
            return v
    return _ABSENT


def _sort_key(v: Any) -> tuple:
    """Numbers first (ascending), then text; missing values last."""
    if v is None or isinstance(v, (list, dict)) or v is _ABSENT or v is _MISSING:
        return (2, 0.0, "")
    n = to_number(v)
    if n is not None and math.isfinite(n):
        return (0, n, "")
    return (1, 0.0, to_text(v).lower())


def resolve_compare(block, opts, selector) -> dict:
    runs = _select(opts, block, selector)
    if len(runs) < 2:
        raise BlockError(f"compare needs two or more runs; {opts.get('runs', '')!r} matches {len(runs)}",
                         _opt_line(block, "runs"))
    metrics = _list_of_text(opts, "metrics", block)
    if metrics is None:
        shared = [k for k in runs[0].summary if not k.startswith("_")
                  and all(_numeric(r.summary.get(k)) is not None for r in runs)]
        metrics = shared[:10]
    else:
        _metrics({"metrics": metrics}, block, runs, selector, series_only=False)
    charts = _list_of_text(opts, "charts", block)
    logged = {k for r in runs for k in r.metric_keys}
    if charts is None:
        charts = [m for m in metrics if m in logged][:MAX_COMPARE_CHARTS]
    else:
        for name in charts:
            if name not in logged:
                raise BlockError(f"charts: no selected run logged {name!r}{_nearest(name, logged)}",
                                 _opt_line(block, "charts"))
    config_keys: list[str] = []
    for r in runs:
        config_keys += [k for k in r.config if k not in config_keys]
    differ = []
    for key in config_keys:
        values = [r.config.get(key) for r in runs]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            differ.append({"key": key, "cells": [None if v is None else to_text(v) for v in values]})
    deltas = []
    for key in metrics:
        base = _numeric(final_value(runs[0], key))
        cells = []
        for i, r in enumerate(runs):
            v = _numeric(final_value(r, key))
            cell = {"value": v, "text": format_value(v) if v is not None else "", "abs": None, "pct": None,
                    "better": None}
            if i and v is not None and base is not None and math.isfinite(v) and math.isfinite(base):
                d = v - base
                cell["abs"] = d
                cell["pct"] = d / abs(base) * 100 if base else None
                if d:
                    cell["better"] = (d < 0) if metric_direction(key) == "min" else (d > 0)
            cells.append(cell)
        deltas.append({"key": key, "direction": metric_direction(key), "cells": cells})
    view = _view(opts, block, runs)
    return {"runs": runs, "config": differ, "config_keys": len(config_keys), "deltas": deltas,
            "metrics": charts, "groups": None, **view}


def _resolve_media(block, opts, selector) -> dict:
    from runpages.sitegen.report_media import resolve_media   # it builds on the helpers above

    return resolve_media(block, opts, selector)


def _resolve_table(block, opts, selector) -> dict:
    from runpages.sitegen.report_media import resolve_table

    return resolve_table(block, opts, selector)


RESOLVERS = {"chart": resolve_chart, "runs": resolve_runs, "compare": resolve_compare,
             "media": _resolve_media, "table": _resolve_table}


