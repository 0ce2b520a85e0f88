"""Which projects a rebuild keeps without reading a run of them, and what stands in for them.

A team-year of runs is mostly projects nobody touched since the last build. Such a project's
pages, run pages and summary (``pages.summary``) are already in the site and the build
cache, so the rebuild neither reads its run records nor makes its runs: a
``kept_projects.KeptProject`` stands in for it, and the site-wide pages are made from its kept summary.

Invariants:
- A project is kept only when nothing it is made of can have changed: the settings and the
  other inputs (check records, reports) are the last build's; every folder that held its runs
  holds the same run folders with the same fingerprints (``folder_hashes``); last time it had
  no running run, no run without a fingerprint, no Problem, no folder shared with another
  project; its pages and kept summary are there; ``serve --watch`` did not name it.
- Being kept is only a shortcut, never a different site. Whatever asks for a kept project's
  runs (a report's query, a page) gets them, read then (``KeptProject.runs``), and the build
  treats the project as read. A run read this time that belongs to a kept project, or a new
  project that moves its URL, makes the build read that project after all
  (``kept_projects.read``, where the stand-in lives: the logbook holds it).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from runpages.sitegen.kept_projects import is_kept

# What ``state["projects"][name]`` holds beyond "key" and "outputs", for the next build's plan.
STATE_FIELDS = ("slug", "folders", "count", "levels", "keep")


def folder_hashes(scan: dict[str, str]) -> dict[str, str]:
    """Project folder (the parent of a resolved run folder) -> a hash of the run folders in it
    and their fingerprints, from the build's scan."""
    groups: dict[str, list[str]] = {}
    for run_dir, fp in scan.items():
        if not run_dir.startswith(("extra:", "missing:")):
            groups.setdefault(os.path.dirname(run_dir), []).append(f"{run_dir}\0{fp}\n")
    return {folder: hashlib.blake2b("".join(sorted(items)).encode("utf-8", "surrogatepass"),
                                    digest_size=12).hexdigest()
            for folder, items in groups.items()}


def inputs_hash(scan: dict[str, str]) -> str:
    """A hash of the scan's other inputs (check records, reports, missing runs folders)."""
    items = sorted(f"{k}\0{v}\n" for k, v in scan.items() if k.startswith(("extra:", "missing:")))
    return hashlib.blake2b("".join(items).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def plan(state: dict, hashes: dict[str, str], inputs: str, changed: set[str], out: Path,
         cache_dir: Path, full: bool) -> dict[str, tuple[dict, dict]]:
    """The projects this build can keep: name -> (its state from the last build, its summary)."""
    from runpages.sitegen.build_aggregates import kept_summary

    if full or state.get("retry") or state.get("inputs") != inputs:
        return {}
    named_slugs = {c.split("/", 1)[0] for c in changed}
    named_dirs = {os.path.dirname(os.path.realpath(c)) for c in changed}
    kept = {}
    for name, st in (state.get("projects") or {}).items():
        folders = st.get("folders")
        if not (st.get("keep") is True and st.get("key") and isinstance(folders, dict) and folders
                and isinstance(st.get("count"), int) and isinstance(st.get("slug"), str)):
            continue
        if st["slug"] in named_slugs or any(f in named_dirs or hashes.get(f) != h for f, h in folders.items()):
            continue
        if not all((out / rel).exists() for rel in st.get("outputs") or ()):
            continue
        summary = kept_summary(cache_dir, st["slug"], st["key"])
        if summary is not None:
            kept[name] = (st, summary)
    return kept


def skipped_folders(book) -> set[str]:
    """The folders of the projects whose runs were not read (nothing asked for them)."""
    return {f for p in book.projects if is_kept(p) for f in p.state["folders"]}


def project_state(book, project, hashes: dict[str, str], problem_dirs: set[str],
                  shared: set[str], key: str) -> dict:
    """What the next build's ``plan`` needs of ``project`` (read this time)."""
    if getattr(project, "kept", False):
        return {k: project.state[k] for k in STATE_FIELDS}
    site = book.site
    folders = {os.path.dirname(r.dir) for r in project.runs}
    keep = (bool(key) and bool(folders) and not (folders & (problem_dirs | shared))
            and all(r.fingerprint and r.status != "running" for r in project.runs))
    return {"slug": site.project_slug(project.name),
            "folders": {f: hashes.get(f, "") for f in sorted(folders)},
            "count": len(project.runs),
            "levels": sorted({os.path.basename(r.zoom["folder"]) for r in project.runs
                              if getattr(r, "zoom", None) and r.zoom.get("folder")}),
            "keep": keep}


def shared_folders(projects) -> set[str]:
    """Folders holding runs of more than one of the read projects (none of those is kept)."""
    owner: dict[str, str] = {}
    shared = set()
    for p in projects:
        if is_kept(p):
            continue
        for r in p.runs:
            f = os.path.dirname(r.dir)
            if owner.setdefault(f, p.name) != p.name:
                shared.add(f)
    return shared
