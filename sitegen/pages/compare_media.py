"""The compare page's media data: ``data/media/<project>/<run-id>.js`` per run.

The compare page is one static file for every choice of runs (``pages/compare.py``), so each
run's media sections (the run page's own, from ``sitegen.media_page.plan_media``) are a script
that ``themes/default/static/compare-media.js`` loads by key when the run is compared. It is
written for every run, an empty list when it has no media, so the page never asks for a file
that is not there (a missing script would be a console error).
"""
from __future__ import annotations

from runpages.sitegen.charts import to_js


def media_script(key: str, sections: list[dict]) -> str:
    """``RunpagesMedia.add(key, sections);`` with every string escaped for a script context."""
    return f"RunpagesMedia.add({to_js(key)}, {to_js(sections)});\n"
