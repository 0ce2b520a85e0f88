"""build_site(config, changed=None): run folders in, static site out; full or incremental.

Invariants:
- Everything is rendered in memory, then written; every file lands by temp name + rename.
- A run whose ``fingerprint`` did not change (and whose outputs are still there) is not
  re-rendered, its data script and downloads are not rewritten; index, project and compare
  pages are re-rendered but only written when their bytes changed. The state lives in
  ``<site>/.runpages/`` (read cache, fingerprints, output lists) and is only a shortcut:
  deleting it means a full build.
- File names are slugs (``slug``): safe whatever a project or run name holds; two names that
  slug alike are told apart by a suffix, deterministically.

Page builders get a ``SiteMap`` (``site``) for every path and key; they never build paths
themselves. Builders: ``build_index(projects, config, site)``, ``build_run(run, project,
config, site)``, ``build_project(project, config, site)``, ``build_compare(projects, config,
site)``, and the reports, checks and utilisation builders.
"""
from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from runpages.sitegen import __version__
from runpages.sitegen.atomic import copy_atomic

STATE_DIR = ".runpages"
STATE_VERSION = 1

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                     *(f"lpt{i}" for i in range(10))}


def slug(name: Any, max_len: int = 80) -> str:
    """A path-safe file name for ``name``: ASCII letters, digits, ``.``, ``_``, ``-`` only,
    never starting with a dot (no hidden files, no ``..``), never empty."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", s)
    s = re.sub(r"-{2,}", "-", s).strip("-.")
    s = s[:max_len].strip("-.")
    if not s:
        s = "x-" + hashlib.sha1(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if s.split(".")[0].lower() in _WINDOWS_RESERVED:
        s = "_" + s
    return s


def unique_slugs(names: Iterable[Any]) -> list[str]:
    """Slugs for ``names`` in order; a repeat (compared case-insensitively) gets ``-2``, ``-3``."""
    seen: set[str] = set()
    out = []
    for name in names:
        base = slug(name)
        s, n = base, 1
        while s.lower() in seen:
            n += 1
            s = f"{base}-{n}"
        seen.add(s.lower())
        out.append(s)
    return out


class SiteMap:
    """Every path and key of the site, from the projects read. Paths are site-root relative."""

    def __init__(self, projects: list):
        self.projects = list(projects)
        names = sorted(p.name for p in self.projects)
        self._project = dict(zip(names, unique_slugs(names)))
        self._run: dict[str, str] = {}
        self._by_key: dict[str, Any] = {}
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

    def project_url(self, project) -> str:
        name = project if isinstance(project, str) else project.name
        return f"p/{self._project[name]}/index.html"

    def run_url(self, run) -> str:
        return f"p/{self.key(run).replace('/', '/r/', 1)}/index.html"

    def run_data(self, run) -> str:
        return f"data/runs/{self.key(run)}.js"

    def project_data(self, project) -> str:
        name = project if isinstance(project, str) else project.name
        return f"data/projects/{self._project[name]}.js"

    def files_dir(self, run) -> str:
        return f"files/{self.key(run)}/"

    def compare_url(self, runs: Iterable = ()) -> str:
        keys = ",".join(self.key(r) for r in runs)
        return "compare.html" + (f"?runs={keys}" if keys else "")


@dataclass
class BuildResult:
    pages: int = 0                    # HTML pages in the site
    pages_written: int = 0            # of those, written by this build (the rest were unchanged)
    runs: int = 0                     # runs in the site
    rebuilt_runs: int = 0             # runs whose pages/data/downloads were redone
    files: int = 0                    # files written in all (pages, data, downloads, assets)
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    output: str = ""

    def summary(self) -> str:
        n = len(self.problems)
        return (f"built {self.pages} page{'s' if self.pages != 1 else ''}, {self.runs} "
                f"run{'s' if self.runs != 1 else ''} in {self.seconds:.1f}s"
                + (f" ({n} problem{'s' if n != 1 else ''})" if n else ""))


# ---------------------------------------------------------------------------------------------
# State: what the last build wrote

def _load_state(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            state = pickle.load(f)
        if isinstance(state, dict) and state.get("version") == STATE_VERSION:
            return state
    except Exception:  # noqa: BLE001 - a broken state file only means a full build
        pass
    return {"version": STATE_VERSION, "settings": None, "runs": {}}


def _save_state(path: Path, state: dict) -> None:
    from runpages.sitegen.atomic import write_atomic

    write_atomic(path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def _settings_hash(config, theme_dirs: list[str]) -> str:
    """Anything that changes every run page: settings, runpages version, template files."""
    h = hashlib.sha1()
    from dataclasses import fields, is_dataclass

    shaping = {f.name: getattr(config, f.name) for f in fields(config)
               if f.name not in ("runs_dirs", "output", "strict", "source")} if is_dataclass(config) else {}
    h.update(repr((__version__, config.title, str(config.theme or ""), config.max_artifact_mb,
                   sorted((k, repr(v)) for k, v in shaping.items()))).encode())
    from runpages.sitegen.assets import BOKEH_FILES, bokeh_js_dir

    js = bokeh_js_dir()
    for name in BOKEH_FILES:
        st = (js / name).stat()
        h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for d in theme_dirs:
        for root, _dirs, files in sorted(os.walk(d)):
            for name in sorted(files):
                p = os.path.join(root, name)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _progress(total: int, desc: str):
    """A tqdm bar on a terminal only, shown when the work takes more than a moment."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", leave=False, delay=0.8,
                disable=not sys.stderr.isatty(), file=sys.stderr)


