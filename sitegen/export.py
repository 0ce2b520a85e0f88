"""``runpages export`` and ``runpages new-report``: commands as plain functions.

``export_report`` writes one self-contained HTML file: the theme's CSS and scripts, BokehJS and
the data of every run the report charts (only the metrics it draws) are inline; images next to
the report become ``data:`` URLs; other images become links. Media that ```media and ```table
blocks show is inlined up to a size limit, then linked to the run folder, and the export says so. Opened from ``file://`` (an e-mail
attachment, a CI artifact) it makes no request at all. Links to run pages are left out: there
is no site beside the file.

``new_report`` writes a starter report with a chart and a table of the latest runs of the most
recently active project, and never overwrites a file.
"""
from __future__ import annotations

import base64
import datetime as _dt
import getpass
import mimetypes
import re
from pathlib import Path

from markupsafe import Markup

from runpages.sitegen.assets import CHART_SCRIPTS
from runpages.sitegen.errors import ProblemsError, SiteError

EXPORT_SCRIPTS = ("values.js", "site.js", *CHART_SCRIPTS)
EXPORT_STYLES = ("runpages.css", "report.css")
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}
STARTER_RUNS = 5
MEDIA_LIMIT_MB = 25.0
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp", "bmp": "image/bmp", "mp4": "video/mp4", "webm": "video/webm",
               "ogv": "video/ogg", "ogg": "audio/ogg", "oga": "audio/ogg", "wav": "audio/wav",
               "mp3": "audio/mpeg", "flac": "audio/flac", "m4a": "audio/mp4"}


def _inline(text: str) -> Markup:
    """Theme/BokehJS text for a <script> or <style> element: nothing in it may end the element."""
    return Markup(re.sub(r"</(script|style)", r"<\\/\1", text, flags=re.IGNORECASE)
                  .replace("<!--", "<\\!--"))


def guess_runs_dir(report_path: str | Path) -> Path | None:
    """For ``runpages export <runs>/reports/x.md`` without runs folders: the folder that holds
    the report's ``reports/`` folder when it has runs in it, else a ``runs/`` beside it."""
    from runpages.sitegen.reader import find_run_dirs

    above = Path(report_path).resolve().parent.parent
    if find_run_dirs(above):
        return above
    return above / "runs" if (above / "runs").is_dir() else None


def _data_uri(path: Path) -> str | None:
    mime = mimetypes.guess_type(path.name)[0]
    if mime not in IMAGE_TYPES:
        return None
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


class MediaInliner:
    """``src(run, rel)`` for the media of ```media/```table blocks in an export: a ``data:`` URL
    while the files inlined so far stay within ``limit_mb``, else a ``file://`` link to the file
    in the run folder (which opens on this machine only); ``linked`` lists those files."""

    def __init__(self, limit_mb: float):
        self.limit = max(0.0, float(limit_mb)) * 1024 * 1024
        self.used = 0
        self.linked: list[tuple[Path, int]] = []
        self._done: dict[Path, str] = {}

    def src(self, run, rel: str) -> tuple[str, bool]:
        path = Path(run.dir, *rel.split("/"))
        if path in self._done:
            return self._done[path], True
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        mime = MEDIA_TYPES.get(path.suffix.lower().lstrip("."))
        if mime and self.used + size <= self.limit:
            self.used += size
            url = f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        else:
            self.linked.append((path, size))
            url = path.resolve().as_uri()
        self._done[path] = url
        return url, True         # final URLs: not made relative to the page

    def note(self, display: str):
        from runpages.sitegen.jsonl import Problem

        n, total = len(self.linked), sum(s for _, s in self.linked)
        return Problem(display, None,
                       f"export: {n} media file{'s' if n != 1 else ''} ({total / 2**20:.1f} MB) "
                       f"linked to the run folder instead of inlined: past the "
                       f"{self.limit / 2**20:g} MB inline limit (--media-limit-mb); "
                       "the file opens them only on this machine")


