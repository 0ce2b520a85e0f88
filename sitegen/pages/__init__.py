"""Page builders: one module per page type, each ``build_<page>(...) -> Page``.

Site layout (all links relative, so the site works from ``file://`` and under any sub-path):

    index.html                                  home: projects, reports, team pulse
    p/<project>/index.html                      project: runs table + overlaid charts
    p/<project>/r/<run-id>/index.html           run page
    compare.html?runs=<key>,<key>               compare any runs; the choice lives in the URL
    data/runs-index.js                          every run (key, name, user, project, status,
                                                colour) for the compare page's picker
    data/runs/<project>/<run-id>.js             per-run data script (see sitegen/charts.py)
    data/projects/<project>.js                  project table rows + low-resolution overlay series
    files/<project>/<run-id>/...                metrics.jsonl, system.jsonl, console.log,
                                                artifacts/<...> (hard links for ended runs;
                                                metrics.csv only when metrics.jsonl is not here)
    _static/                                    theme CSS/JS, bokeh/ (BokehJS copied once)

``<project>`` and ``<run-id>`` are path-safe slugs of the names (``runpages.site_paths.slug``, used through
``runpages.sitegen.logbook.SiteMap``);
a run *key* is ``<project>/<run-id>`` and is unique across merged run folders.
Data arrives as ``<script src>`` files, never ``fetch()``, because ``fetch`` is blocked on file://.
The one exception is the run page's CSV, made on a click from metrics.jsonl (over http only;
from file:// the button says so: ``static/csv-export.js``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class Page:
    path: str                 # output path relative to the site root, e.g. "p/mnist/index.html"
    template: str             # template name in the theme, e.g. "run.html"
    context: Mapping[str, Any] = field(default_factory=dict)   # the template's type in pages.contexts
