"""What each run adds to the project-wide pages, and what each project adds to the site-wide
ones, kept between builds so a rebuild works it out for what changed only: a run's
overlay-chart entry (the project data script) and its utilisation figures (the project's
utilisation page), and a project's summary (``pages.summary``: home, compare, run index,
site utilisation).

Invariants:
- Kept per project in the build cache (``build_cache.load_aggregates``), not in ``state.json``:
  a rebuild reads the summaries of the projects it keeps and the run files only of the
  projects it redoes.
- A kept value counts only while what it was made from is unchanged (a run's fingerprint, a
  project's key); a file that cannot be read means working the values out again, never a
  failed build.
"""
from __future__ import annotations

from pathlib import Path

AGGREGATES = ("entry", "usage")      # per-run values kept per project in the build cache
SUMMARY, RUN_STATES = "summary", "runs"     # per-project files beside them


def load_aggregates(book, runs_state: dict, cache_dir: Path, redo: set[str]) -> None:
    """Give the pages of the projects being redone what the cache keeps of their unchanged
    runs: utilisation figures and script entries. A kept value counts only while its run's
    fingerprint is the one it was made from."""
    from runpages.sitegen import build_cache
    from runpages.sitegen.pages.utilisation import remember_usage

    site, config = book.site, book.config
    for project in book.projects:
        if project.name not in redo:
            continue
        slug = site.project_slug(project.name)
        for kind in AGGREGATES:
            stored = None
            for run in project.runs:
                key = site.key(run)
                st = runs_state.get(key)
                if st is None or not run.fingerprint:
                    continue
                value = st.get(kind)
                if value is not None:
                    if kind == "usage":          # rendered this build, maybe by a worker process
                        remember_usage(run, config, value)
                    continue
                if stored is None:
                    stored = build_cache.load_aggregates(cache_dir, slug, kind)
                fp_value = stored.get(key)
                if isinstance(fp_value, list) and len(fp_value) == 2 and fp_value[0] == run.fingerprint:
                    value = fp_value[1]
                    if kind == "entry" or remember_usage(run, config, value):
                        st[kind] = value            # saved again as it was read


def save_aggregates(book, runs_state: dict, cache_dir: Path, redone: list) -> None:
    """Keep per-run values of the ``redone`` projects for the next build (``load_aggregates``)."""
    from runpages.sitegen import build_cache
    from runpages.sitegen.pages.utilisation import usage_record

    site, config = book.site, book.config
    for project in redone:
        slug = site.project_slug(project.name)
        for kind in AGGREGATES:
            data = {}
            for run in project.runs:
                st = runs_state.get(site.key(run)) or {}
                value = st.get(kind)
                if value is None and kind == "usage":
                    value = usage_record(run, config)
                if value is not None and run.fingerprint and not st.get("crashed"):
                    data[site.key(run)] = [run.fingerprint, value]
            build_cache.save_aggregates(cache_dir, slug, kind, data)


def kept_summary(cache_dir: Path, slug: str, key: str) -> dict | None:
    """The summary the cache keeps of a project, when it was made under ``key`` and reads back whole."""
    from runpages.sitegen import build_cache
    from runpages.sitegen.pages.summary import is_summary

    stored = build_cache.load_aggregates(cache_dir, slug, SUMMARY)
    if key and stored.get("key") == key and is_summary(stored.get("summary")):
        return stored["summary"]
    return None


def load_summaries(book, cache_dir: Path, kept: dict[str, str]) -> None:
    """Put into ``book`` the summaries the cache keeps of the projects in ``kept`` (project
    name -> its key, ``build._project_key``), where they were made under that same key; a
    project the build did not read has its summary already."""
    for name, key in kept.items():
        if name not in book.summaries:
            got = kept_summary(cache_dir, book.site.project_slug(name), key)
            if got is not None:
                book.summaries[name] = got


def save_summaries(book, cache_dir: Path, keys: dict[str, str], projects: list) -> None:
    """Keep the summaries of ``projects`` for the next build, each under its project's key."""
    from runpages.sitegen import build_cache
    from runpages.sitegen.pages.summary import summary_of

    for project in projects:
        if keys.get(project.name):
            build_cache.save_aggregates(cache_dir, book.site.project_slug(project.name), SUMMARY,
                                        {"key": keys[project.name], "summary": summary_of(book, project)})


def load_run_states(state: dict, cache_dir: Path, kept: set[str]) -> dict[str, dict]:
    """The last build's state of each run (run key -> fingerprint, outputs, ...), kept per
    project in the build cache; the projects in ``kept`` (not read this time) are left out."""
    from runpages.sitegen import build_cache

    out: dict[str, dict] = {}
    for name, st in (state.get("projects") or {}).items():
        if name not in kept and isinstance(st, dict) and isinstance(st.get("slug"), str):
            runs = build_cache.load_aggregates(cache_dir, st["slug"], RUN_STATES)
            out.update((k, v) for k, v in runs.items() if isinstance(v, dict))
    return out


def save_run_states(book, runs_state: dict[str, dict], cache_dir: Path, kept: set[str], old: dict) -> None:
    """Keep each read project's run states for the next build (``load_run_states``), without
    the per-run values kept apart (``AGGREGATES``); remove the files of projects that are gone."""
    from runpages.sitegen import build_cache

    site = book.site
    for project in book.projects:
        if project.name in kept:
            continue
        data = {}
        for run in project.runs:
            key = site.key(run)
            st = runs_state.get(key)
            if st is not None:
                data[key] = {n: v for n, v in st.items() if n not in AGGREGATES}
        build_cache.save_aggregates(cache_dir, site.project_slug(project.name), RUN_STATES, data)
    slugs = {site.project_slug(p.name) for p in book.projects}
    for st in (old.get("projects") or {}).values():
        slug = st.get("slug") if isinstance(st, dict) else None
        if isinstance(slug, str) and slug not in slugs:
            build_cache.remove_aggregates(cache_dir, slug, (RUN_STATES, SUMMARY) + AGGREGATES)
