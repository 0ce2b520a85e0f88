"""build_site(config, changed=None): run folders in, static site out; full or incremental.

Invariants:
- What the pages see comes from ``logbook.load_logbook``; this module only plans (what
  changed) and writes. Everything is rendered in memory, then written; every file lands by
  temp name + rename. ``BuildResult.written`` / ``removed`` name every site path touched, so
  ``serve --watch`` never walks the output folder.
- A run whose ``fingerprint`` did not change (and whose outputs are still there) is not
  re-rendered, its data script and downloads are not rewritten; index, project and compare
  pages are re-rendered but only written when their bytes changed.
- A project none of whose runs changed is not even read (``build_kept``): its pages stay, and
  the site-wide pages take its kept summary (``pages.summary``); per-run and per-project
  state lives in a file per project in the cache (``build_aggregates``), so what a rebuild
  reads and writes follows what changed, not how many runs there are.
- The output folder holds exactly the publishable site. The build's cache (``build_cache``:
  JSON state, read cache as JSON + Arrow IPC, never a pickle) lives in its own folder and is
  only a shortcut: deleting it, or a cache that cannot be read, means a full build.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from runpages.problems import Problem
from runpages.sitegen import __version__
from runpages.sitegen.atomic import copy_atomic, link_atomic
from runpages.sitegen.build_aggregates import (load_aggregates, load_run_states, load_summaries,
                                               save_aggregates, save_run_states, save_summaries)


@dataclass
class BuildResult:
    pages: int = 0                    # HTML pages in the site
    pages_written: int = 0            # of those, written by this build (the rest were unchanged)
    runs: int = 0                     # runs in the site
    rebuilt_runs: int = 0             # runs whose pages/data/downloads were redone
    rendered: int = 0                 # site-wide and project pages rendered (unchanged projects are not)
    kept_projects: int = 0            # projects whose runs were not even read (build_kept)
    files: int = 0                    # files written in all (pages, data, downloads, assets)
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    output: str = ""
    cache_dir: str = ""               # where the build cache is (outside the site)
    written: set[str] = field(default_factory=set)    # site paths written by this build
    removed: set[str] = field(default_factory=set)    # site paths this build deleted
    # seconds per step of the build, in order: scan, load cache, parse (pool workers), read,
    # run pages, site pages, save; a build that found nothing changed has only "scan"
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> set[str]:
        """Site paths added, rewritten or removed: what open tabs must reload."""
        return self.written | self.removed

    def summary(self) -> str:
        n = len(self.problems)
        return (f"built {self.pages} page{'s' if self.pages != 1 else ''}, {self.runs} "
                f"run{'s' if self.runs != 1 else ''} in {self.seconds:.1f}s"
                + (f" ({n} problem{'s' if n != 1 else ''})" if n else ""))

    def timings(self) -> str:
        """``runpages build --timings``: where the time went, one line."""
        return "timings: " + ", ".join(f"{name} {sec:.2f}s" for name, sec in self.phases.items())


class _Phases:
    """Marks the end of each step of a build into ``BuildResult.phases``."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._last
        self._last = now


def _settings_hash(config, theme_dirs: list[str]) -> str:
    """Anything that changes every run page: settings, runpages version, template files."""
    h = hashlib.sha1()
    from dataclasses import fields, is_dataclass

    shaping = {f.name: getattr(config, f.name) for f in fields(config)
               if f.name not in ("runs_dirs", "output", "strict", "source", "cache_dir")} if is_dataclass(config) else {}
    links = getattr(config, "store_links", None)     # pre-signed links: re-rendered in time
    h.update(repr((__version__, config.title, str(config.theme or ""), config.max_artifact_mb,
                   sorted((k, repr(v)) for k, v in shaping.items()),
                   links and links.epoch)).encode())
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

    tqdm.monitor_interval = 0      # no monitor thread: the build pool forks only a thread-free process
    return tqdm(total=total, desc=desc, unit="run", leave=False, delay=0.8,
                disable=not sys.stderr.isatty(), file=sys.stderr)


