"""What each run adds to the project-wide pages, kept between builds so a rebuild works it out
for changed runs only: a run's overlay-chart entry (the project data script) and its
utilisation figures (project and site utilisation pages).

Invariants:
- Kept per project in the build cache (``build_cache.load_aggregates``), not in ``state.json``:
  a rebuild reads the usage files of every project (the site page sums them all) and the
  entry files only of the projects it redoes.
- A kept value counts only while its run's fingerprint is the one it was made from; a file
  that cannot be read means working the values out again, never a failed build.
"""
from __future__ import annotations

from pathlib import Path

AGGREGATES = ("entry", "usage")      # per-run values kept per project in the build cache


def load_aggregates(book, runs_state: dict, cache_dir: Path, redo: set[str]) -> set[str]:
    """Give the pages what the cache keeps of unchanged runs: every run's utilisation figures
    (the site page sums them all), and for projects being redone their script entries. A kept
    value counts only while its run's fingerprint is the one it was made from. Returns the
    projects whose kept figures were missing (an older cache): they are saved this time."""
    from runpages.sitegen import build_cache
    from runpages.sitegen.pages.utilisation import remember_usage

    site, config = book.site, book.config
    missing = set()
    for project in book.projects:
        slug = site.project_slug(project.name)
        kinds = ("usage", "entry") if project.name in redo else ("usage",)
        for kind in kinds:
            stored = None
            for run in project.runs:
                key = site.key(run)
                st = runs_state.get(key)
                if st is None or not run.fingerprint:
                    continue
                value = st.get(kind)
                if value is None:
                    if stored is None:
                        stored = build_cache.load_aggregates(cache_dir, slug, kind)
                    fp_value = stored.get(key)
                    if isinstance(fp_value, list) and len(fp_value) == 2 and fp_value[0] == run.fingerprint:
                        value = fp_value[1]
                        if kind == "entry":
                            st["entry"] = value
                if kind == "usage" and value is not None:
                    remember_usage(run, config, value)
                elif kind == "usage":
                    missing.add(project.name)
    return missing


def save_aggregates(book, runs_state: dict, cache_dir: Path, todo: list[tuple]) -> None:
    """Keep per-run values for the next build (``load_aggregates``): ``todo`` lists
    ``(project, kinds)``, the redone projects with every kind."""
    from runpages.sitegen import build_cache
    from runpages.sitegen.pages.utilisation import usage_record

    site, config = book.site, book.config
    for project, kinds in todo:
        slug = site.project_slug(project.name)
        for kind in kinds:
            data = {}
            for run in project.runs:
                st = runs_state.get(site.key(run)) or {}
                value = st.get(kind) if kind == "entry" else usage_record(run, config)
                if value is not None and run.fingerprint and not st.get("crashed"):
                    data[site.key(run)] = [run.fingerprint, value]
            build_cache.save_aggregates(cache_dir, slug, kind, data)
