"""The checks page of a project: ``p/<project>/checks.html``, from the records ``runpages check``
keeps in ``<runs>/<project>/.checks/``.

Shows the verdict of every check over time (newest first) with the commit and branch checked,
the commits that regressed, and one small trend chart per gated metric (candidate value and the
allowed bound at each check), drawn as inline SVG so it reads without JavaScript and from
``file://``. Geometry is computed here and reaches the template as numbers only; every text
from a record (names, metrics, branches) is escaped by the template.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from runpages.sitegen.check_report import fmt, num
from runpages.sitegen.logbook import CHECKS_DIR, project_dirs
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import ChecksContext
from runpages.sitegen.values import format_utc

CHART_W, CHART_H, PAD = 360, 120, 20
MAX_ROWS = 500


def checks_url(project, site) -> str:
    """Site-root-relative path of the project's checks page (for a link on the project page)."""
    return f"p/{site.project_slug(project.name)}/checks.html"


def _fmt(v: Any) -> str:
    return fmt(num(v))


def _run_link(entry: dict | None, runs_by_id: dict, site) -> str | None:
    if not entry:
        return None
    run = runs_by_id.get(entry.get("id"))
    return site.run_url(run) if run is not None else None


def _same_check(rec: dict) -> str:
    """What makes two records one check run again (a CI re-run): candidate, baseline, rules."""
    import json

    cand = rec.get("candidate") or {}
    base = [b.get("id") for b in (rec.get("baseline") or {}).get("runs") or [] if isinstance(b, dict)]
    rules = sorted(f"{_series_key(r)} {r.get('allowed_text')}" for r in rec.get("results") or [] if isinstance(r, dict))
    return json.dumps([cand.get("id"), cand.get("commit"), base, rules, rec.get("project")], default=str)


def latest_of_reruns(records: list[dict]) -> list[dict]:
    """One record per check, the newest of its re-runs, with ``_runs`` = how many times it ran."""
    latest: dict[str, dict] = {}
    count: dict[str, int] = {}
    for rec in records:                                   # oldest first
        key = _same_check(rec)
        count[key] = count.get(key, 0) + 1
        latest[key] = rec
    out = [{**rec, "_runs": count[key]} for key, rec in latest.items()]
    out.sort(key=lambda r: r["checked_at"])
    return out


def _series_key(r: dict) -> str:
    return f"{r.get('metric')} ({r.get('value', 'summary')}, {r.get('direction', '')})"


def _chart(points: list[dict]) -> dict | None:
    """SVG geometry for one metric: candidate line + dots, allowed-bound dashes, y range labels."""
    ys = [v for p in points for v in (p["candidate"], p["bound"], p["baseline"])
          if v is not None and math.isfinite(v)]
    if not ys:
        return None
    lo, hi = min(ys), max(ys)
    if hi == lo:
        lo, hi = lo - (abs(lo) * 0.05 or 1.0), hi + (abs(hi) * 0.05 or 1.0)
    n = len(points)
    inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD

    def x(i: int) -> float:
        return round(PAD + (inner_w * (i / (n - 1)) if n > 1 else inner_w / 2), 1)

    def y(v: float) -> float:
        return round(PAD + inner_h * (1 - (v - lo) / (hi - lo)), 1)

    def line(key: str) -> str:
        return " ".join(f"{x(i)},{y(p[key])}" for i, p in enumerate(points)
                        if p[key] is not None and math.isfinite(p[key]))

    dots = []
    for i, p in enumerate(points):
        v = p["candidate"]
        if v is None or not math.isfinite(v):
            continue
        dots.append({"x": x(i), "y": y(v), "verdict": p["verdict"],
                     "title": f"{p['when']} \u00b7 {p['commit'] or p['run']} \u00b7 {_fmt(v)} ({p['verdict']})"})
    return {"w": CHART_W, "h": CHART_H, "candidate": line("candidate"), "bound": line("bound"),
            "dots": dots, "hi": _fmt(hi), "lo": _fmt(lo), "y_hi": PAD, "y_lo": CHART_H - PAD,
            "x0": PAD, "x1": CHART_W - PAD}


def build_checks(project, logbook) -> Page | None:
    """``p/<project>/checks.html``; None when the project has never been checked."""
    site, config = logbook.site, logbook.config
    records = logbook.checks.get(project.name, [])
    records = latest_of_reruns([r for r in records if r.get("project") in (None, project.name)])
    if not records:
        return None
    runs_by_id = {r.id: r for r in project.runs}
    rows, regressed, trends = [], [], {}
    counts = {"holds": 0, "regressed": 0, "error": 0}
    for rec in records:
        verdict = rec.get("verdict") if rec.get("verdict") in counts else "error"
        counts[verdict] += 1
        cand = rec.get("candidate") or {}
        base = rec.get("baseline") or {}
        first_base = (base.get("runs") or [{}])[0]
        when = format_utc(rec.get("checked_at"))
        results = [r for r in rec.get("results") or [] if isinstance(r, dict)]
        row = {
            "when": when, "verdict": verdict, "commit": str(cand.get("commit") or "")[:7],
            "branch": str(cand.get("branch") or ""), "run": str(cand.get("name") or cand.get("id") or ""),
            "run_url": _run_link(cand, runs_by_id, site),
            "baseline": str(base.get("label") or ""), "baseline_commit": str(first_base.get("commit") or "")[:7],
            "baseline_url": _run_link(first_base, runs_by_id, site),
            "baseline_runs": [{"name": str(b.get("name") or b.get("id") or ""),
                               "url": _run_link(b, runs_by_id, site)}
                              for b in base.get("runs") or [] if isinstance(b, dict)],
            "reruns": rec.get("_runs", 1),
            "message": str(rec.get("message") or ""),
            "results": [{"metric": _series_key(r), "candidate": _fmt(r.get("candidate")),
                         "baseline": _fmt(r.get("baseline")), "change": str(r.get("change_text") or ""),
                         "verdict": str(r.get("verdict") or "")} for r in results],
        }
        rows.append(row)
        if verdict == "regressed":
            regressed.append({**row, "results": [x for x in row["results"] if x["verdict"] == "regressed"]})
        for r in results:
            trends.setdefault(_series_key(r), []).append({
                "candidate": num(r.get("candidate")), "bound": num(r.get("bound")),
                "baseline": num(r.get("baseline")), "verdict": str(r.get("verdict") or ""),
                "when": when, "commit": row["commit"], "run": row["run"]})
    charts = []
    for key, points in trends.items():
        chart = _chart(points)
        if chart:
            charts.append({"metric": key, "chart": chart, "checks": len(points)})
    rows.reverse()
    regressed.reverse()
    ctx: ChecksContext = {
            "title": f"Checks \u00b7 {project.name} \u00b7 {getattr(config, 'title', 'runpages')}",
            "project": {"name": project.name, "url": site.project_url(project)},
            "counts": counts, "total": len(records),
            "rows": rows[:MAX_ROWS], "more": max(0, len(rows) - MAX_ROWS),
            "regressed": regressed, "charts": charts,
    }
    return Page(checks_url(project, site), "checks.html", ctx)