def build_site(config, changed: set[str] | None = None, now: float | None = None,
               events: bool = False) -> BuildResult:
    """Build (or bring up to date) the site for ``config``; returns what was done.

    ``changed``: run keys or run folder paths known to have changed (from ``serve --watch``);
    they are redone even if their fingerprint looks the same. Everything else is decided by
    fingerprints. ``events``: ``changed`` names every run folder the file system reported since
    the last build in this process (``serve --watch``), so the other project folders are not
    scanned again (``_scan``). Raises ``ProblemsError`` under ``config.strict`` when the runs have Problems.
    """
    from runpages.sitegen import build_cache
    from runpages.sitegen.errors import ProblemsError, SiteError
    from runpages.sitegen.render import _theme_dirs
    t_start = time.perf_counter()
    out = Path(config.output)
    if config.theme and not Path(config.theme).is_dir():
        raise SiteError(f"{config.theme}: theme folder not found")
    from runpages.sitegen.storemirror import refresh_mirrors

    refresh_mirrors(config)        # runs on an object store: bring their local mirror up to date
    cache_dir = build_cache.cache_dir(config)
    read_dir = cache_dir / build_cache.READ_DIR
    theme_dirs = _theme_dirs(config.theme)
    settings = _settings_hash(config, theme_dirs)
    state = build_cache.load_state(cache_dir)

    phases = _Phases()
    found = _scan(config.runs_dirs, changed if events else None)
    scan = _scan_runs(config.runs_dirs, found, _reports_dir(config))
    scan_digest = _digest(scan)
    phases.mark("scan")
    now_t = time.time() if now is None else now
    if (not changed and state.get("settings") == settings
            and state.get("scan") == scan_digest and now_t < (state.get("next_change_at") or math.inf)
            and not state.get("retry")                 # a run's worker died last time: try it again
            and (out / "index.html").exists() and (out / "_static" / "charts.js").exists()):
        # Nothing on disk changed since the last build: the site is up to date as it stands.
        problems = list(state.get("problems") or [])
        if config.strict and problems:
            from runpages.sitegen.reader import summarize_problems

            raise ProblemsError(summarize_problems(problems))
        return BuildResult(pages=state.get("pages", 0), runs=state.get("run_count", 0), problems=problems,
                           seconds=time.perf_counter() - t_start, output=str(out), cache_dir=str(cache_dir),
                           phases=phases.seconds)

    # Imported past the fast path: the reader brings pandas (~1-2 s of a fresh process).
    from runpages.sitegen.logbook import load_logbook
    from runpages.sitegen import readcache
    from runpages.sitegen.reader import ReadCache, summarize_problems

    cache = ReadCache.load(read_dir)
    cache.levels_dir = cache_dir / build_cache.LEVELS_DIR    # long runs' zoom tiles (sitegen/longread.py)
    before = _cache_marks(cache)
    phases.mark("load cache")                 # with the reader's imports (pandas) in a fresh process
    from runpages.sitegen.build_read import warm_read_cache

    # Many runs to parse (a cold build): workers parse them into the cache first, so the
    # logbook below holds no run's points, only where they are (lazyframe.LazyFrame).
    from runpages.sitegen.runrecords import RECORDS_DIR, RunRecords
    from runpages.sitegen import build_kept

    full = state.get("settings") != settings
    # Projects nobody touched since the last build: neither read nor made into runs (build_kept).
    hashes = build_kept.folder_hashes(scan)
    inputs = build_kept.inputs_hash(scan)
    kept = build_kept.plan(state, hashes, inputs, set(changed or ()), out, cache_dir, full)
    records = RunRecords.load(cache_dir / RECORDS_DIR)     # unchanged runs are made from these
    skip = {f for st, _ in kept.values() for f in st["folders"]}
    warm_read_cache(_without(found, skip), cache, read_dir, now_t, records, fingerprints=scan)
    phases.mark("parse")
    problem_dirs: set[str] = set()
    book = load_logbook(config, cache=cache, now=now, found=found, records=records, kept=kept,
                        problem_dirs=problem_dirs)
    # Every run is read: the cache is saved now and its entries let go (a cold build's
    # entries are a few KB a run, and the workers forked next would carry them).
    if _cache_marks(cache) != before or not (read_dir / readcache.SHARDS_DIR).is_dir():
        cache.save(read_dir)
    cache.unload()
    before = _cache_marks(cache)
    phases.mark("read")
    kept_names = {p.name for p in book.projects if build_kept.is_kept(p)}
    if config.strict and book.problems:
        raise ProblemsError(summarize_problems(book.problems))

    result = BuildResult(output=str(out), problems=list(book.problems), cache_dir=str(cache_dir),
                         kept_projects=len(kept_names))
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / build_cache.LEGACY_DIR, ignore_errors=True)   # older builds' cache, inside the site
    written = _Writer(out, result)
    from runpages.sitegen.assets import copy_assets

    for rel in copy_assets(theme_dirs, out):
        written.note(rel)
    renderer = _renderer(config, book)
    new_runs = _write_runs(book, renderer, load_run_states(state, cache_dir, kept_names), full,
                           set(changed or ()), written, kept_names)
    phases.mark("run pages")
    site_outputs, projects_state = _write_site_pages(book, renderer, new_runs, written, state, full,
                                                     set(changed or ()), cache_dir, kept_names)
    shared = build_kept.shared_folders(book.projects)
    for p in book.projects:
        if p.name in projects_state:
            projects_state[p.name].update(build_kept.project_state(
                book, p, hashes, problem_dirs, shared, projects_state[p.name]["key"]))
    for stale in set(state.get("site_outputs") or ()) - set(site_outputs):
        written.remove(stale)                      # pages and data of projects that are gone
    phases.mark("site pages")
    from runpages.sitegen.build_zoom import prune_levels

    read_projects = [p for p in book.projects if p.name not in kept_names]
    prune_levels(cache.levels_dir, [r for p in read_projects for r in p.runs],
                 keep={n for p in book.projects if p.name in kept_names for n in p.state["levels"]})
    if _cache_marks(cache) != before:        # something read a run since (a report asking for one)
        cache.save(read_dir)
    records.save(keep=build_kept.skipped_folders(book), present=set(hashes))
    running = [r.last_activity or now_t for p in read_projects for r in p.runs if r.status == "running"]
    # run states and per-project aggregates live in a file per project (build_aggregates)
    save_run_states(book, new_runs, cache_dir, kept_names, state)
    build_cache.save_state(cache_dir, {
        "version": build_cache.CACHE_VERSION, "settings": settings, "scan": scan_digest,
        "site_outputs": site_outputs, "projects": projects_state, "inputs": inputs,
        "problems": result.problems, "pages": result.pages, "run_count": result.runs,
        "retry": any(st.get("crashed") for st in new_runs.values()),
        # A running run turns "lost" when its heartbeat gets old: rebuild then even if no file changed.
        "next_change_at": (min(running) + _lost_after()) if running else None,
    })
    phases.mark("save")
    result.phases = phases.seconds
    result.seconds = time.perf_counter() - t_start
    return result


