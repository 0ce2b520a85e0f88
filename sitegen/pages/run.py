"""The run page: header, config and summary, metric and system charts, artifacts, downloads,
console log.

Everything a user wrote reaches the template as plain strings (autoescaped there). Charts are
drawn in the browser from the run's data script (``runpages.sitegen.charts``). ``plan_downloads`` says
which files the build copies into ``files/<project>/<run-id>/``; it never reads file contents,
only stats them. The build makes one plan per run and hands it to ``build_run``.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runpages import schema
from runpages.sitegen.media_page import plan_media, plan_reproduce
from runpages.sitegen.logbook import slug
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import RunContext
from runpages.sitegen.runscan import inside

RAW_FILES = (  # (file in the run folder, label)
    (schema.METRICS_FILE, "metrics (raw JSONL)"),
    (schema.SYSTEM_FILE, "system metrics (raw JSONL)"),
    (schema.CONSOLE_FILE, "console log"),
    (schema.CONFIG_FILE, "config.json"),
    (schema.META_FILE, "meta.json"),
)


@dataclass
class Downloads:
    copies: dict[str, str] = field(default_factory=dict)       # site path -> source file
    csv: str | None = None                                      # site path of metrics.csv
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
    if len(run.metrics):
        plan.csv = base + "metrics.csv"
        plan.links.append({"label": "metrics (CSV, full resolution)", "url": plan.csv, "bytes": None})
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
        if not src.exists():
            row["note"] = "file missing from the run folder"
            continue
        if mode == "skip":
            row["note"] = f"not copied (artifacts = skip; in the run folder under artifacts/{a.path})"
            continue
        linked = links.link(run_dir, Path(os.path.normpath(str(a.path))).as_posix()) \
            if links and src.is_file() else None
        if linked:                  # stays in the store (sitegen/storelinks.py)
            row["url"], row["note"] = linked
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
    return plan


def _text_rows(run) -> list[tuple[str, str, Any]]:
    """Last value of each string-valued metric key (shown in a table, not plotted)."""
    rows = []
    for key, values in (run.text_keys or {}).items():
        if values:
            step, text = values[-1]
            rows.append((key, text, step))
    return rows


def build_run(run, logbook, plan: Downloads | None = None) -> Page:
    """The run's page. ``plan``: this run's ``plan_downloads``, when the caller has made it
    already (the build copies the files it names)."""
    from runpages.sitegen.pages.utilisation import run_card

    site, config = logbook.site, logbook.config
    project = logbook.project_of(run)
    if plan is None:
        plan = plan_downloads(run, site, config)
    console, console_cut = logbook.console(run)
    cmd = run.meta.get("command")
    if isinstance(cmd, list):
        command = " ".join(shlex.quote(str(c)) for c in cmd)
    else:
        command = str(cmd or "")
    git = run.meta.get("git") if isinstance(run.meta.get("git"), dict) else {}
    exit_info = run.meta.get("exit") if isinstance(run.meta.get("exit"), dict) else {}
    gpu = run.meta.get("gpu") if isinstance(run.meta.get("gpu"), dict) else {}
    ctx: RunContext = {
        "run": run,
        "project": project,
        "title": run.name or run.id,
        "key": site.key(run),
        "project_url": site.project_url(project),
        "compare_url": site.compare_url([run], pick=True),
        "data_script": site.run_data(run),
        "command": command,
        "cwd": str(run.meta.get("cwd") or ""),
        "git": {"commit": str(git.get("commit") or ""), "short": str(git.get("commit") or "")[:7],
                "branch": str(git.get("branch") or ""), "remote": str(git.get("remote") or ""),
                "dirty": bool(git.get("dirty"))},
        "exit_reason": str(exit_info.get("reason") or ""),
        "traceback": str(exit_info.get("traceback") or ""),
        "notes": str(run.meta.get("notes") or ""),
        "tags": [str(t) for t in run.tags],
        "env": [(k, v) for k, v in (("os", run.meta.get("os")), ("python", run.meta.get("python")),
                                    ("CPUs", run.meta.get("cpu_count")), ("memory (GB)", run.meta.get("memory_gb")),
                                    ("GPUs", gpu_summary(gpu.get("names") or []) or None))
                if v not in (None, "")],
        "config_rows": [(str(k), v) for k, v in (run.config or {}).items()],
        "summary_rows": [(str(k), v) for k, v in (run.summary or {}).items()],
        "text_rows": _text_rows(run),
        "has_metrics": bool(getattr(run, "metric_keys", None)),
        "has_system": len(run.system.columns) > 1 if run.system is not None else False,
        "downloads": plan.links,
        "artifacts": plan.artifacts,
        "media": plan.media,
        "reproduce": plan.reproduce,
        "console": console,
        "console_cut": console_cut,
        "console_url": next((u for u in plan.copies if u.endswith("/" + schema.CONSOLE_FILE)), None),
        "steps": getattr(run, "steps", len(run.metrics)),
        "last_step": getattr(run, "last_step", None),
        "problem_count": getattr(run, "problem_count", 0),
        "cited_by": logbook.cited_by.get(site.key(run), []),
        "usage": run_card(run, config),
    }
    return Page(site.run_url(run), "run.html", ctx)


def gpu_summary(names: list) -> str:
    """``2 × NVIDIA A100-SXM4-40GB`` for identical cards, else the names in order."""
    names = [str(n) for n in names]
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return ", ".join(f"{c} \u00d7 {n}" if c > 1 else n for n, c in counts.items())