def build_site(config, changed: set[str] | None = None, now: float | None = None) -> BuildResult:
    """Build (or bring up to date) the site for ``config``; returns what was done.

    ``changed``: run keys or run folder paths known to have changed (from ``serve --watch``);
    they are redone even if their fingerprint looks the same. Everything else is decided by
    fingerprints. Raises ``ProblemsError`` under ``config.strict`` when the runs have Problems.
    """
    from runpages.sitegen import charts
    from runpages.sitegen.assets import copy_assets
    from runpages.sitegen.errors import ProblemsError, SiteError
    from runpages.sitegen.pages.index import build_index
    from runpages.sitegen.pages.run import build_run, plan_downloads
    from runpages.sitegen.reader import ReadCache, read_runs, summarize_problems
    from runpages.sitegen.atomic import write_atomic
    from runpages.sitegen.render import Renderer, _theme_dirs, render_pages, write_if_changed

    t_start = time.perf_counter()
    out = Path(config.output)
    if config.theme and not Path(config.theme).is_dir():
        raise SiteError(f"{config.theme}: theme folder not found")
    state_dir = out / STATE_DIR
    cache_path = state_dir / "cache.pickle"
    state_path = state_dir / "state.pickle"

    from runpages.sitegen.storemirror import refresh_mirrors

    refresh_mirrors(config)        # runs on an object store: bring their local mirror up to date
    theme_dirs = _theme_dirs(config.theme)
    settings = _settings_hash(config, theme_dirs)
    state = _load_state(state_path)
    from runpages.sitegen.runscan import scan_runs

    found = scan_runs(config.runs_dirs)
    scan = _scan_runs(config.runs_dirs, found, _reports_dir(config))
    now_t = time.time() if now is None else now
    if (not changed and state.get("settings") == settings
            and state.get("scan") == scan and now_t < (state.get("next_change_at") or math.inf)
            and (out / "index.html").exists() and (out / "_static" / "charts.js").exists()):
        # Nothing on disk changed since the last build: the site is up to date as it stands.
        problems = list(state.get("problems") or [])
        if config.strict and problems:
            raise ProblemsError(summarize_problems(problems))
        return BuildResult(pages=state.get("pages", 0), runs=state.get("run_count", 0), problems=problems,
                           seconds=time.perf_counter() - t_start, output=str(out))

    cache = ReadCache.load(cache_path)
    before = _cache_marks(cache)
    projects, problems = read_runs([str(d) for d in config.runs_dirs], cache=cache, now=now, found=found)
    if getattr(config, "main_metric", None) or getattr(config, "default_main_metric", None):
        from runpages.sitegen.model import apply_main_metrics

        apply_main_metrics(projects, config.main_metric or {}, getattr(config, "default_main_metric", None))

    site = SiteMap(projects)
    full = state.get("settings") != settings
    old_runs: dict[str, dict] = state.get("runs", {})
    changed = set(changed or ())

    # The other page types, imported only when there is something to build.
    from runpages.sitegen.pages.checks import build_checks
    from runpages.sitegen.pages.compare import build_compare
    from runpages.sitegen.pages.project import build_project
    from runpages.sitegen.pages.report import build_reports
    from runpages.sitegen.pages.utilisation import build_utilisation, run_card

    reports = build_reports(projects, config, site)
    problems = problems + list(reports.problems)
    if config.strict and problems:
        raise ProblemsError(summarize_problems(problems))
    cited_by = dict(reports.cited_by)

    renderer = Renderer(config.theme, cache_dir=state_dir / "templates", globals={
        "site_title": config.title, "version": __version__,
        "nav_reports": bool(reports.pages),
        "nav_utilisation": True,
    })
    result = BuildResult(output=str(out), problems=problems)
    out.mkdir(parents=True, exist_ok=True)
    result.files += copy_assets(theme_dirs, out)

    all_runs = [(p, r) for p in projects for r in p.runs]
    result.runs = len(all_runs)
    new_runs: dict[str, dict] = {}
    todo = []
    extras: dict[str, str] = {}
    for project, run in all_runs:
        key = site.key(run)
        old = old_runs.get(key)
        extras[key] = _extras_hash(cited_by.get(key))
        if (not full and old and old.get("fingerprint") == run.fingerprint and run.fingerprint
                and old.get("dir") == run.dir and old.get("status") == run.status
                and old.get("extras") == extras[key] and key not in changed and run.dir not in changed
                and (out / site.run_url(run)).exists()):
            new_runs[key] = old
        else:
            todo.append((project, run))

    # Per-run work: page, data script, downloads. Rendered in memory, then written.
    bar = _progress(len(todo), "runs")
    try:
        for project, run in todo:
            key = site.key(run)
            plan = plan_downloads(run, site, config)
            page = build_run(run, project, config, site, plan)
            page.context.setdefault("cited_by", cited_by.get(key, []))
            page.context.setdefault("usage", run_card(run, config))
            html = renderer.render(page)
            files: dict[str, bytes | str] = {page.path: html, site.run_data(run): charts.run_script(run, site)}
            if plan.csv:
                files[plan.csv] = metrics_csv(run)
            copies = plan.copies
            for rel, data in files.items():
                write_atomic(out / rel, data)
            for rel, src in copies.items():
                copy_atomic(src, out / rel)
            result.pages_written += 1
            result.files += len(files) + len(copies)
            result.rebuilt_runs += 1
            outputs = sorted(set(files) | set(copies))
            for stale in set(old_runs.get(key, {}).get("outputs", ())) - set(outputs):
                _remove(out, stale)
            new_runs[key] = {"fingerprint": run.fingerprint, "dir": run.dir, "status": run.status,
                             "extras": extras[key], "outputs": outputs, "entry": None}
            bar.update(1)
    finally:
        bar.close()

    # Runs that are gone: remove what they left behind.
    for key, old in old_runs.items():
        if key not in new_runs:
            for stale in old.get("outputs", ()):
                _remove(out, stale)

    # Site-wide pages and project data: cheap, re-rendered every time, written when changed.
    index = build_index(projects, config, site)
    index.context.setdefault("reports", list(reports.listing))
    pages = [index]
    pages += [build_project(p, config, site) for p in projects]
    pages.append(build_compare(projects, config, site))
    pages += [pg for pg in (build_checks(p, config, site) for p in projects) if pg is not None]
    pages += list(build_utilisation(projects, config, site))
    pages += list(reports.pages)
    rendered = render_pages(renderer, pages)
    data = {site.project_data(p): _project_script(p, site, new_runs, charts) for p in projects}
    for rel, text in rendered.items():
        if write_if_changed(out / rel, text):
            result.pages_written += 1
            result.files += 1
    for rel, text in data.items():
        if write_if_changed(out / rel, text):
            result.files += 1
    report_copies = dict(reports.copies)
    for rel, src in report_copies.items():
        if _copy_if_changed(src, out / rel):
            result.files += 1
    data.update({rel: "" for rel in report_copies})   # tracked as site outputs below

    site_outputs = sorted(set(rendered) | set(data))
    for stale in set(state.get("site_outputs") or ()) - set(site_outputs):
        _remove(out, stale)                      # pages and data of projects that are gone
    result.pages = len(all_runs) + len(rendered)
    if _cache_marks(cache) != before or not cache_path.exists():
        cache.save(cache_path)
    running = [r.last_activity or now_t for _, r in all_runs if r.status == "running"]
    _save_state(state_path, {
        "version": STATE_VERSION, "settings": settings, "runs": new_runs, "scan": scan,
        "site_outputs": site_outputs,
        "problems": problems, "pages": result.pages, "run_count": result.runs,
        # A running run turns "lost" when its heartbeat gets old: rebuild then even if no file changed.
        "next_change_at": (min(running) + _lost_after()) if running else None,
    })
    result.seconds = time.perf_counter() - t_start
    return result