class _Writer:
    """Writes into the site and records every path it touched on the ``BuildResult``."""

    def __init__(self, out: Path, result: BuildResult):
        self.out, self.result = out, result

    def note(self, rel: str) -> None:
        self.result.written.add(rel)
        self.result.files += 1

    def write(self, rel: str, data: bytes | str) -> None:
        from runpages.sitegen.atomic import write_atomic

        write_atomic(self.out / rel, data)
        self.note(rel)

    def copy(self, rel: str, src, link: bool = False) -> None:
        """``link``: a hard link where the file system allows (``downloads.Downloads.linkable``)."""
        (link_atomic if link else copy_atomic)(src, self.out / rel)
        self.note(rel)

    def write_if_changed(self, rel: str, data: bytes | str) -> bool:
        from runpages.sitegen.render import write_if_changed

        if write_if_changed(self.out / rel, data):
            self.note(rel)
            return True
        return False

    def copy_if_changed(self, rel: str, src) -> None:
        if _copy_if_changed(src, self.out / rel):
            self.note(rel)

    def remove(self, rel: str) -> None:
        if _remove(self.out, rel):
            self.result.removed.add(rel)


def _renderer(config, book):
    from runpages.sitegen.render import Renderer

    return Renderer(config.theme, globals={
        "site_title": config.title, "version": __version__,
        "nav_reports": bool(book.reports),
        "nav_utilisation": True,
    })


