"""The site model: ``load_logbook(config) -> Logbook``, everything the pages see, read once.

Invariants:
- This is the one place that reads runs, applies main metrics, lays out URLs (``slug``,
  ``SiteMap``), reads reports and check records, and collects every Problem. Build, export,
  check and serve all call ``load_logbook``; page builders take the ``Logbook`` and do no I/O
  (a console tail is read here, on first asking, and kept).
- File names are slugs (``slug``): safe whatever a project or run name holds; two names that
  slug alike are told apart by a suffix, deterministically (``unique_slugs``). The rule itself
  lives in ``runpages.site_paths``, which the logger shares (``Run.url``).
- Reading never raises for bad input: it becomes a Problem on ``Logbook.problems``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from runpages import schema
from runpages.problems import Problem
from runpages.site_paths import run_page_path, slug, unique_slugs  # noqa: F401 - the one slug rule, shared with the logger (Run.url)
from runpages.sitegen.colors import run_color, run_colors

REPORTS_PATH = "reports"
CHECKS_DIR = ".checks"            # inside <runs>/<project>/; the reader skips dot-folders
CONSOLE_TAIL_BYTES = 64 * 1024

class SiteMap:
    """Every path and key of the site, from the projects read. Paths are site-root relative."""

    def __init__(self, projects: list):
        self.projects = list(projects)
        names = sorted(p.name for p in self.projects)
        self._project = dict(zip(names, unique_slugs(names)))
        self._run: dict[str, str] = {}
        self._by_key: dict[str, Any] = {}
        self._colors: dict[str, str] | None = None
        for project in self.projects:
            runs = sorted(project.runs, key=lambda r: (r.id, r.source, r.dir))
            for run, s in zip(runs, unique_slugs(r.id for r in runs)):
                self._run[run.dir] = s
                self._by_key[self.key(run)] = run

    def project_slug(self, name: str) -> str:
        return self._project[name]

    def key(self, run) -> str:
        """``<project-slug>/<run-slug>``: unique across merged runs dirs; used in URLs."""
        return f"{self._project[run.project]}/{self._run[run.dir]}"

    def run_by_key(self, key: str):
        return self._by_key.get(key)

    def color(self, run) -> str:
        """The run's colour on every page (``sitegen/colors.py``: start order in its project)."""
        if self._colors is None:
            self._colors = {}
            for project in self.projects:
                self._colors.update(run_colors((self.key(r), r.started_at) for r in project.runs))
        return self._colors.get(self.key(run)) or run_color(self.key(run))

    def project_url(self, project) -> str:
        name = project if isinstance(project, str) else project.name
        return f"p/{self._project[name]}/index.html"

    def run_url(self, run) -> str:
        return run_page_path(*self.key(run).split("/", 1))

    def run_data(self, run) -> str:
        return f"data/runs/{self.key(run)}.js"

    def media_data(self, run) -> str:
        """The run's media sections as a script, for the compare page (``pages.compare_media``)."""
        return f"data/media/{self.key(run)}.js"

    def project_data(self, project) -> str:
        name = project if isinstance(project, str) else project.name
        return f"data/projects/{self._project[name]}.js"

    def project_rows(self, project) -> str:
        """A large project's table rows, columnar (``pages.project_rows``)."""
        name = project if isinstance(project, str) else project.name
        return f"data/projects/{self._project[name]}.rows.js"

    def files_dir(self, run) -> str:
        return f"files/{self.key(run)}/"

    def compare_url(self, runs: Iterable = (), pick: bool = False) -> str:
        """``pick``: open the compare page's run picker (a run page's "Compare with…")."""
        keys = ",".join(self.key(r) for r in runs)
        query = ([f"runs={keys}"] if keys else []) + (["pick=1"] if pick else [])
        return "compare.html" + ("?" + "&".join(query) if query else "")

    @staticmethod
    def report_url(report) -> str:
        return f"{REPORTS_PATH}/{report.slug}.html"


