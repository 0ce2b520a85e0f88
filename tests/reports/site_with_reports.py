"""Build a site with its report pages the way ``sitegen.build.build_site`` does once reports are
wired in (build_site, then ``build_reports`` rendered and written, linked files copied). Once
build_site writes ``reports/`` itself this writes the same bytes again, so the tests hold
either way; the returned ``ReportsBuild`` lets them check listing, citations and copies."""
from __future__ import annotations

from pathlib import Path


def build_with_reports(config) -> tuple[Path, object]:
    """``build_site(config)``, then report pages and their files; returns (site dir, ReportsBuild)."""
    from sitegen import __version__
    from sitegen.build import SiteMap, _copy_atomic, build_site
    from sitegen.pages.report import build_reports
    from sitegen.reader import read_runs
    from sitegen.render import Renderer, write_atomic

    build_site(config)
    out = Path(config.output)
    projects, _ = read_runs([str(d) for d in config.runs_dirs])
    site = SiteMap(projects)
    built = build_reports(projects, config, site)
    renderer = Renderer(config.theme, globals={"site_title": config.title, "version": __version__})
    for page in built.pages:
        write_atomic(out / page.path, renderer.render(page))
    for rel, src in built.copies.items():
        _copy_atomic(src, out / rel)
    return out, built