def _write_runs(book, renderer, old_runs: dict[str, dict], full: bool, changed: set[str],
                written: _Writer, kept: set[str] = frozenset()) -> dict[str, dict]:
    """Per-run work (page, data script, downloads) for the runs that changed; returns the
    state of every run. Each run is rendered in memory, then written; many runs are done by
    a pool of forked workers (``build_pool``), whose results are merged here in run order."""
    from runpages.sitegen import charts
    from runpages.sitegen.build_pool import map_runs

    site, out, result = book.site, written.out, written.result
    all_runs = [r for p in book.projects if p.name not in kept for r in p.runs]
    new_runs: dict[str, dict] = {}
    # kept projects (build_kept): their runs and their states in the cache stay as they were
    result.runs = len(all_runs) + sum(p.state["count"] for p in book.projects if p.name in kept)
    todo: dict[str, tuple] = {}
    for run in all_runs:
        key = site.key(run)
        old = old_runs.get(key)
        extras = _extras_hash(book.cited_by.get(key))
        if (not full and old and old.get("fingerprint") == run.fingerprint and run.fingerprint
                and old.get("dir") == run.dir and old.get("status") == run.status
                and old.get("extras") == extras and key not in changed and run.dir not in changed
                and old.get("color") == site.color(run)      # a run started before it moved its colour
                and os.path.exists(os.path.join(out, site.run_url(run)))):
            new_runs[key] = old
        else:
            todo[key] = (run, extras)
    # A run's project-script entry is made with its page, at the script's point budget, and
    # only for the runs the script carries (a large project's: the overlay's first runs).
    carried = {p.name: _script_runs(p) for p in book.projects
               if p.name not in kept and any(site.key(r) in todo for r in p.runs)}
    points = {name: _script_points(runs, charts) for name, runs in carried.items()}
    carried_keys = {site.key(r) for runs in carried.values() for r in runs}

    def work(batch: list[str]) -> list[dict]:
        """Render and write the runs ``batch`` names (in this process or a forked worker)."""
        out = []
        for key in batch:
            run, extras = todo[key]
            local = _Writer(written.out, BuildResult())
            state = _write_run(book, renderer, run, extras, old_runs.get(key, {}),
                               points[run.project] if key in carried_keys else None, local)
            run.release_frames()          # a run's points are not held past its pages
            out.append({"state": state, "written": sorted(local.result.written),
                        "removed": sorted(local.result.removed), "files": local.result.files})
        return out

    bar = _progress(len(todo), "runs")
    try:
        outcomes, crashed = map_runs(work, list(todo), on_batch=bar.update)
    finally:
        bar.close()
    for key, got in zip(todo, outcomes):
        if got is None:                      # its worker died: a Problem, and redone next build
            run = todo[key][0]
            problem = Problem(run.dir, None, f"the build could not render this run: {crashed[key]}; "
                                             "its pages are left as they were and are tried again next build")
            result.problems.append(problem)
            book.problems.append(problem)
            new_runs[key] = {**old_runs.get(key, {"outputs": []}), "fingerprint": None, "entry": None,
                             "crashed": True}
            continue
        new_runs[key] = got["state"]
        result.written.update(got["written"])
        result.removed.update(got["removed"])
        result.files += got["files"]
        result.pages_written += 1
        result.rebuilt_runs += 1
    for key, old in old_runs.items():          # runs that are gone: remove what they left behind
        if key not in new_runs:
            for stale in old.get("outputs", ()):
                written.remove(stale)
    return new_runs


