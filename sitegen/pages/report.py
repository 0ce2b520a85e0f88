"""Report pages: ``reports/<slug>.html`` for each ``reports/*.md``, and ``reports/index.html``.

``build_reports(logbook)`` turns the reports the logbook read and resolved (``sitegen.reports``)
into a ``ReportsBuild``: the pages, the files next to the reports that they link to
(copied to the same relative place under ``reports/``, so links work unchanged), the Problems,
the listing for the home page (newest first) and, per run key, the reports citing that run.

Page context (``report.html`` and the standalone ``report_export.html`` share
``partials/report_body.html``): ``report`` (title, author, date, tags, description, source),
``parts`` (Markdown HTML made by ``sitegen.markdown``, as Markup, between ``block`` and ``value``
dicts), ``spec`` (what ``report.js`` draws: one entry per chart/compare block, run keys and
options, embedded with ``tojson``), ``data_scripts`` (the runs' existing data scripts).
Every user-written string stays a plain string here; the templates escape it.
"""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from runpages.sitegen import markdown
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import ReportContext, ReportsContext
from runpages.sitegen.logbook import REPORTS_PATH, SiteMap
from runpages.sitegen.reports import Report, format_value
from runpages.sitegen.query import lookup, to_text
from runpages.sitegen.values import format_number

@dataclass
class ReportsBuild:
    pages: list[Page] = field(default_factory=list)
    copies: dict[str, Path] = field(default_factory=dict)      # site path -> source file
    problems: list = field(default_factory=list)
    listing: list[dict] = field(default_factory=list)          # for the home page, newest first
    cited_by: dict[str, list[dict]] = field(default_factory=dict)   # run key -> reports citing it
    reports: list[Report] = field(default_factory=list)


report_url = SiteMap.report_url


def _run_ref(run, site, links: bool, color: str = "") -> dict:
    key = site.key(run)
    return {"key": key, "name": run.name or run.id, "url": site.run_url(run) if links else None,
            "color": color, "user": run.user, "project": run.project, "status": run.status}


def _cell(value: Any) -> dict:
    if value is None or value is _missing():
        return {"text": "", "title": "", "num": False}
    if isinstance(value, list):
        return {"text": ", ".join(map(str, value)), "title": "", "num": False}
    num = isinstance(value, (int, float)) and not isinstance(value, bool)
    text = format_value(value) if num else to_text(value)
    full = to_text(value)
    return {"text": text, "title": full if full != text else "", "num": num}


def _missing():
    from runpages.sitegen.query import _MISSING

    return _MISSING


def _pct(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:+.1f}%" if abs(v) >= 0.05 else f"{v:+.2g}%"


def block_context(index: int, data: dict, site, links: bool = True) -> dict:
    """What ``partials/report_block.html`` needs for one resolved block."""
    ctx: dict[str, Any] = {"id": f"rp-block-{index}", "kind": data["kind"], "line": data["line"],
                           "error": data.get("error"), "source": data.get("source", ""),
                           "title": data.get("title", "")}
    if ctx["error"]:
        return ctx
    runs = [_run_ref(r, site, links, c) for r, c in zip(data["runs"], block_colors(data["runs"], site))]
    ctx["runs"] = runs
    kind = data["kind"]
    if kind == "chart":
        ctx["metrics"] = data["metrics"]
        ctx["groups"] = [{"label": g["label"], "color": g["color"],
                          "runs": [_run_ref(r, site, links) for r in g["runs"]]}
                         for g in (data["groups"] or [])]
    elif kind == "runs":
        ctx["columns"] = data["columns"]
        ctx["best"] = data["best"]
        rows = []
        for run, row in zip(data["runs"], data["rows"]):
            ref = _run_ref(run, site, links)
            cells = []
            for col in data["columns"]:
                if col == "name":
                    continue
                cell = _cell(lookup(row, col))
                cell["best"] = col == data["best"] and run is data["best_run"]
                cells.append(cell)
            rows.append({**ref, "cells": cells, "best": run is data["best_run"]})
        ctx["rows"] = rows
        ctx["headers"] = [c for c in data["columns"] if c != "name"]
    elif kind == "compare":
        ctx["config"] = data["config"]
        ctx["config_keys"] = data["config_keys"]
        ctx["metrics"] = data["metrics"]
        ctx["deltas"] = [{"key": d["key"], "direction": d["direction"],
                          "cells": [{"text": c["text"],
                                     "abs": "" if c["abs"] is None else ("+" if c["abs"] > 0 else "") + format_number(c["abs"]),
                                     "pct": _pct(c["pct"]), "better": c["better"]} for c in d["cells"]]}
                         for d in data["deltas"]]
    return ctx


