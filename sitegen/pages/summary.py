"""A project's summary: what the site-wide pages (home, compare, the run index, the site
utilisation page) need of one project, as plain JSON values.

Invariants:
- The site-wide pages are made from summaries only, never from another project's runs, so a
  rebuild that keeps an unchanged project's summary (``build_aggregates``) does no work per
  run of that project.
- A summary is the same whether it was just made or read back from the build cache: it is
  made through a JSON round trip, so a full build and a rebuild write the same bytes.
- Each page module owns its part (``pages.index.home_part``, ``pages.compare.index_part``,
  ``pages.utilisation.site_part``); this module only puts them together.
- Made once per logbook (``summary_of``, kept on ``Logbook.summaries``), where the build did not
  put in the one it kept.
"""
from __future__ import annotations

import json

SUMMARY_VERSION = 1


def summary_of(book, project) -> dict:
    """``project``'s summary: the one on ``book.summaries``, else made now and put there."""
    got = book.summaries.get(project.name)
    if got is None:
        got = book.summaries[project.name] = summarize(project, book)
    return got


def summarize(project, book) -> dict:
    """The summary of ``project`` as the pages of ``book`` show it (its URLs, colours, main
    metric and utilisation settings)."""
    from runpages.sitegen.pages.compare import index_part
    from runpages.sitegen.pages.index import home_part
    from runpages.sitegen.pages.utilisation import site_part

    site = book.site
    summary = {"v": SUMMARY_VERSION, "home": home_part(project, site), "index": index_part(project, site),
               "usage": site_part(project, site, book.config)}
    return json.loads(json.dumps(summary))          # NaN kept: a run's figures may hold one


def is_summary(value) -> bool:
    """Whether ``value`` (read back from the cache) is a whole summary of this version: a file
    that was cut, edited or written by another version is made again, never a failed build."""
    from runpages.sitegen import utilisation as U

    try:
        home, index, usage = value["home"], value["index"], value["usage"]
        row, pulse = home["row"], home["pulse"]
        ok = (value.get("v") == SUMMARY_VERSION and isinstance(row["runs"], int)
              and isinstance(row["name"], str) and isinstance(row["users"], list)
              and isinstance(pulse["days"], dict) and isinstance(pulse["first_seen"], dict)
              and all(isinstance(r, list) and len(r) == 6 for r in index)
              and isinstance(usage["count"], int) and isinstance(usage["simulated"], list))
        if ok:
            for r in usage["rows"]:
                U.usage_from_json(r)
            for a in usage["users"] + usage["weeks"] + [usage["total"]]:
                U.aggregate_from_json(a)
        return ok
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
