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
from runpages.sitegen.pages.summary import summary_of

PULSE_DAYS = 60
BEST_MAX_STEPS = 200     # best-so-far improvements drawn per project: the home page stays small


def _finite(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d")


def pulse_part(project) -> dict:
    """What ``runs_per_day`` needs of one project, kept between builds in its summary
    (``pages.summary``): run starts counted per UTC day and user, each user's first
    start and the span of the starts. Plain JSON values."""
    days: dict[str, dict[str, int]] = {}
    first_seen: dict[str, float] = {}
    lo = hi = None
    for r in project.runs:
        t = _finite(r.started_at)
        if t is None:
            continue
        user = r.user or "(unknown)"
        per_user = days.setdefault(_day(t), {})
        per_user[user] = per_user.get(user, 0) + 1
        first_seen[user] = min(t, first_seen.get(user, t))
        lo, hi = (t, t) if lo is None else (min(lo, t), max(hi, t))
    return {"days": days, "first_seen": first_seen, "span": None if lo is None else [lo, hi]}


def runs_per_day(projects, days: int = PULSE_DAYS, parts: list[dict] | None = None) -> dict:
    """``{"days": [...], "users": {user: [count per day]}, "colors": {user: colour}}`` over the last ``days`` days that
    have runs (ending at the newest run, so an old site still shows its activity). ``parts``:
    the projects' ``pulse_part``s, where the caller has them."""
    parts = [pulse_part(p) for p in projects] if parts is None else parts
    spans = [part["span"] for part in parts if part["span"]]
    if not spans:
        return {"days": [], "users": {}}
    last = max(hi for _, hi in spans)
    first = max(min(lo for lo, _ in spans), last - (days - 1) * 86400)
    first_day = datetime.fromtimestamp(first, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    n = int((last - first_day.timestamp()) // 86400) + 1
    day_list = [_day(first_day.timestamp() + i * 86400) for i in range(n)]
    users: dict[str, list[int]] = defaultdict(lambda: [0] * n)
    first_seen: dict[str, float] = {}
    for part in parts:
        for i, day in enumerate(day_list):
            for user, count in part["days"].get(day, {}).items():
                users[user][i] += count
        for user, t in part["first_seen"].items():
            first_seen[user] = min(t, first_seen.get(user, t))
    order = sorted(users, key=lambda u: (-sum(users[u]), u))
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


def home_part(project, site) -> dict:
    """What the home page shows of one project (its row, best-so-far line, users and pulse
    counts), as plain JSON values: a rebuild keeps it for a project whose runs did not change
    (``pages.summary``)."""
    best = best_so_far(project)
    return {
        "row": {
            "name": project.name,
            "url": site.project_url(project),
            "runs": len(project.runs),
            "users": list(getattr(project, "users", [])),
            "last_activity": getattr(project, "last_activity", None),
            "statuses": sorted(Counter(r.status for r in project.runs).items()),
            "main_metric": getattr(project, "main_metric", None),
            "best": best["best"] if best else None,
            "direction": best["direction"] if best else None,
        },
        "best": best,
        "pulse": pulse_part(project),
    }


def build_index(logbook) -> Page:
    """The home page: one row per project, the team pulse, the reports listing; made from the
    projects' summaries (``pages.summary``), so an unchanged project costs no run's work."""
    config = logbook.config
    parts = [summary_of(logbook, p)["home"] for p in logbook.projects]
    rows = sorted((dict(part["row"]) for part in parts), key=lambda r: -(r["last_activity"] or 0))
    pulse_best = [{"project": part["row"]["name"], **part["best"]} for part in parts if part["best"]]
    pulse = {"per_day": runs_per_day((), parts=[part["pulse"] for part in parts]), "best": pulse_best}
    ctx: IndexContext = {
        "title": config.title,
        "projects": rows,
        "run_count": sum(part["row"]["runs"] for part in parts),
        "users": sorted({u for part in parts for u in part["row"]["users"]}),
        "pulse": pulse,
        "runs_dirs": [str(d) for d in config.runs_dirs],
        "reports": list(logbook.report_listing),
    }
    return Page("index.html", "index.html", ctx)