@dataclass
class Logbook:
    """What the pages see. ``cited_by``: run key -> the report entries that cite the run;
    ``report_listing``: one entry per report (title, url, author, date, description, tags);
    ``checks``: project name -> its check records, oldest first; ``summaries``: project name
    -> what the site-wide pages show of it (``summary``)."""
    config: Any
    projects: list
    site: SiteMap
    problems: list[Problem] = field(default_factory=list)
    reports: list = field(default_factory=list)
    reports_folder: Path | None = None
    report_listing: list[dict] = field(default_factory=list)
    cited_by: dict[str, list[dict]] = field(default_factory=dict)
    checks: dict[str, list[dict]] = field(default_factory=dict)
    summaries: dict[str, dict] = field(default_factory=dict)     # project name -> summary
    _consoles: dict[str, tuple[str, bool]] = field(default_factory=dict, repr=False)

    def project_of(self, run):
        return next(p for p in self.projects if p.name == run.project)

    def summary(self, project) -> dict:
        """What the site-wide pages need of ``project`` (``project_summary``), made on first
        asking unless the build put in the one it kept."""
        got = self.summaries.get(project.name)
        if got is None:
            from runpages.sitegen.project_summary import summarize

            got = self.summaries[project.name] = summarize(project, self)
        return got

    def console(self, run) -> tuple[str, bool]:
        """The end of the run's console.log as text, and whether it was cut (read once)."""
        if run.dir not in self._consoles:
            self._consoles[run.dir] = console_tail(run)
        return self._consoles[run.dir]


def console_tail(run, limit: int = CONSOLE_TAIL_BYTES) -> tuple[str, bool]:
    """The end of console.log as text and whether it was cut."""
    path = Path(run.dir) / schema.CONSOLE_FILE
    if schema.CONSOLE_FILE not in (run.files or {}):   # absent, or a link out of the run folder
        return "", False
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if size > limit:
                f.seek(size - limit)
            data = f.read(limit)
    except OSError:
        return "", False
    cut = size > limit
    if cut:
        nl = data.find(b"\n")
        if 0 <= nl < 4096:
            data = data[nl + 1:]
    return data.decode("utf-8", errors="replace"), cut


def load_logbook(config, *, cache=None, now: float | None = None, found: dict | None = None,
                 records=None, reports: bool = True, checks: bool = True) -> Logbook:
    """Read everything the site shows for ``config``. ``cache``: a ``ReadCache`` to read
    through; ``found``: a ``runscan.scan_runs`` result the caller already has; ``records``: a
    ``runrecords.RunRecords`` (with ``cache``), so unchanged runs are not read again;
    ``reports`` / ``checks``: False where the caller shows neither (``runpages check``)."""
    from runpages.sitegen.reader import read_runs

    projects, problems = read_runs([str(d) for d in config.runs_dirs], cache=cache, now=now, found=found,
                                   records=records)
    if getattr(config, "main_metric", None) or getattr(config, "default_main_metric", None):
        from runpages.sitegen.model import apply_main_metrics

        apply_main_metrics(projects, config.main_metric or {}, getattr(config, "default_main_metric", None))
    book = Logbook(config=config, projects=projects, site=SiteMap(projects), problems=list(problems))
    if reports:
        _read_reports(book)
    if checks:
        for project in projects:
            records = load_records(project_dirs(project))
            if records:
                book.checks[project.name] = records
    return book


def project_dirs(project) -> list[Path]:
    """The folders that hold a project's runs (one per runs folder it appears in)."""
    return [Path(d) for d in sorted({os.path.dirname(r.dir) for r in project.runs})]


def load_records(project_dirs: list[Path]) -> list[dict[str, Any]]:
    """Every readable record under the ``.checks`` folders, oldest first; unreadable ones skipped."""
    out = []
    seen = set()
    for d in project_dirs:
        folder = Path(d) / CHECKS_DIR
        try:
            names = sorted(p for p in folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except OSError:
            continue
        for p in names:
            try:
                rec = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("checked_at"), (int, float)):
                continue
            key = (rec.get("checked_at"), json.dumps(rec.get("candidate"), sort_keys=True, default=str))
            if key in seen:
                continue
            seen.add(key)
            rec["_file"] = str(p)
            out.append(rec)
    out.sort(key=lambda r: r["checked_at"])
    return out


def _read_reports(book: Logbook) -> None:
    from runpages.sitegen.config import reports_dir
    from runpages.sitegen.reports import load_reports

    folder = reports_dir(book.config)
    book.reports_folder = folder
    if folder is None:
        return
    book.reports = load_reports(folder, book.projects)
    for report in book.reports:
        book.problems.extend(report.problems)
        entry = {"title": report.title, "url": book.site.report_url(report), "author": report.author,
                 "date": report.date, "description": report.description, "tags": report.tags}
        book.report_listing.append(entry)
        for run in report.cited:
            book.cited_by.setdefault(book.site.key(run), []).append(entry)
