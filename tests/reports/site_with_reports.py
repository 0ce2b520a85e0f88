"""Build a site (``build_site`` writes the report pages) and return what the reports resolved to."""
from __future__ import annotations

from pathlib import Path


def build_with_reports(config) -> tuple[Path, object]:
    """``build_site(config)``; returns (site dir, ReportsBuild) so tests can check listing,
    citations and copies against the pages on disk."""
    from runpages.sitegen.build import build_site
    from runpages.sitegen.logbook import load_logbook
    from runpages.sitegen.pages.report import build_reports

    build_site(config)
    return Path(config.output), build_reports(load_logbook(config))