def metrics_csv(run) -> bytes:
    """Full-resolution metrics as CSV (every logged step, every numeric key; NaN empty)."""
    frame = run.metrics
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        sink = pa.BufferOutputStream()
        pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), sink)
        return sink.getvalue().to_pybytes()
    except Exception:  # noqa: BLE001 - pyarrow missing or a column it cannot write: pandas
        return frame.to_csv(index=False).encode("utf-8")


def _reports_dir(config) -> Path | None:
    from runpages.sitegen.reports import reports_dir

    return reports_dir(config)


def _lost_after() -> float:
    from runpages import schema

    return float(schema.LOST_AFTER_S)


def _scan_runs(dirs, found: dict, reports_dir: Path | None = None) -> dict[str, str]:
    """``{run folder: fingerprint}`` (from ``found``, a ``runscan.scan_runs`` result) plus
    the other inputs' stats, to spot a build with nothing to do before loading the read cache."""
    from runpages.sitegen.runscan import fingerprints

    scan = fingerprints(found)
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            scan[f"missing:{d}"] = ""
            continue
        for extra in d.glob("*/.checks"):          # runpages check records (checks pages)
            scan.update(_stat_tree(extra))
    if reports_dir is not None:
        scan.update(_stat_tree(Path(reports_dir)))
    return scan