def _write_run(book, renderer, run, extras: str, old: dict, points: int | None, written: _Writer) -> dict:
    """One run's page, data script, media script and downloads, rendered in memory, then
    written; returns the run's build state (with its project-script entry at ``points``;
    none when None: the project script does not carry the run)."""
    from runpages.sitegen import charts
    from runpages.sitegen.downloads import plan_downloads
    from runpages.sitegen.pages.compare_media import media_script
    from runpages.sitegen.pages.run import build_run
    from runpages.sitegen.build_zoom import place_zoom_tiles

    site = book.site
    key = site.key(run)
    plan = plan_downloads(run, site, book.config)
    page = build_run(run, book, plan)
    columns = charts.metric_columns(run)           # the page's series and the project entry's
    files: dict[str, bytes | str] = {page.path: renderer.render(page),
                                     site.run_data(run): charts.run_script(run, site, columns)}
    if plan.csv:
        files[plan.csv] = metrics_csv(run)
    for rel, data in files.items():
        written.write(rel, data)
    # Only when new media came: a compare page that loaded it reloads when it changes. A run
    # without media has none (its payload says so: compare asks for no file it lacks).
    media: set[str] = set()
    if plan.media:
        media.add(site.media_data(run))
        written.write_if_changed(site.media_data(run), media_script(key, plan.media))
    for rel, src in plan.copies.items():
        written.copy(rel, src, link=rel in plan.linkable)
    zoom_tiles = place_zoom_tiles(run, charts.zoom_base(run, site), written.out, written.note)
    outputs = sorted(set(files) | set(plan.copies) | media | set(zoom_tiles))
    for stale in set(old.get("outputs", ())) - set(outputs):
        written.remove(stale)
    from runpages.sitegen.pages.utilisation import usage_record

    entry = None if points is None else [points, charts.to_js(charts.project_run_entry(run, site, points, columns))]
    return {"fingerprint": run.fingerprint, "dir": run.dir, "status": run.status, "extras": extras,
            "outputs": outputs, "entry": entry, "color": site.color(run),
            "usage": usage_record(run, book.config)}     # the run page's card computed it


def _write_site_pages(book, renderer, runs_state: dict[str, dict], written: _Writer, old: dict,
                      full: bool, changed: set[str], cache_dir: Path,
                      kept_names: set[str] = frozenset()) -> tuple[list[str], dict]:
    """Site-wide pages (home, compare, site utilisation, reports: rendered every time) and each
    project's pages and data (rendered only when the project's key changed, ``_project_key``);
    all written only when their bytes changed. Returns their site paths and the projects' state."""
    from runpages.sitegen import charts
    from runpages.sitegen.pages.checks import build_checks
    from runpages.sitegen.pages.compare import RUN_INDEX, build_compare, run_index_script
    from runpages.sitegen.pages.index import build_index
    from runpages.sitegen.pages.project import build_project, is_large
    from runpages.sitegen.pages.project_rows import rows_script
    from runpages.sitegen.pages.report import build_reports
    from runpages.sitegen.pages.utilisation import SITE_PATH as UTIL_SITE_PATH, build_utilisation
    from runpages.sitegen.pages.utilisation import project_path as util_path
    from runpages.sitegen.pages.summary import summary_of
    from runpages.sitegen.render import render_pages

    projects, site, result = book.projects, book.site, written.result
    old_projects = old.get("projects") or {}
    keys = {p.name: (p.state["key"] if p.name in kept_names else _project_key(book, p, runs_state))
            for p in projects}
    kept = {p.name: old_projects[p.name]["outputs"] for p in projects
            if not full and keys[p.name] and old_projects.get(p.name, {}).get("key") == keys[p.name]
            and (p.name in kept_names or not _names_a_run(book, p, changed))
            and all((written.out / rel).exists() for rel in old_projects[p.name]["outputs"])}
    redo = [p for p in projects if p.name not in kept]
    load_aggregates(book, runs_state, cache_dir, {p.name for p in redo})
    load_summaries(book, cache_dir, {name: keys[name] for name in kept})
    unsummarised = [p for p in projects if p.name not in book.summaries]
    reports = build_reports(book)
    owner: dict[str, str] = {}          # page path -> the project it belongs to
    pages = [build_index(book), build_compare(book)]
    for p in redo:
        own = [build_project(p, book), build_checks(p, book)]
        own = [pg for pg in own if pg is not None]
        owner.update((pg.path, p.name) for pg in own)
        pages += own
    kept_paths = {rel for outs in kept.values() for rel in outs}
    util_owner = {util_path(site, p): p.name for p in redo}
    for pg in build_utilisation(book, only={p.name for p in redo}):   # a kept project's is kept too
        pages.append(pg)
        if pg.path != UTIL_SITE_PATH:
            owner[pg.path] = util_owner[pg.path]
    pages += list(reports.pages)
    rendered = render_pages(renderer, pages)
    data = {site.project_data(p): _project_script(p, site, runs_state, charts) for p in redo}
    save_aggregates(book, runs_state, cache_dir, redo)
    owner.update((site.project_data(p), p.name) for p in redo)
    for p in redo:                  # a large project's table rows: columnar, laid out on demand
        if is_large(p):
            data[site.project_rows(p)] = rows_script(p, site)
            owner[site.project_rows(p)] = p.name
    # every run, for the compare picker
    data[RUN_INDEX] = run_index_script(projects, site, {p.name: summary_of(book, p)["index"] for p in projects})
    save_summaries(book, cache_dir, keys, unsummarised)
    for rel, text in rendered.items():
        if written.write_if_changed(rel, text):
            result.pages_written += 1
    for rel, text in data.items():
        written.write_if_changed(rel, text)
    for rel, src in reports.copies.items():
        written.copy_if_changed(rel, src)
    result.pages = result.runs + len(rendered) + sum(1 for rel in kept_paths if rel.endswith(".html"))
    result.rendered = len(rendered)
    projects_state = {name: {"key": keys[name], "outputs": outs} for name, outs in kept.items()}
    for rel, name in owner.items():
        projects_state.setdefault(name, {"key": keys[name], "outputs": []})["outputs"].append(rel)
    outputs = sorted(set(rendered) | set(data) | set(reports.copies) | kept_paths)
    return outputs, projects_state


