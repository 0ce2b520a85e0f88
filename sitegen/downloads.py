"""What a run page offers to download, and what the build copies for it: the raw files the
reader read, media, the Reproduce files and artifacts, each under ``files/<project>/<run-id>/``.
``plan_downloads`` only stats files (never reads their contents); the build makes one plan per
run, copies what it names and hands it to ``pages.run.build_run``.

Invariants:
- The site holds one copy of a run's data: the full-resolution CSV is made in the browser from
  the site's metrics.jsonl when asked (``static/csv-export.js``, byte for byte
  ``build.metrics_csv``). Only when metrics.jsonl is not in the site (past ``max_artifact_mb``)
  does the build write metrics.csv itself (``Downloads.csv``).
- ``Downloads.linkable``: the files the build may hard-link instead of copying, those of a run
  that has ended (meta.json says finished, crashed or killed), which nothing appends to any
  more. A running run's files are copied: its logger appends to metrics.jsonl in place, and a
  link would hand the site lines the build never read (and half-written ones).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runpages import schema
from runpages.sitegen import limits
from runpages.sitegen.logbook import slug
from runpages.sitegen.media_page import plan_media, plan_reproduce
from runpages.sitegen.runscan import inside

RAW_FILES = (  # (file in the run folder, label)
    (schema.METRICS_FILE, "metrics (raw JSONL)"),
    (schema.SYSTEM_FILE, "system metrics (raw JSONL)"),
    (schema.CONSOLE_FILE, "console log"),
    (schema.CONFIG_FILE, "config.json"),
    (schema.META_FILE, "meta.json"),
)
CSV_LABEL = "metrics (CSV, full resolution)"
ENDED = (schema.FINISHED, schema.CRASHED, schema.KILLED)     # nothing writes to the folder any more


@dataclass
class Downloads:
    copies: dict[str, str] = field(default_factory=dict)       # site path -> source file
    linkable: set[str] = field(default_factory=set)             # of those, may be hard links
    csv: str | None = None                                      # site path of a metrics.csv the build writes
    links: list[dict] = field(default_factory=list)             # label, url, bytes
    artifacts: list[dict] = field(default_factory=list)         # rows for the artifacts table
    media: list[dict] = field(default_factory=list)             # sections (sitegen.media_page)
    reproduce: dict | None = None                               # the Reproduce section


def _safe_parts(rel: str) -> list[str] | None:
    """An artifact path as safe parts, or None when it points outside its folder."""
    parts = [p for p in str(rel).replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or str(rel).startswith("/"):
        return None
    return [slug(p) for p in parts]


def plan_downloads(run, site, config) -> Downloads:
    """Raw files are those the reader read (``run.files``: inside the run folder, per
    ``runscan.inside``); they and artifacts past ``max_artifact_mb`` are listed, not copied."""
    base = site.files_dir(run)
    run_dir = Path(run.dir)
    plan = Downloads()
    csv_at = len(plan.links) if len(run.metrics) else None
    limit = getattr(config, "max_artifact_mb", None)
    limit_bytes = None if limit is None else float(limit) * 1024 * 1024
    for name, label in RAW_FILES:
        src = run_dir / name
        size = (run.files or {}).get(name)
        if size is None or not inside(src, run_dir):
            continue
        if limit_bytes is not None and size > limit_bytes:
            plan.links.append({"label": label, "url": None, "bytes": size,
                               "note": f"larger than {limit:g} MB: not copied (in the run folder)"})
            continue
        plan.copies[base + name] = str(src)
        plan.links.append({"label": label, "url": base + name, "bytes": size})

    if csv_at is not None:
        jsonl = base + schema.METRICS_FILE
        if getattr(run, "zoom", None) is not None:
            # A long run is read in chunks, never whole: no CSV (a browser tab could not hold
            # one either); its raw JSONL and the zoom levels carry every point.
            link = {"label": CSV_LABEL, "url": None, "bytes": None,
                    "note": "not made for a run this long: use the raw JSONL"}
        elif jsonl in plan.copies:        # made in the browser from the site's metrics.jsonl
            link = {"label": CSV_LABEL, "url": None, "bytes": None, "csv_from": jsonl,
                    "ended": run.meta.get("status") in ENDED, "max_line": limits.MAX_LINE_BYTES,
                    "max_bytes": limits.MAX_JSONL_BYTES}
        else:
            plan.csv = base + "metrics.csv"
            link = {"label": CSV_LABEL, "url": plan.csv, "bytes": None}
        plan.links.insert(csv_at, link)

    media_copies, plan.media = plan_media(run, base)
    repro_copies, plan.reproduce = plan_reproduce(run, base)
    plan.copies.update(media_copies)
    plan.copies.update(repro_copies)
    art_root = run_dir / schema.ARTIFACTS_DIR
    mode = getattr(config, "artifacts", "copy")            # copy | link | skip (config.py)
    links = getattr(config, "store_links", None) if mode == "link" else None
    for a in run.artifacts:
        row = {"name": a.name, "type": a.type, "bytes": a.bytes, "sha256": a.sha256, "files": a.files,
               "step": a.step, "url": None, "note": ""}
        plan.artifacts.append(row)
        parts = _safe_parts(a.path)
        src = art_root / str(a.path)
        if parts is None or not inside(src, art_root):
            row["note"] = "path outside the run's artifacts folder; not copied"
            continue
        rel = Path(os.path.normpath(str(a.path))).as_posix()
        held = links.held(run_dir, rel) if links else None      # left in the store, not mirrored
        if not held and not src.exists():
            row["note"] = "file missing from the run folder"
            continue
        if mode == "skip":
            row["note"] = f"not copied (artifacts = skip; in the run folder under artifacts/{a.path})"
            continue
        is_file = held[0] == "file" if held else src.is_file()
        linked = links.link(run_dir, rel) if links and is_file else None
        if linked:                  # stays in the store (sitegen/storelinks.py)
            row["url"], row["note"] = linked
            continue
        if held:
            row["note"] = (f"folder of {held[1]} files, in the store under artifacts/{a.path}"
                           if held[0] == "folder" else f"in the store under artifacts/{a.path}; no link could be made")
            continue
        if limit_bytes is not None and (a.bytes or 0) > limit_bytes:
            row["note"] = f"larger than {limit:g} MB: not copied (in the run folder under artifacts/{a.path})"
            continue
        dest = base + "artifacts/" + "/".join(parts)
        if src.is_dir():
            n = 0
            for root, _dirs, files in os.walk(src):
                for f in sorted(files):
                    fp = Path(root) / f
                    if fp.is_symlink() or not inside(fp, art_root):
                        continue
                    sub = _safe_parts(fp.relative_to(src).as_posix())
                    if sub:
                        plan.copies[dest + "/" + "/".join(sub)] = str(fp)
                        n += 1
            row["note"] = f"folder, {n} files copied"
            row["url"] = None
        elif src.is_symlink() and not inside(src.resolve(), art_root):
            row["note"] = "symlink outside the run folder; not copied"
        else:
            plan.copies[dest] = str(src)
            row["url"] = dest
    if run.meta.get("status") in ENDED:
        plan.linkable = set(plan.copies)
    return plan
