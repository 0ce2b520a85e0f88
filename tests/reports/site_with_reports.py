"""Build a site (``build_site`` writes the report pages) and return what the reports resolved to."""
from __future__ import annotations

from pathlib import Path


def build_with_reports(config) -> tuple[Path, object]:
    """``build_site(config)``; returns (site dir, ReportsBuild) so tests can check listing,
    citations and copies against the pages on disk."""
    from runpages.sitegen.build import SiteMap, build_site
    from runpages.sitegen.pages.report import build_reports
    from runpages.sitegen.reader import read_runs

    build_site(config)
    projects, _ = read_runs([str(d) for d in config.runs_dirs])
    return Path(config.output), build_reports(projects, config, SiteMap(projects))