def block_colors(runs: list, site) -> list[str]:
    """Each run's own colour (``SiteMap.color``), the one it has on every other page."""
    return [site.color(r) for r in runs]


def chart_spec(index: int, data: dict, site) -> dict | None:
    """One entry of the page's ``spec`` for report.js; None for blocks without charts."""
    if data.get("error") or data["kind"] not in ("chart", "compare") or not data.get("metrics"):
        return None
    return {
        "id": f"rp-block-{index}", "kind": data["kind"], "metrics": data["metrics"],
        "runs": [site.key(r) for r in data["runs"]],
        "colors": block_colors(data["runs"], site),
        "groups": [{"label": g["label"], "color": g["color"], "runs": [site.key(r) for r in g["runs"]]}
                   for g in (data.get("groups") or [])] or None,
        "x": data["x"], "log_x": data["log_x"], "log_y": data["log_y"],
        "smoothing": data["smoothing"], "y_range": data["y_range"], "height": data["height"],
        "title": data.get("title", ""),
    }


def value_context(data: dict, site, links: bool = True) -> dict:
    run = data.get("run")
    return {"error": data.get("error"), "source": data["source"], "text": data.get("text", ""),
            "title": data.get("title", ""),
            "url": site.run_url(run) if (run is not None and links) else None}


def report_context(report: Report, site, links: bool = True, images: dict[str, str] | None = None) -> ReportContext:
    """The context shared by the site page and the exported file."""
    parts = []
    for part in markdown.render(report.doc, images=images):
        if part.kind == "html":
            parts.append({"kind": "html", "html": Markup(part.html)})   # made by sitegen.markdown
        elif part.kind == "block":
            parts.append({"kind": "block", "block": block_context(part.index, report.blocks[part.index], site, links)})
        else:
            parts.append({"kind": "value", "value": value_context(report.values[part.index], site, links)})
    specs = [s for i, b in enumerate(report.blocks) if (s := chart_spec(i, b, site))]
    keys = sorted({k for s in specs for k in s["runs"]})
    ctx: ReportContext = {
        "title": report.title,
        "report": {"title": report.title, "author": report.author, "date": report.date,
                   "tags": report.tags, "description": report.description,
                   "title_in_body": report.title_in_body, "source": report.display,
                   "problems": len(report.problems)},
        "parts": parts,
        "spec": {"blocks": specs},
        "chart_keys": keys,
        "data_scripts": [f"data/runs/{k}.js" for k in keys],
        "highlight_css": Markup(markdown.highlight_css()),              # made by Pygments
        "links": links,
    }
    return ctx


def _site_target(report: Report, target: str, folder: Path) -> str:
    rel = os.path.relpath(report.files[target], folder).replace(os.sep, "/")
    return posixpath.normpath(f"{REPORTS_PATH}/{rel}")


def build_reports(logbook) -> ReportsBuild:
    """Every report of the logbook as a page, plus ``reports/index.html`` when there is one."""
    folder, site, reports = logbook.reports_folder, logbook.site, logbook.reports
    out = ReportsBuild()
    if folder is None:
        return out
    by_path = {r.path.resolve(): r for r in reports}
    for report in reports:
        mapping = {}
        for target, path in report.files.items():
            other = by_path.get(path.resolve())
            if other is not None:
                frag = target.partition("#")[2]
                mapping[target] = f"{other.slug}.html" + (f"#{frag}" if frag else "")
            else:
                out.copies[_site_target(report, target, folder)] = path
        markdown.rewrite_links(report.doc, mapping)
        out.pages.append(Page(report_url(report), "report.html", report_context(report, site)))
    out.problems.extend(p for r in reports for p in r.problems)
    out.listing = list(logbook.report_listing)
    out.cited_by = dict(logbook.cited_by)
    if reports:
        listing: ReportsContext = {"title": f"Reports \u00b7 {logbook.config.title}", "reports": out.listing}
        out.pages.append(Page(f"{REPORTS_PATH}/index.html", "reports.html", listing))
    out.reports = reports
    return out
