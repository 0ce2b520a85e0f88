"""Utilisation pages: who uses how much of the machines and how well.

``p/<project>/utilisation.html`` per project and ``utilisation.html`` for the whole site; the
figures come from ``sitegen.utilisation`` (rules and units there). Every table is rendered on
the server (readable without JavaScript), worst offenders first; ``static/utilisation.js``
sorts a table when its header is clicked, by each cell's ``data-v`` (a plain number) or text.
``run_card(run, config)`` is the context for ``partials/utilisation_card.html``, shared with the
run page.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from runpages.site_paths import run_page_path
from runpages.sitegen import utilisation as U
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import UtilisationContext
from runpages.sitegen.pages.summary import summary_of

SITE_PATH = "utilisation.html"


def project_path(site, project) -> str:
    return f"p/{site.project_slug(project.name)}/utilisation.html"


# ---- display --------------------------------------------------------------------------------

def _num(v: float | None, digits: int = 2) -> str:
    if v is None or not math.isfinite(v):
        return ""
    if v != 0 and abs(v) < 10 ** -digits:
        return f"{v:.1g}"
    return f"{v:,.{digits}f}"


def _pct(v: float | None) -> str:
    return "" if v is None or not math.isfinite(v) else f"{v:.0f}%"


def _share(v: float | None) -> str:
    return "" if v is None or not math.isfinite(v) else f"{100 * v:.0f}%"


def _cell(text: str, v: float | None = None, cls: str = "num", title: str = "") -> dict:
    sort = "" if v is None or not math.isfinite(v) else repr(round(float(v), 6))
    return {"text": text, "v": sort, "cls": cls, "title": title}


def _energy_title(u: U.RunUsage) -> str:
    return {"counter": "from the NVML energy counter", "power": "integrated GPU power",
            "counter+power": "NVML energy counter where present, else integrated power"}.get(
        u.energy_source or "", "")


def run_row(u: U.RunUsage, url: str) -> dict:
    gpu = u.kind == U.KIND_GPU
    label = {U.KIND_CPU_ONLY: "CPU-only", U.KIND_NO_SAMPLES: "no samples"}.get(u.kind, "")
    gpus = str(u.gpus) if gpu else label
    if gpu and u.gpus_allocated > u.gpus:
        gpus = f"{u.gpus} of {u.gpus_allocated}"
    cells = [
        _cell(u.user, cls="text"),
        _cell(_num(u.wasted_gpu_hours, 3), u.wasted_gpu_hours, cls="num rp-wasted"),
        _cell(_num(u.gpu_hours, 3), u.gpu_hours),
        _cell(_pct(u.util_mean), u.util_mean, title=f"median {_pct(u.util_median)}" if gpu else ""),
        _cell("; ".join(u.reasons), cls="reason"),
        _cell(gpus, u.gpus if gpu else None, title=", ".join(u.gpu_names)),
        _cell(_pct(u.util_median), u.util_median),
        _cell(_pct(u.mem_pct_mean), u.mem_pct_mean),
        _cell(_share(u.idle_share), u.idle_share),
        _cell(_pct(u.cpu_max_core_pct), u.cpu_max_core_pct),
        _cell(_pct(u.cpu_proc_pct), u.cpu_proc_pct),
        _cell(_num(u.energy_kwh, 3), u.energy_kwh, title=_energy_title(u)),
        _cell(_num(u.cost, 2), u.cost),
        _cell(u.week, cls="text"),
        _cell(u.status, cls="status"),
    ]
    return {"key": u.key, "name": u.name, "url": url, "project": u.project, "kind": u.kind,
            "cells": cells, "flag": bool(gpu and u.reasons)}


RUN_HEADERS = [
    ("user", "text", ""),
    ("wasted GPU-h", "num", "GPU-hours x (1 - utilisation)"),
    ("GPU-hours", "num", "sampled time x GPUs"),
    ("GPU util", "num", "mean GPU utilisation, time-weighted"),
    ("why", "text", "what the samples show"),
    ("GPUs", "num", "GPUs with utilisation samples"),
    ("median", "num", "median GPU utilisation of the samples"),
    ("GPU mem", "num", "mean GPU memory used"),
    ("idle", "num", "share of GPU time under the idle threshold"),
    ("busiest core", "num", "mean of the busiest CPU core"),
    ("CPU", "num", "this process, % of one core"),
    ("kWh", "num", "GPU energy"),
    ("cost", "num", "gpu_hour_cost x GPU-hours + kwh_cost x kWh"),
    ("week", "text", "ISO week the run started"),
    ("status", "text", ""),
]


def aggregate_row(a: U.Aggregate, run_url: dict[str, str]) -> dict:
    worst = a.worst
    return {
        "name": a.name,
        "cells": [
            _cell(str(a.runs), a.runs),
            _cell(str(a.gpu_runs), a.gpu_runs),
            _cell(str(a.cpu_only_runs), a.cpu_only_runs),
            _cell(_num(a.gpu_hours, 3), a.gpu_hours),
            _cell(_pct(a.util_mean), a.util_mean),
            _cell(_num(a.energy_kwh, 3), a.energy_kwh),
            _cell(_num(a.cost, 2), a.cost),
            _cell(_num(a.wasted_gpu_hours, 3), a.wasted_gpu_hours, cls="num rp-wasted"),
        ],
        "worst": None if worst is None or not worst.wasted_gpu_hours else {
            "name": worst.name, "url": run_url.get(worst.key, ""), "reason": worst.reason,
            "wasted": _num(worst.wasted_gpu_hours, 3)},
    }


AGG_HEADERS = [
    ("runs", "num", ""), ("GPU runs", "num", ""), ("CPU-only", "num", ""),
    ("GPU-hours", "num", ""), ("GPU util", "num", "GPU-hour weighted"), ("kWh", "num", ""),
    ("cost", "num", ""), ("wasted GPU-h", "num", "GPU-hours x (1 - utilisation)"),
]


def headline(usages: list[U.RunUsage], users: list[U.Aggregate]) -> dict | None:
    """The one sentence a reader came for: who wasted most GPU-hours, on which run, why."""
    gpu = [u for u in usages if u.kind == U.KIND_GPU and u.wasted_gpu_hours]
    if not gpu:
        return None
    worst = max(gpu, key=lambda u: u.wasted_gpu_hours)
    top_user = users[0] if users else None
    return {
        "run": worst.name, "key": worst.key, "user": worst.user or "(unknown)",
        "wasted": _num(worst.wasted_gpu_hours, 3), "gpu_hours": _num(worst.gpu_hours, 3),
        "util": _pct(worst.util_mean), "reason": worst.reason,
        "top_user": top_user.name if top_user else "",
        "top_user_wasted": _num(top_user.wasted_gpu_hours, 3) if top_user else "",
    }


# The site page lists this many runs, the worst first, and so does a large project's page
# (``pages.project.is_large``); a smaller project's page lists all of its own (a team-year of
# runs would make the site page tens of megabytes).
SITE_RUN_ROWS = 200


def _figures(ordered: list[U.RunUsage], rows_total: int, users: list[U.Aggregate],
             weeks: list[U.Aggregate], total: U.Aggregate, simulated: list[str], config, *,
             with_project: bool, row_limit: int | None = None) -> dict:
    """The part of a ``UtilisationContext`` the project and the site page share: ``ordered``,
    the runs to list (``U.worst_first``; ``row_limit``: only that many are), the rest summed."""
    shown = ordered if row_limit is None else ordered[:row_limit]
    run_url = _KeyUrls()
    top = headline(ordered, users)
    if top:
        top["url"] = run_url[top["key"]]
    return {
        "rows": [run_row(u, run_url[u.key]) for u in shown], "rows_total": rows_total,
        "run_headers": RUN_HEADERS,
        "users": [aggregate_row(a, run_url) for a in users],
        "weeks": [aggregate_row(a, run_url) for a in sorted(weeks, key=lambda a: a.name, reverse=True)],
        "agg_headers": AGG_HEADERS,
        "headline": top,
        "total": aggregate_row(total, run_url),
        "with_project": with_project,
        "idle_util_pct": f"{getattr(config, 'idle_util_pct', U.DEFAULT_IDLE_UTIL_PCT):g}",
        "gpu_hour_cost": getattr(config, "gpu_hour_cost", None),
        "kwh_cost": getattr(config, "kwh_cost", None),
        "simulated": simulated,
    }


def _simulated(runs) -> list[str]:
    return sorted({str(r.meta.get("system_source")) for r in runs
                   if "simulated" in str(r.meta.get("system_source") or "")})


class _KeyUrls(dict):
    """Run key -> run page URL, made from the key on first asking (``site_paths.run_page_path``)."""

    def __missing__(self, key: str) -> str:
        url = self[key] = run_page_path(*key.split("/", 1))
        return url

    def get(self, key: str, default=None):
        return self[key] if key else default


def site_part(project, site, config) -> dict:
    """What the site utilisation page needs of one project, as plain JSON values: its worst
    runs (as many as the site page lists), its per-user, per-week and total sums. A rebuild
    keeps it for a project whose runs did not change (``pages.summary``)."""
    usages, by_key = _usages(project.runs, site, config)
    return {"rows": [dataclasses.asdict(u) for u in U.worst_first(usages)[:SITE_RUN_ROWS]],
            "count": len(usages),
            "users": [dataclasses.asdict(a) for a in U.aggregate(usages, "user")],
            "weeks": [dataclasses.asdict(a) for a in U.aggregate(usages, "week")],
            "total": dataclasses.asdict(U.totals(usages)),
            "simulated": _simulated(by_key.values())}


# The run page's card and these pages share one computation per run, and serve --watch
# rebuilds keep the figures of a run whose files did not change (same fingerprint).
# Bounded: cleared when it outgrows any plausible site.
# The build keeps each run's figures in its cache between processes (``usage_record`` /
# ``remember_usage``), so a rebuild computes them only for runs that changed.
_CACHE: dict[tuple, U.RunUsage] = {}
_CACHE_MAX = 250_000


def _cache_key(run, config) -> tuple:
    return (run.dir, getattr(run, "fingerprint", ""), run.status, getattr(config, "idle_util_pct", None),
            getattr(config, "gpu_hour_cost", None), getattr(config, "kwh_cost", None))


def usage_record(run, config) -> dict | None:
    """The run's figures as plain JSON values, when they were computed (for the build cache)."""
    hit = _CACHE.get(_cache_key(run, config)) if getattr(run, "fingerprint", "") else None
    return dataclasses.asdict(hit) if hit is not None else None


