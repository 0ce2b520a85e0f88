"""The run page: header, config and summary, metric and system charts, artifacts, downloads,
console log.

Everything a user wrote reaches the template as plain strings (autoescaped there). Charts are
drawn in the browser from the run's data script (``runpages.sitegen.charts``). What the page
offers to download comes in the build's plan (``sitegen/downloads.py``): no file is touched here.
"""
from __future__ import annotations

import shlex
from typing import Any

from runpages import schema
from runpages.sitegen.downloads import Downloads
from runpages.sitegen.pages import Page
from runpages.sitegen.pages.contexts import RunContext


def _text_rows(run) -> list[tuple[str, str, Any]]:
    """Last value of each string-valued metric key (shown in a table, not plotted)."""
    rows = []
    for key, values in (run.text_keys or {}).items():
        if values:
            step, text = values[-1]
            rows.append((key, text, step))
    return rows


def build_run(run, logbook, plan: Downloads) -> Page:
    """The run's page. ``plan``: this run's ``downloads.plan_downloads`` (the build copies the
    files it names)."""
    from runpages.sitegen.pages.utilisation import run_card

    site, config = logbook.site, logbook.config
    project = logbook.project_of(run)
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