# A field that is exactly ``nan`` (pyarrow's spelling of a float NaN; header names are quoted).
_NAN_FIELD = re.compile(rb"(?m)(?:(?<=,)|^)nan(?=,|\r?$)")


def metrics_csv(run) -> bytes:
    """Full-resolution metrics as CSV: every logged step, every numeric key; a cell is empty
    where the key was not logged at that step, ``NaN`` where it was logged as NaN, ``inf`` /
    ``-inf`` for infinities."""
    frame = run.metrics
    nan_steps = getattr(run, "nan_steps", None) or {}
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        columns = {}
        for name in frame.columns:
            col = frame[name]
            if name in nan_steps and col.dtype.kind == "f":
                # logged NaN stays NaN; only steps where the key was not logged are empty
                columns[name] = pa.array(col.to_numpy(), mask=~run.logged_mask(name))
            else:
                columns[name] = pa.Array.from_pandas(col)
        table = pa.table(columns)
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink)
        data = sink.getvalue().to_pybytes()
        if not nan_steps:
            return data
        # Only the body is numbers; a quoted header name may hold "\nnan," and stays as logged.
        head = pa.BufferOutputStream()
        pacsv.write_csv(table.slice(0, 0), head)
        n = head.getvalue().size
        return data[:n] + _NAN_FIELD.sub(b"NaN", data[n:])
    except Exception:  # noqa: BLE001 - pyarrow missing or a column it cannot write: pandas
        import numpy as np

        out = frame.copy()
        for name in nan_steps:
            if name in out.columns:
                col = out[name].astype(object)
                col[np.isin(out["_step"].to_numpy(), nan_steps[name])] = "NaN"
                out[name] = col
        return out.to_csv(index=False).encode("utf-8")


def _reports_dir(config) -> Path | None:
    from runpages.sitegen.config import reports_dir

    return reports_dir(config)


def _lost_after() -> float:
    from runpages import schema

    return float(schema.LOST_AFTER_S)


