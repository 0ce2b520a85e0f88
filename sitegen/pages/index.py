"""The home page: projects (run counts, users, last activity) and the team pulse.

Pulse data is computed here and handed to the template as plain data; the template embeds it
with jinja's ``tojson`` (which escapes ``<``, ``>``, ``&`` and quotes) and ``index.js`` draws it
with BokehJS. Times are Unix seconds; days are UTC calendar days.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timezone

from runpages.sitegen.colors import user_colors
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import IndexContext

PULSE_DAYS = 60
BEST_MAX_STEPS = 200     # best-so-far improvements drawn per project: the home page stays small


def _finite(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d")


def runs_per_day(projects, days: int = PULSE_DAYS) -> dict:
    """``{"days": [...], "users": {user: [count per day]}, "colors": {user: colour}}`` over the last ``days`` days that
    have runs (ending at the newest run, so an old site still shows its activity)."""
    starts = [(r.user or "(unknown)", r.started_at) for p in projects for r in p.runs
              if _finite(r.started_at) is not None]
    if not starts:
        return {"days": [], "users": {}}
    last = max(t for _, t in starts)
    first = max(min(t for _, t in starts), last - (days - 1) * 86400)
    first_day = datetime.fromtimestamp(first, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    n = int((last - first_day.timestamp()) // 86400) + 1
    day_list = [_day(first_day.timestamp() + i * 86400) for i in range(n)]
    index = {d: i for i, d in enumerate(day_list)}
    users: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    for user, t in starts:
        i = index.get(_day(t))
        if i is not None:
            users[user][i] += 1
    order = sorted(users, key=lambda u: (-sum(users[u]), u))
    first_seen: dict[str, float] = {}
    for user, t in starts:
        first_seen[user] = min(t, first_seen.get(user, t))
    colors = user_colors(first_seen)          # by first run ever: a new user moves no one
    return {"days": day_list, "users": {u: users[u] for u in order}, "colors": {u: colors[u] for u in order}}


def best_so_far(project) -> dict | None:
    """The project's main metric, best value so far over calendar time (by run end)."""
    from runpages.sitegen.model import metric_direction

    key = getattr(project, "main_metric", None)
    if not key:
        return None
    direction = metric_direction(key)
    points = []
    for run in project.runs:
        v = _finite(run.summary.get(key)) if isinstance(run.summary, dict) else None
        t = _finite(run.ended_at) or _finite(getattr(run, "last_activity", None)) or _finite(run.started_at)
        if v is not None and t is not None:
            points.append((t, v, run.name or run.id))
    if not points:
        return None
    points.sort()
    best = None
    xs, ys, names = [], [], []
    for t, v, name in points:
        if best is None or (v < best if direction == "min" else v > best):
            best = v
            xs.append(t)
            ys.append(v)
            names.append(name)
    if len(xs) > BEST_MAX_STEPS:
        # A project that improved with almost every run: keep evenly spaced improvements and
        # the last one (the best), so the step line keeps its shape and the page its size.
        keep = sorted({round(i * (len(xs) - 1) / (BEST_MAX_STEPS - 1)) for i in range(BEST_MAX_STEPS)})
        xs, ys, names = [xs[i] for i in keep], [ys[i] for i in keep], [names[i] for i in keep]
    xs.append(points[-1][0])
    ys.append(best)
    names.append(names[-1])
    return {"metric": key, "direction": direction, "time": xs, "value": ys, "run": names, "best": best}


def build_index(logbook) -> Page:
    """The home page: one row per project, the team pulse, the reports listing."""
    projects, config, site = logbook.projects, logbook.config, logbook.site
    rows = []
    pulse_best = []
    for p in projects:
        statuses = Counter(r.status for r in p.runs)
        best = best_so_far(p)
        rows.append({
            "name": p.name,
            "url": site.project_url(p),
            "runs": len(p.runs),
            "users": list(getattr(p, "users", [])),
            "last_activity": getattr(p, "last_activity", None),
            "statuses": sorted(statuses.items()),
            "main_metric": getattr(p, "main_metric", None),
            "best": best["best"] if best else None,
            "direction": best["direction"] if best else None,
        })
        if best:
            pulse_best.append({"project": p.name, **best})
    rows.sort(key=lambda r: -(r["last_activity"] or 0))
    pulse = {"per_day": runs_per_day(projects), "best": pulse_best}
    users = sorted({r.user for p in projects for r in p.runs if r.user})
    ctx: IndexContext = {
        "title": config.title,
        "projects": rows,
        "run_count": sum(len(p.runs) for p in projects),
        "users": users,
        "pulse": pulse,
        "runs_dirs": [str(d) for d in config.runs_dirs],
        "reports": list(logbook.report_listing),
    }
    return Page("index.html", "index.html", ctx)
