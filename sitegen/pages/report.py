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


def block_context(index: int, data: dict, site, links: bool = True, media_src=None) -> dict:
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
    elif kind in ("media", "table"):
        ctx.update(media_block_context(data, site, media_src or (lambda run, rel: (site.files_dir(run) + rel, False)),
                                       links))
    return ctx


def _file_item(m, run, media_src) -> dict:
    src, inline = media_src(run, m.file)
    thumb, thumb_inline = media_src(run, m.thumb) if m.thumb and m.kind == "image" else (src, inline)
    return {"kind": m.kind, "src": src, "inline": inline, "thumb": thumb, "thumb_inline": thumb_inline,
            "caption": m.caption or "", "gif": m.file.lower().endswith(".gif")}


def _hist_bars(hist: dict, width: int = 320, height: int = 110) -> dict:
    """An inline SVG's bars for one histogram (numbers only, so it needs no script)."""
    counts, edges = hist["counts"], hist["edges"]
    lo, hi = edges[0], edges[-1]
    span, top = (hi - lo) or 1.0, max(counts) or 1.0
    bars = []
    for c, a, b in zip(counts, edges, edges[1:]):
        h = c / top * height
        bars.append({"x": round((a - lo) / span * width, 2), "w": round(max(0.6, (b - a) / span * width - 0.4), 2),
                     "y": round(height - h, 2), "h": round(h, 2)})
    return {"bars": bars, "lo": format_number(lo), "hi": format_number(hi), "w": width, "h": height}


def _table_cell(v: Any) -> dict:
    num = isinstance(v, (int, float)) and not isinstance(v, bool)
    return {"text": format_value(v) if num else ("" if v is None else to_text(v)), "num": num}


def _matrix(m: dict) -> dict:
    top = m["max"] or 1
    return {"labels": m["labels"], "row_title": m["row_title"],
            "rows": [{"label": lab, "cells": [{"text": format_number(v), "alpha": round(max(0.0, v / top), 3),
                                               "diag": i == j} for j, v in enumerate(r)]}
                     for i, (lab, r) in enumerate(zip(m["labels"], m["rows"]))]}


def media_block_context(data: dict, site, media_src, links: bool = True) -> dict:
    """A ```media or ```table block's runs with what each shows; ``media_src(run, rel)`` gives
    ``(url, inline)`` for a file of the run (site path, or a data: URL in an export)."""
    cells = []
    for e in data["shown"]:
        run = e["run"]
        cell: dict[str, Any] = {"run": _run_ref(run, site, links, site.color(run)), "step": e["step"], "kind": e["kind"],
                                "error": e.get("error")}
        if data["kind"] == "media":
            cell["more"] = e["more"]
            if e["kind"] == "histogram":
                cell["hists"] = [_hist_bars(h) for h in e.get("hists", [])]
            else:
                cell["files"] = [_file_item(m, run, media_src) for m in e["items"]]
        elif not cell["error"]:
            cell["columns"] = e["columns"]
            cell["rows"] = [[_table_cell(v) for v in r] for r in e["rows"]]
            cell["total"] = e["total"]
            cell["matrix"] = _matrix(e["matrix"]) if e.get("matrix") else None
        cells.append(cell)
    return {"key": data["key"], "step": data["step"], "layout": data.get("layout", "grid"), "cells": cells,
            "missing": [r.name or r.id for r in data["missing"]]}


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


def report_context(report: Report, site, links: bool = True, images: dict[str, str] | None = None,
                   media_src=None) -> ReportContext:
    """The context shared by the site page and the exported file; ``media_src`` as in
    ``media_block_context`` (default: the run's files in the site)."""
    parts = []
    for part in markdown.render(report.doc, images=images):
        if part.kind == "html":
            parts.append({"kind": "html", "html": Markup(part.html)})   # made by sitegen.markdown
        elif part.kind == "block":
            parts.append({"kind": "block", "block": block_context(part.index, report.blocks[part.index], site, links,
                                                                     media_src)})
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