# The last scan of the runs dirs in this process (``serve --watch``): a build given the run
# folders file events named (``events``) rescans only their project folders. Any other build
# (the watcher's periodic tick, every other caller) scans everything, so an event the file
# system never sent is still seen at the next tick.
_LAST_FOUND: dict[tuple, dict] = {}


def _scan(dirs, changed: set[str] | None) -> dict:
    from runpages.sitegen.runscan import scan_runs

    key = tuple(str(d) for d in dirs)
    named = bool(changed) and all(os.path.isabs(c) for c in changed)    # paths, not run keys
    found = scan_runs(dirs, previous=_LAST_FOUND.get(key) if named else None,
                      rescan=changed if named else None)
    _LAST_FOUND.clear()                  # one set of dirs kept: a process serves one site
    _LAST_FOUND[key] = found
    return found


def _digest(scan: dict[str, str]) -> str:
    """The scan as one hash: the state keeps this, not a line per run."""
    h = hashlib.blake2b(digest_size=16)
    for k in sorted(scan):
        h.update(f"{k}\0{scan[k]}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _without(found: dict, folders: set[str]) -> dict:
    """A ``scan_runs`` result less the runs in ``folders`` (parents of resolved run folders)."""
    if not folders:
        return found
    return {d: [e for e in runs if os.path.dirname(str(e[1])) not in folders] for d, runs in found.items()}


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


def _cache_marks(cache) -> int:
    """Moves whenever an entry is put into the cache or leaves it (then the build saves it)."""
    return cache.entries.changes


def _script_runs(project) -> list:
    """The runs a project's data script carries: all, or a large project's overlay runs."""
    from runpages.sitegen.pages.project import chart_runs, is_large

    return chart_runs(project) if is_large(project) else project.runs


def _script_points(runs: list, charts) -> int:
    """The point budget of each series in a project script carrying ``runs``."""
    return charts.project_points(sum(len(r.metric_keys) for r in runs))


def _project_script(project, site, runs_state: dict, charts) -> str:
    """The project data script; each run's low-resolution entry is reused while its
    fingerprint (and the project's point budget) is unchanged. A large project's script holds
    only the runs its overlay charts open with (``pages.project.chart_runs``)."""
    runs = _script_runs(project)
    points = _script_points(runs, charts)
    entries = {}
    for run in runs:
        st = runs_state[site.key(run)]
        cached = st.get("entry")
        if cached is None or cached[0] != points:
            cached = (points, charts.to_js(charts.project_run_entry(run, site, points)))
            st["entry"] = cached
        entries[site.key(run)] = charts._Raw(cached[1])
    return charts.project_script(project, site, entries, runs)


def _project_key(book, project, runs_state: dict) -> str:
    """What a project's own pages (table, checks, utilisation, data script) are made of: its
    URL layout, its runs' fingerprints and statuses, the reports citing them and its check
    records. "" (always redo) while a run has no fingerprint."""
    site = book.site
    parts: list = [site.project_url(project), site.project_data(project), book.checks.get(project.name),
                   bool(book.reports)]                       # the nav bar links reports when there are some
    for run in sorted(project.runs, key=site.key):
        key = site.key(run)
        if not run.fingerprint:
            return ""
        parts.append((key, run.fingerprint, run.status, run.dir, runs_state.get(key, {}).get("extras")))
    return hashlib.sha1(json.dumps(parts, default=str).encode("utf-8", "surrogatepass")).hexdigest()


def _names_a_run(book, project, changed: set[str]) -> bool:
    """``changed`` (``serve --watch``) names one of the project's runs: its pages are redone
    this time whatever its key says, and the key they are kept under is the usual one (so the
    next build need not redo them again)."""
    return bool(changed) and any(run.dir in changed or book.site.key(run) in changed for run in project.runs)


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


def _remove(out: Path, rel: str) -> bool:
    """Delete one output of the last build, and its folders while they are left empty;
    returns whether there was a file to delete."""
    path = out / rel
    try:
        path.unlink()
    except OSError:
        return False
    parent = path.parent
    while parent != out and out in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True
