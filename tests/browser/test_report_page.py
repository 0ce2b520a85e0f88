"""Report pages in headless Chromium: charts draw (canvas, bands for groups), run tables link to
run pages, and an exported report opens from file:// without a single request."""
from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.reports.logbook import write_logbook
from tests.reports.site_with_reports import build_with_reports
from tests.site.browser_helpers import same_origin, wait_canvases, wait_for

pytestmark = pytest.mark.browser

REPORT = """---
title: Sweep
author: ana
date: 2026-11-20
---
Best: `=best(val/acc, project = vision)`.

```chart
runs: user = ana
metric: val/acc
group_by: group
```

```runs
runs: project = vision
columns: [user, lr, val/acc]
```

```compare
runs: ["name = a-lr3e-4-s0", "user = chen"]
metrics: [val/acc, train/loss]
```

```chart
runs: user = bob
```
"""
READY = "return document.documentElement.getAttribute('data-report-ready')"
GLYPHS = """
var out = {};
Object.keys(runpagesReport.plots).forEach(function (k) {
  out[k] = runpagesReport.plots[k].figure.renderers.map(function (r) { return r.glyph.type || r.glyph.constructor.__name__; });
});
return out;
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from runpages.sitegen.config import SiteConfig

    tmp = tmp_path_factory.mktemp("reportpage")
    runs = write_logbook(tmp / "runs")
    reports = tmp / "reports"
    reports.mkdir()
    (reports / "sweep.md").write_text(REPORT, encoding="utf-8")
    out, _ = build_with_reports(SiteConfig(runs_dirs=[runs], output=tmp / "site", reports_dir=reports))
    return {"out": out, "runs": runs, "reports": reports, "tmp": tmp}


@pytest.mark.parametrize("how", ["file", "http"])
def test_report_charts_draw_and_tables_link_to_run_pages(browser, serve_dir, site, how, request):
    out = site["out"]
    base = out.as_uri() + "/" if how == "file" else serve_dir(out)
    console_errors(browser)
    browser.get(base + "reports/sweep.html")
    try:
        wait_for(browser, READY)
        counts = wait_canvases(browser, ".rp-block .rp-chart-cell")
        assert len(counts) == 3 and all(counts), counts          # group chart + 2 compare charts
        glyphs = browser.execute_script(GLYPHS)
        assert glyphs["rp-block-0/val/acc"].count("VArea") == 2 and glyphs["rp-block-0/val/acc"].count("Line") == 2
        assert glyphs["rp-block-2/train/loss"].count("Line") == 2
        assert not console_errors(browser)
        origin = base if how == "file" else base.rstrip("/")
        assert not same_origin(resource_urls(browser), origin)
        error = browser.find_element("css selector", "#rp-block-3 .rp-error")
        assert "no run matches 'user = bob'" in error.text and error.is_displayed()
        links = browser.find_elements("css selector", "#rp-block-1 a.rp-run-link")
        assert [a.text for a in links][:2] == ["a-lr1e-3-s0", "a-lr1e-3-s1"] and len(links) == 5
        links[0].click()
        wait_for(browser, "return document.querySelector('h1.run-name')")
        assert browser.find_element("css selector", "h1.run-name").text == "a-lr1e-3-s0"
    except Exception:
        screenshot_on_failure(browser, request, f"report-page-{how}")
        raise


def test_exported_report_opens_from_file_with_no_request_at_all(browser, site, request):
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.export import export_report

    path, _ = export_report(site["reports"] / "sweep.md", SiteConfig(runs_dirs=[site["runs"]]),
                            site["tmp"] / "mail" / "sweep.html")
    console_errors(browser)
    browser.get(path.as_uri())
    try:
        wait_for(browser, READY)
        counts = wait_canvases(browser, ".rp-block .rp-chart-cell")
        assert len(counts) == 3 and all(counts), counts
        requested = [u for u in resource_urls(browser) if not u.startswith("data:")]
        assert requested == []
        assert not console_errors(browser)
        assert browser.find_elements("css selector", "a.rp-run-link") == []
        assert "a-lr3e-4-s1" in browser.find_element("css selector", "#rp-block-1").text
    except Exception:
        screenshot_on_failure(browser, request, "report-export")
        raise


def test_report_prints_without_site_chrome(browser, site, request):
    browser.get(site["out"].as_uri() + "/reports/sweep.html")
    try:
        wait_for(browser, READY)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        shown = browser.execute_script(
            "return ['.topbar', '.crumbs', '.footer'].map(function (s) {"
            " return getComputedStyle(document.querySelector(s)).display; })")
        assert shown == ["none", "none", "none"]
        assert browser.execute_script(
            "return getComputedStyle(document.querySelector('.rp-block')).breakInside") == "avoid"
    except Exception:
        screenshot_on_failure(browser, request, "report-print")
        raise
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