def _stat_tree(folder: Path) -> dict[str, str]:
    out = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            try:
                st = os.stat(p)
            except OSError:
                continue
            out["extra:" + p] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


def _cache_marks(cache) -> dict:
    return {k: (e.size, e.mtime_ns, e.offset, e.ino) for k, e in cache.entries.items()}


def _project_script(project, site, runs_state: dict, charts) -> str:
    """The project data script; each run's low-resolution entry is reused while its
    fingerprint (and the project's point budget) is unchanged."""
    n_series = sum(len(r.metric_keys) for r in project.runs)
    points = charts.project_points(n_series)
    entries = {}
    for run in project.runs:
        st = runs_state[site.key(run)]
        cached = st.get("entry")
        if cached is None or cached[0] != points:
            cached = (points, charts.to_js(charts.project_run_entry(run, site, points)))
            st["entry"] = cached
        entries[site.key(run)] = charts._Raw(cached[1])
    return charts.project_script(project, site, entries)


def _extras_hash(value) -> str:
    """A run page also shows what other sources say about the run (reports citing it)."""
    if not value:
        return ""
    return hashlib.sha1(repr(value).encode("utf-8", "surrogatepass")).hexdigest()


def _copy_if_changed(src, dest: Path) -> bool:
    try:
        s, d = os.stat(src), dest.stat()
        if s.st_size == d.st_size and s.st_mtime_ns <= d.st_mtime_ns:
            return False
    except OSError:
        pass
    copy_atomic(src, dest)
    return True


def _remove(out: Path, rel: str) -> None:
    """Delete one output of the last build, and its folders while they are left empty."""
    path = out / rel
    try:
        path.unlink()
    except OSError:
        return
    parent = path.parent
    while parent != out and out in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