def remember_usage(run, config, record: dict) -> bool:
    """Take figures ``usage_record`` gave for this run (same fingerprint) instead of computing
    them; False when they were not taken (a record of another shape: computed afresh)."""
    if not getattr(run, "fingerprint", "") or len(_CACHE) >= _CACHE_MAX:
        return False
    try:
        _CACHE[_cache_key(run, config)] = U.usage_from_json(record)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _usage(run, config, key: str | None = None) -> U.RunUsage:
    fp = getattr(run, "fingerprint", "")
    if not fp:
        return U.run_usage(run, config, key=key)
    ck = _cache_key(run, config)
    hit = _CACHE.get(ck)
    if hit is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        hit = _CACHE[ck] = U.run_usage(run, config)
    return hit if key is None or hit.key == key else dataclasses.replace(hit, key=key)


def _usages(runs, site, config) -> tuple[list[U.RunUsage], dict[str, Any]]:
    by_key = {site.key(r): r for r in runs}
    return [_usage(r, config, k) for k, r in by_key.items()], by_key


def build_utilisation(book, only: set[str] | None = None) -> list[Page]:
    """One page per project (``p/<project>/utilisation.html``) and one for the site; ``only``:
    the projects whose own page to build. The site page counts every project's runs, from the
    projects' summaries (``pages.summary``): an unchanged project costs no run's work."""
    from runpages.sitegen.pages.project import is_large    # project.py links to these pages

    projects, config, site = book.projects, book.config, book.site
    title = getattr(config, "title", "runpages")
    pages = []
    listed = sorted(projects, key=lambda p: p.name.lower())
    for project in listed:
        if only is not None and project.name not in only:
            continue
        usages, by_key = _usages(project.runs, site, config)
        ctx: UtilisationContext = {
            **_figures(U.worst_first(usages), len(usages), U.aggregate(usages, "user"),
                       U.aggregate(usages, "week"), U.totals(usages), _simulated(by_key.values()),
                       config, with_project=False,
                       # a large project's page lists its worst runs, as the site page does
                       row_limit=SITE_RUN_ROWS if is_large(project) else None),
            "title": f"Utilisation \u00b7 {project.name} \u00b7 {title}",
            "heading": f"GPU utilisation \u00b7 {project.name}",
            "project": {"name": project.name, "url": site.project_url(project)},
            "projects": [], "site_page": SITE_PATH}
        pages.append(Page(project_path(site, project), "utilisation.html", ctx))
    parts = [summary_of(book, p)["usage"] for p in listed]
    ordered = U.worst_first(U.usage_from_json(r) for part in parts for r in part["rows"])
    total = U.merged([U.aggregate_from_json(part["total"])] for part in parts)
    ctx = {
        **_figures(ordered, sum(part["count"] for part in parts),
                   U.merged([U.aggregate_from_json(a) for a in part["users"]] for part in parts),
                   U.merged([U.aggregate_from_json(a) for a in part["weeks"]] for part in parts),
                   total[0] if total else U.Aggregate("all"),
                   sorted({s for part in parts for s in part["simulated"]}),
                   config, with_project=True, row_limit=SITE_RUN_ROWS),
        "title": f"Utilisation \u00b7 {title}", "heading": "GPU utilisation \u00b7 all projects",
        "project": None, "site_page": SITE_PATH,
        "projects": [{"name": p.name, "url": project_path(site, p)} for p in listed]}
    pages.append(Page(SITE_PATH, "utilisation.html", ctx))
    return pages


