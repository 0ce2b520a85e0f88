"""Reports: ``reports/*.md`` files, their front matter, and their blocks resolved against the runs.

A report is Markdown (``sitegen.markdown``) with YAML front matter (``title``, ``author``,
``date``, ``tags``, ``description``, all optional). Its ``chart``, ``runs`` and ``compare``
blocks (``sitegen.report_blocks``) and its inline values select runs with the runs-table filter
language (``sitegen.query``: one parser for both).

Invariants:
- Nothing here raises for a bad report: each problem becomes a ``Problem`` (``file:line:
  kind: reason``, e.g. ``reports/week12.md:14: chart: no run matches "user = bob"``) and the
  block or value carries the same reason for the error box the page shows in its place.
- Resolved blocks are plain data (names, numbers, keys); escaping is the templates' job and
  drawing is ``report.js``'s. No I/O except reading the report files.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runpages.sitegen import markdown
from runpages.sitegen.model import metric_direction
from runpages.sitegen.query import to_text
from runpages.sitegen.reader import Problem
from runpages.sitegen.report_blocks import (RESOLVERS, BlockError, Selector, _key_line, _nearest, _no_metric,
                                   _numeric, final_value, format_value, parse_options)

FRONT_MATTER_KEYS = ("title", "author", "date", "tags", "description")


@dataclass
class Report:
    path: Path                       # the .md file
    display: str                     # "reports/week12.md", used in Problems
    slug: str                        # page is reports/<slug>.html
    title: str
    author: str = ""
    date: str = ""                   # ISO date, "" when unknown
    tags: list[str] = field(default_factory=list)
    description: str = ""
    title_in_body: bool = False      # the title came from the body's first "# heading"
    doc: markdown.Document | None = None
    blocks: list[dict] = field(default_factory=list)     # resolved, by block index
    values: list[dict] = field(default_factory=list)     # resolved, by value index
    cited: list = field(default_factory=list)            # Runs the report's blocks and values use
    files: dict[str, Path] = field(default_factory=dict)  # relative target -> file next to report
    problems: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Finding and reading reports

def find_reports(folder: Path | None) -> list[Path]:
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).glob("*.md") if p.is_file() and not p.name.startswith("."))


def report_slug(path: Path) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.")
    return s or "report"


def split_front_matter(text: str) -> tuple[str, str, int]:
    """``(yaml, body, body_line_offset)``; yaml is "" without front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return "", text, 0
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1:]), i + 1
    return "", text, 0


def _date_text(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def read_report(path: Path, display: str) -> Report:
    """Front matter and parsed body; problems with the front matter are kept on the report."""
    import yaml

    text = path.read_text(encoding="utf-8", errors="replace")
    raw, body, offset = split_front_matter(text)
    meta: dict = {}
    problems: list[Problem] = []
    if raw.strip():
        try:
            loaded = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            problems.append(Problem(display, line, f"front matter: not valid YAML: {getattr(err, 'problem', err)}"))
            loaded = {}
        if isinstance(loaded, dict):
            meta = loaded
        elif loaded is not None:
            problems.append(Problem(display, 1, "front matter: expected key: value lines"))
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            problems.append(Problem(display, _key_line(raw, str(key)) + 2,
                                    f"front matter: unknown key {str(key)!r}{_nearest(str(key), FRONT_MATTER_KEYS)}"))
    doc = markdown.parse(body, line_offset=offset)
    tags = meta.get("tags") or []
    tags = [str(t) for t in tags] if isinstance(tags, list) else [str(tags)]
    title = str(meta.get("title") or "")
    title_in_body = False
    if not title:
        first = next((h for h in doc.headings if h.level == 1), None)
        title, title_in_body = (first.text, True) if first else (path.stem, False)
    date = _date_text(meta.get("date"))
    if not date:
        date = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc).date().isoformat()
    return Report(path=path, display=display, slug=report_slug(path), title=title,
                  author=str(meta.get("author") or ""), date=date, tags=tags,
                  description=str(meta.get("description") or ""), title_in_body=title_in_body,
                  doc=doc, problems=problems)


# ---------------------------------------------------------------------------------------------
# Values

