"""The compare page: one ``compare.html`` at the site root for runs of any projects, and the
run index its picker searches (``data/runs-index.js``).

Which runs it shows lives in the URL (``compare.html?runs=<key>,<key>``), so the page itself is
the same for every choice: ``themes/default/static/compare.js`` reads the keys and loads each
run's data script (``data/runs/<key>.js``) with ``RunpagesData.load``, which works from
``file://`` and under any sub-path. The server side only lists the projects, for the empty state,
and writes the run index.

The run index is one script for every run of the logbook, columnar so thousands of runs stay
small: repeated values (project, user, status, colour) are written once and referred to by
position. ``themes/default/static/picker.js`` reads it; the two change together (``INDEX_VERSION``).
"""
from __future__ import annotations

from runpages.sitegen.charts import js_json
from runpages.sitegen.colors import PALETTE
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import CompareContext
from runpages.sitegen.pages.summary import summary_of

RUN_INDEX = "data/runs-index.js"
INDEX_VERSION = 1
# One row per run, in this order (picker.js reads rows by these positions).
INDEX_FIELDS = ("project", "run", "name", "user", "status", "color", "started")


def build_compare(book) -> Page:
    """``compare.html``: empty shell + project list; the runs come from the URL at view time."""
    projects, config, site = book.projects, book.config, book.site
    listed = sorted(projects, key=lambda p: p.name.lower())
    ctx: CompareContext = {
            "title": f"Compare \u00b7 {getattr(config, 'title', 'runpages')}",
            "projects": [{"name": p.name, "url": site.project_url(p), "runs": summary_of(book, p)["home"]["row"]["runs"]}
                         for p in listed],
            "run_index": RUN_INDEX,       # the picker's data script
    }
    return Page("compare.html", "compare.html", ctx)


def index_part(project, site) -> list[list]:
    """One project's rows of the run index, with user, status and colour as text: a rebuild
    keeps them for a project whose runs did not change (``pages.summary``)."""
    rows = []
    for run in project.runs:          # the picker sorts; order here does not matter
        run_slug = site.key(run).split("/", 1)[1]
        name = str(run.name or run.id)
        rows.append([run_slug, None if name == run_slug else name, str(run.user or ""),
                     str(run.status or ""), site.color(run), _seconds(run.started_at)])
    return rows


def run_index(projects, site, parts: dict[str, list] | None = None) -> dict:
    """Every run as ``[project, run-slug, name, user, status, colour, started]``: project, user,
    status and colour are positions in their lists; ``name`` is null when it is the run slug;
    ``started`` is whole seconds or null. A run's key is ``<project slug>/<run slug>``.
    ``parts``: project name -> its ``index_part``, where the caller has them."""
    listed = sorted(projects, key=lambda p: p.name.lower())
    users: dict[str, int] = {}
    statuses: dict[str, int] = {}
    colors = {c: i for i, c in enumerate(PALETTE)}
    rows = []
    for pi, project in enumerate(listed):
        part = index_part(project, site) if parts is None else parts[project.name]
        for run_slug, name, user, status, color, started in part:
            rows.append([pi, run_slug, name, users.setdefault(user, len(users)),
                         statuses.setdefault(status, len(statuses)), colors.setdefault(color, len(colors)),
                         started])
    return {
        "v": INDEX_VERSION,
        "fields": list(INDEX_FIELDS),
        "projects": [[p.name, site.project_slug(p.name)] for p in listed],
        "users": list(users), "statuses": list(statuses), "colors": list(colors),
        "runs": rows,
    }


def _seconds(t) -> int | None:
    """A start time as whole epoch seconds; anything that is not a plausible time is None."""
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not abs(t) < 1e11:   # also NaN
        return None
    return int(t)


def run_index_script(projects, site, parts: dict[str, list] | None = None) -> str:
    """The run index as a script (``<script src>`` works from ``file://``, ``fetch`` does not)."""
    # Only strings, whole numbers and nulls: strict JSON, one C call (to_js walks each value).
    return f"window.RunpagesRunIndex = {js_json(run_index(projects, site, parts))};\n"
