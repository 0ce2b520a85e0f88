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
    """Every path and key of the site, from the projects read. Paths are site-root relative.
    A kept project's runs (``build_kept``) are laid out only when something asks for them."""

    def __init__(self, projects: list):
        self.projects = list(projects)
        names = sorted(p.name for p in self.projects)
        self._project = dict(zip(names, unique_slugs(names)))
        self._by_name = {p.name: p for p in self.projects}
        self._by_slug = {s: n for n, s in self._project.items()}
        self._run: dict[str, str] = {}
        self._by_key: dict[str, Any] = {}
        self._colors: dict[str, dict[str, str]] = {}         # project name -> run key -> colour
        self._laid_out: set[str] = set()
        for project in self.projects:
            if not getattr(project, "kept", False):
                self._lay_out(project)

    def _lay_out(self, project) -> None:
        if project.name in self._laid_out:
            return
        self._laid_out.add(project.name)
        runs = sorted(project.runs, key=lambda r: (r.id, r.source, r.dir))
        for run, s in zip(runs, unique_slugs(r.id for r in runs)):
            self._run[run.dir] = s
            self._by_key[f"{self._project[project.name]}/{s}"] = run

    def project_slug(self, name: str) -> str:
        return self._project[name]

    def key(self, run) -> str:
        """``<project-slug>/<run-slug>``: unique across merged runs dirs; used in URLs."""
        s = self._run.get(run.dir)
        if s is None:
            self._lay_out(self._by_name[run.project])
            s = self._run[run.dir]
        return f"{self._project[run.project]}/{s}"

    def run_by_key(self, key: str):
        name = self._by_slug.get(key.split("/", 1)[0])
        if name is not None and name not in self._laid_out:
            self._lay_out(self._by_name[name])
        return self._by_key.get(key)

    def color(self, run) -> str:
        """The run's colour on every page (``sitegen/colors.py``: start order in its project)."""
        colors = self._colors.get(run.project)
        if colors is None:
            project = self._by_name.get(run.project)
            colors = self._colors[run.project] = {} if project is None else run_colors(
                (self.key(r), r.started_at) for r in project.runs)
        return colors.get(self.key(run)) or run_color(self.key(run))

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
    -> what the site-wide pages show of it (``pages.summary.summary_of``)."""
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
                 records=None, reports: bool = True, checks: bool = True, kept: dict | None = None,
                 problem_dirs: set[str] | None = None) -> Logbook:
    """Read everything the site shows for ``config``. ``cache``: a ``ReadCache`` to read
    through; ``found``: a ``runscan.scan_runs`` result the caller already has; ``records``: a
    ``runrecords.RunRecords`` (with ``cache``), so unchanged runs are not read again;
    ``reports`` / ``checks``: False where the caller shows neither (``runpages check``);
    ``kept``: projects the build keeps without reading (``build_kept.plan``; it drops those
    that turn out touched); ``problem_dirs``: gets the folder of every run with a Problem."""
    from runpages.sitegen.reader import read_runs

    dirs = [str(d) for d in config.runs_dirs]
    problem_dirs = set() if problem_dirs is None else problem_dirs
    stand_ins: list = []
    if kept:
        from runpages.sitegen import kept_projects

        def load(stand_in):
            """A kept project's runs, read when something asks for them after all."""
            got, _ = read_runs(dirs, cache=cache, now=now, found=found, records=records,
                               only=set(stand_in.state["folders"]))
            from runpages.sitegen.model import Project

            project = next((p for p in got if p.name == stand_in.name), None) or Project(stand_in.name, [])
            _main_metrics(config, [project])
            return project

        projects, problems, stand_ins = kept_projects.read(dirs, kept, cache=cache, now=now, found=found,
                                                        records=records, problem_dirs=problem_dirs, load=load)
    else:
        projects, problems = read_runs(dirs, cache=cache, now=now, found=found, records=records,
                                       problem_dirs=problem_dirs)
    _main_metrics(config, projects)
    everything = sorted(projects + stand_ins, key=lambda p: p.name) if stand_ins else projects
    book = Logbook(config=config, projects=everything, site=SiteMap(everything), problems=list(problems))
    for stand_in in stand_ins:
        book.summaries[stand_in.name] = stand_in.summary
    if reports:
        _read_reports(book)
    if checks:
        for project in everything:
            if stand_ins and kept_projects.is_kept(project):
                continue          # its pages are kept; read only when its runs are
            records = load_records(project_dirs(project))
            if records:
                book.checks[project.name] = records
    return book


def _main_metrics(config, projects: list) -> None:
    if getattr(config, "main_metric", None) or getattr(config, "default_main_metric", None):
        from runpages.sitegen.model import apply_main_metrics

        apply_main_metrics(projects, config.main_metric or {}, getattr(config, "default_main_metric", None))


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