def export_report(report_path: str | Path, config, output: str | Path | None = None,
                  now: float | None = None, media_limit_mb: float = MEDIA_LIMIT_MB) -> tuple[Path, list]:
    """Write ``output`` (default: the report's name with ``.html``, in the current folder);
    returns ``(path, problems)``. Media of ```media/```table blocks is inlined up to
    ``media_limit_mb`` in all, then linked (``MediaInliner``; a note among the problems says
    so). Raises ``SiteError`` for a missing report, and ``ProblemsError`` under
    ``config.strict`` when the report has problems."""
    from runpages.sitegen import __version__, charts
    from runpages.sitegen.assets import generated_files, static_files
    from runpages.sitegen.logbook import load_logbook
    from runpages.sitegen.pages import Page
    from runpages.sitegen.pages.contexts import ReportExportContext  # noqa: F401 (annotation)
    from runpages.sitegen.pages.report import report_context
    from runpages.sitegen.render import Renderer, _theme_dirs, write_atomic
    from runpages.sitegen.reports import Selector, _check_links, read_report, resolve_report

    path = Path(report_path)
    if not path.is_file():
        raise SiteError(f"{path}: report not found")
    out = Path(output) if output else Path.cwd() / (path.stem + ".html")
    from runpages.sitegen.storemirror import refresh_mirrors

    refresh_mirrors(config)        # runs on an object store: read their local mirror
    book = load_logbook(config, reports=False, checks=False)
    projects, site = book.projects, book.site
    report = read_report(path, path.as_posix())
    resolve_report(report, Selector(projects))
    _check_links(report, path.parent)
    if config.strict and report.problems:
        raise ProblemsError([str(p) for p in report.problems])

    images = {}
    for link in report.doc.links:
        src = report.files.get(link.target)
        if link.image and src is not None:
            uri = _data_uri(src)
            if uri:
                images[link.target] = uri
    media = MediaInliner(media_limit_mb)
    base = report_context(report, site, links=False, images=images, media_src=media.src)
    if media.linked:
        report.problems.append(media.note(report.display))

    # Run data: only the metrics the charts draw (and the x metric), no system series.
    need: dict[str, set[str]] = {}
    for spec in base["spec"]["blocks"]:
        keys = set(spec["metrics"]) | ({spec["x"][2:]} if spec["x"].startswith("m:") else set())
        for key in spec["runs"]:
            need.setdefault(key, set()).update(keys)
    data = []
    for key in sorted(need):
        run = site.run_by_key(key)
        payload = charts.run_payload(run, site)
        payload["metrics"] = {k: v for k, v in payload["metrics"].items() if k in need[key]}
        payload["system"] = {}
        payload["url"] = ""
        data.append(charts.data_script("add", payload))

    theme_dirs = _theme_dirs(config.theme)
    files, made = static_files(theme_dirs), generated_files()
    read = lambda rel: made[rel] if rel in made else files[rel].read_text(encoding="utf-8")  # noqa: E731
    stamp = _dt.datetime.fromtimestamp(now, _dt.timezone.utc) if now is not None else _dt.datetime.now(_dt.timezone.utc)
    ctx: ReportExportContext = {
        **base,
        "inline_css": _inline("\n".join(read(rel) for rel in EXPORT_STYLES)),
        "inline_js": [_inline(read(rel)) for rel in EXPORT_SCRIPTS] if base["spec"]["blocks"] else [_inline(read("values.js")), _inline(read("site.js"))],
        "data_js": Markup("".join(data)),          # made by runpages.sitegen.charts: strings escaped for <script>
        "report_js": _inline(read("report.js")),
        "exported_at": stamp.strftime("%Y-%m-%d %H:%M UTC"),
    }
    renderer = Renderer(config.theme, globals={"site_title": config.title, "version": __version__})
    write_atomic(out, renderer.render(Page(out.name, "report_export.html", ctx)))
    return out, report.problems


# ---------------------------------------------------------------------------------------------
# new-report

def _yaml_text(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)      # a JSON string is a valid YAML scalar


def starter_text(title: str, author: str, date: str, projects) -> str:
    """The starter report: a chart and a table of the latest runs of the latest project."""
    head = (f"---\ntitle: {_yaml_text(title)}\nauthor: {_yaml_text(author)}\ndate: {date}\n"
            f"tags: []\ndescription: \"\"\n---\n\n")
    body = ("What did you try, and what did you find? Quote numbers inline, in backticks, like\n"
            "{example}, so the text stays true when the runs change.\n")
    live = [p for p in projects if p.runs]
    if not live:
        return (head + body.format(example="=best(val/acc, user = ana)")
                + "\n```chart\n# runs: a filter, as in a project's runs table\nruns: user = ana\nmetric: val/acc\n```\n")
    project = max(live, key=lambda p: p.last_activity or 0)
    started = sorted((r.started_at for r in project.runs if r.started_at is not None), reverse=True)
    cut = started[min(STARTER_RUNS, len(started)) - 1] if started else None
    runs = (f"start >= {_dt.datetime.fromtimestamp(cut, _dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}"
            if cut is not None else "")
    metric = project.main_metric or (project.metric_keys[0] if project.metric_keys else "")
    chart = (f"\n## Latest runs of {project.name}\n\n```chart\nproject: {_yaml_text(project.name)}\n"
             f"runs: {_yaml_text(runs)}\n" + (f"metric: {_yaml_text(metric)}\n" if metric else "")
             + "x: step\n```\n")
    table = (f"\n```runs\nproject: {_yaml_text(project.name)}\nruns: {_yaml_text(runs)}\n"
             + (f"best: {_yaml_text(metric)}\n" if metric and metric in project.summary_keys else "")
             + "```\n")
    example = f"`=best({metric}, project = {project.name})`" if metric else "=count(user = ana)"
    return head + body.format(example=example) + chart + table


def new_report(title: str, runs_dirs, reports_dir: str | Path | None = None,
               author: str | None = None, now: float | None = None) -> Path:
    """Write ``<reports>/<date>-<title slug>.md`` and return its path (never overwrites)."""
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.config import reports_dir as find_reports_dir

    if not title or not title.strip():
        raise SiteError("new-report: give the report a title, e.g. runpages new-report \"LR sweep\"")
    dirs = [Path(d) for d in (runs_dirs or [Path("runs")])]
    config = SiteConfig(runs_dirs=dirs, reports_dir=Path(reports_dir) if reports_dir else None)
    folder = find_reports_dir(config) or dirs[0].parent / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    when = _dt.datetime.fromtimestamp(now, _dt.timezone.utc) if now is not None else _dt.datetime.now(_dt.timezone.utc)
    date = when.date().isoformat()
    if author is None:
        try:
            author = getpass.getuser()
        except Exception:  # noqa: BLE001 - no user name is not a reason to fail
            author = ""
    from runpages.sitegen.logbook import load_logbook, slug

    projects = load_logbook(config, reports=False, checks=False).projects if any(d.is_dir() for d in dirs) else []
    text = starter_text(title.strip(), author, date, projects)
    base = f"{date}-{slug(title.lower(), max_len=60)}"
    path, n = folder / f"{base}.md", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.md"
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
    return path