def resolve_value(value: markdown.Value, selector: Selector) -> tuple[dict, list]:
    """``({"text", "title", "run"}, cited runs)``; raises BlockError."""
    if value.error:
        raise BlockError(value.error)
    runs = selector.select(value.selection)
    fn, key = value.function, value.metric
    if fn == "count":
        return {"text": format_value(len(runs), value.format),
                "title": f"{len(runs)} run{'s' if len(runs) != 1 else ''} match {value.selection!r}",
                "run": None}, runs
    if fn in ("last", "summary", "config"):
        if len(runs) != 1:
            raise BlockError(f"{fn}() needs exactly one run; {value.selection!r} matches {len(runs)}"
                             " (add a condition such as name = ..., or use mean/min/max/best)")
        run = runs[0]
        source = run.config if fn == "config" else run.summary
        v = source.get(key) if fn != "last" else final_value(run, key)
        if v is None:
            where = "config" if fn == "config" else "summary" if fn == "summary" else "metrics or summary"
            keys = list(run.config) if fn == "config" else list(run.summary) + run.metric_keys
            raise BlockError(f"{run.name!r} has no {key!r} in its {where}{_nearest(key, keys)}")
        return {"text": _formatted(v, value.format), "title": f"{fn} {key} of {run.name}",
                "run": run}, runs
    if fn == "best":
        best = None
        for run in runs:
            v = run.best_value(key)
            step = run.best_step(key) if v is not None else None
            if v is None:
                v = _numeric(run.summary.get(key))
            if v is None or not math.isfinite(v):
                continue
            if best is None or (v < best[0] if metric_direction(key) == "min" else v > best[0]):
                best = (v, run, step)
        if best is None:
            raise BlockError(_no_metric(key, runs))
        v, run, step = best
        where = f" at step {step}" if step is not None else ""
        return {"text": _formatted(v, value.format),
                "title": f"best {key} of {len(runs)} run{'s' if len(runs) != 1 else ''}: {run.name}{where}",
                "run": run}, runs
    vals = [(n, r) for r in runs if (n := _numeric(final_value(r, key))) is not None and math.isfinite(n)]
    if not vals:
        raise BlockError(_no_metric(key, runs))
    numbers = [n for n, _ in vals]
    if fn == "mean":
        v, run = sum(numbers) / len(numbers), None
    else:
        v, run = (min if fn == "min" else max)(vals, key=lambda p: p[0])
    return {"text": _formatted(v, value.format),
            "title": f"{fn} of the final {key} of {len(vals)} run{'s' if len(vals) != 1 else ''}",
            "run": run}, runs


def _formatted(v: Any, spec: str) -> str:
    try:
        return format_value(v, spec)
    except (ValueError, TypeError):
        raise BlockError(f"bad format {spec!r} for {to_text(v)!r} (Python format spec, e.g. .3f or .1%)") from None


def resolve_report(report: Report, selector: Selector) -> None:
    """Fill ``report.blocks``, ``.values``, ``.cited``, ``.problems`` (errors never raise)."""
    cited: dict[int, Any] = {}
    for block in report.doc.blocks:
        try:
            opts = parse_options(block)
            data = RESOLVERS[block.kind](block, opts, selector)
            for r in data["runs"]:
                cited.setdefault(id(r), r)
            report.blocks.append({"kind": block.kind, "line": block.line, "error": None, **data})
        except BlockError as err:
            line = block.line + err.line
            report.problems.append(Problem(report.display, line, f"{block.kind}: {err.reason}"))
            report.blocks.append({"kind": block.kind, "line": line, "error": err.reason, "source": block.source})
    for value in report.doc.values:
        try:
            data, runs = resolve_value(value, selector)
            for r in runs:
                cited.setdefault(id(r), r)
            report.values.append({"error": None, "source": value.text, **data})
        except BlockError as err:
            report.problems.append(Problem(report.display, value.line, f"value {value.text}: {err.reason}"))
            report.values.append({"error": err.reason, "source": value.text, "text": "", "title": "", "run": None})
    report.cited = list(cited.values())


def load_reports(folder: Path | None, projects, display_root: Path | None = None) -> list[Report]:
    """Every ``*.md`` in ``folder``, read and resolved, newest first (date, then title)."""
    selector = Selector(projects)
    reports = []
    slugs: set[str] = set()
    for path in find_reports(folder):
        base = Path(display_root) if display_root is not None else Path(folder).parent
        try:
            display = path.relative_to(base).as_posix()
        except ValueError:
            display = path.as_posix()
        report = read_report(path, display)
        slug, n = report.slug, 1
        while slug.lower() in slugs or slug.lower() == "index":
            n += 1
            slug = f"{report.slug}-{n}"
        slugs.add(slug.lower())
        report.slug = slug
        resolve_report(report, selector)
        _check_links(report, Path(folder))
        reports.append(report)
    reports.sort(key=lambda r: r.title.lower())
    reports.sort(key=lambda r: r.date, reverse=True)          # stable: same date, by title
    return reports


def _check_links(report: Report, folder: Path) -> None:
    """Relative link targets: files next to the report are copied; missing ones are Problems."""
    root = folder.resolve()
    for link in report.doc.links:
        target = link.target.split("#", 1)[0].split("?", 1)[0]
        if not target:
            continue
        from urllib.parse import unquote

        path = (report.path.parent / unquote(target)).resolve()
        try:
            path.relative_to(root)
        except ValueError:
            report.problems.append(Problem(report.display, link.line,
                                           f"link {link.target}: outside the reports folder; not copied"))
            continue
        if path.is_file():
            report.files[link.target] = path
        else:
            report.problems.append(Problem(report.display, link.line, f"link {link.target}: file not found"))