def run_card(run, config=None) -> dict:
    """Context for ``partials/utilisation_card.html`` (the run page passes it as ``usage``)."""
    u = _usage(run, config)
    items = []
    if u.kind == U.KIND_GPU:
        gpus = f"{u.gpus}" + (f" of {u.gpus_allocated}" if u.gpus_allocated > u.gpus else "")
        items = [("GPUs", gpus + (f" \u00b7 {u.gpu_names[0]}" if u.gpu_names else "")),
                 ("GPU-hours", _num(u.gpu_hours, 3)),
                 ("GPU util", f"{_pct(u.util_mean)} mean \u00b7 {_pct(u.util_median)} median"),
                 ("GPU memory", _pct(u.mem_pct_mean)),
                 ("idle", f"{_share(u.idle_share)} of the time under {getattr(config, 'idle_util_pct', U.DEFAULT_IDLE_UTIL_PCT):g}%"),
                 ("busiest CPU core", _pct(u.cpu_max_core_pct)),
                 ("energy", f"{_num(u.energy_kwh, 3)} kWh" if u.energy_kwh is not None else "unknown"),
                 ("wasted GPU-hours", _num(u.wasted_gpu_hours, 3))]
        if u.cost is not None:
            items.insert(7, ("cost", _num(u.cost, 2)))
    elif u.kind == U.KIND_CPU_ONLY:
        items = [("GPUs", "none sampled (CPU-only)"), ("CPU", f"{_pct(u.cpu_proc_pct)} of one core"),
                 ("busiest CPU core", _pct(u.cpu_max_core_pct)),
                 ("sampled", f"{_num(u.sampled_hours, 3)} h")]
    return {"kind": u.kind, "items": [(k, v) for k, v in items if v], "reasons": u.reasons,
            "running": u.status == "running"}
