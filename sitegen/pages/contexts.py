"""What each template is given: one TypedDict per template, the only place its context is
declared. A builder annotates the dict it makes with its type; ``tests/pages/test_contexts.py``
checks that every page of a real build carries exactly these keys, of these types.

Values are plain data (str, numbers, bools, lists and dicts of them) except where a type says
otherwise: ``Markup`` is HTML made by our own code (Markdown renderer, Pygments, data scripts),
never text a user wrote; the run page also gets the model's ``Run`` and ``Project``.
"""
from __future__ import annotations

from typing import Any, TypedDict

from markupsafe import Markup


class IndexContext(TypedDict):
    title: str
    projects: list[dict]          # one row per project: name, url, runs, statuses, best, ...
    run_count: int
    users: list[str]
    pulse: dict                   # team pulse: per_day, best
    runs_dirs: list[str]
    reports: list[dict]           # the report listing


class ProjectContext(TypedDict):
    title: str
    project: dict                 # name, slug, url, users, runs, status_counts, main_metric
    columns: list                 # pages.project.Column
    rows: list[dict]              # key, name, cells
    hidden_css: str
    data_src: str
    rows_src: str | None          # the columnar rows script (large projects: no HTML rows)
    overlay: dict                 # max, metric, direction, total (pages.project.overlay_rule)
    charts_open: bool
    group_options: list
    utilisation_url: str
    checks_url: str | None
    page_rows: int


class RunContext(TypedDict):
    run: Any                      # model.Run
    project: Any                  # model.Project
    title: str
    key: str
    project_url: str
    compare_url: str
    data_script: str
    command: str
    cwd: str
    git: dict                     # commit, short, branch, remote, dirty
    exit_reason: str
    traceback: str
    notes: str
    tags: list[str]
    env: list                     # (label, value)
    config_rows: list
    summary_rows: list
    text_rows: list
    has_metrics: bool
    has_system: bool
    downloads: list[dict]
    artifacts: list[dict]
    media: list[dict]
    reproduce: dict | None
    console: str
    console_cut: bool
    console_url: str | None
    steps: int
    last_step: int | None
    problem_count: int
    cited_by: list[dict]
    usage: dict                   # partials/utilisation_card.html


class CompareContext(TypedDict):
    title: str
    projects: list[dict]          # name, url, runs (the empty state)
    run_index: str                # data/runs-index.js: every run, for the picker


class ChecksContext(TypedDict):
    title: str
    project: dict
    counts: dict
    total: int
    rows: list[dict]
    more: int
    regressed: list[dict]
    charts: list[dict]


class UtilisationContext(TypedDict):
    title: str
    heading: str
    project: dict | None          # None on the site-wide page
    projects: list[dict]          # the site-wide page's project list ([] on a project's page)
    site_page: str
    rows: list[dict]              # the runs listed, worst first (the site page: SITE_RUN_ROWS)
    rows_total: int               # the runs counted (more than listed on a large site)
    run_headers: list
    users: list[dict]
    weeks: list[dict]
    agg_headers: list
    headline: dict | None
    total: dict
    with_project: bool
    idle_util_pct: str
    gpu_hour_cost: float | None
    kwh_cost: float | None
    simulated: list[str]


class ReportContext(TypedDict):
    title: str
    report: dict                  # title, author, date, tags, description, title_in_body, ...
    parts: list[dict]             # html (Markup) / block / value parts, in document order
    spec: dict                    # the chart blocks, for report.js
    chart_keys: list[str]
    data_scripts: list[str]
    highlight_css: Markup
    links: bool


class ReportsContext(TypedDict):
    title: str
    reports: list[dict]


class ReportExportContext(ReportContext):
    inline_css: Markup
    inline_js: list
    data_js: Markup
    report_js: Markup
    exported_at: str


BY_TEMPLATE: dict[str, type] = {
    "index.html": IndexContext, "project.html": ProjectContext, "run.html": RunContext,
    "compare.html": CompareContext, "checks.html": ChecksContext,
    "utilisation.html": UtilisationContext, "report.html": ReportContext,
    "reports.html": ReportsContext, "report_export.html": ReportExportContext,
}
