"""The compare page: one ``compare.html`` at the site root for runs of any projects.

Which runs it shows lives in the URL (``compare.html?runs=<key>,<key>``), so the page itself is
the same for every choice: ``themes/default/static/compare.js`` reads the keys and loads each
run's data script (``data/runs/<key>.js``) with ``RunpagesData.load``, which works from
``file://`` and under any sub-path. The server side only lists the projects, for the empty state.
"""
from __future__ import annotations

from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import CompareContext


def build_compare(book) -> Page:
    """``compare.html``: empty shell + project list; the runs come from the URL at view time."""
    projects, config, site = book.projects, book.config, book.site
    listed = sorted(projects, key=lambda p: p.name.lower())
    ctx: CompareContext = {
            "title": f"Compare \u00b7 {getattr(config, 'title', 'runpages')}",
            "projects": [{"name": p.name, "url": site.project_url(p), "runs": len(p.runs)}
                         for p in listed],
    }
    return Page("compare.html", "compare.html", ctx)
