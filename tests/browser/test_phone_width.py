"""At phone width (390 px) no page of the example logbook scrolls sideways.

Wide things (the runs table, long code) scroll inside their own box; the page itself never does.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import screenshot_on_failure
from tests.site.browser_helpers import build, wait_for

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).resolve().parents[2] / "example_runs"

# elements sticking out of the page, outside any box that scrolls or clips
OVERFLOW = """
var W = document.documentElement.clientWidth, out = [];
document.querySelectorAll('body *').forEach(function (e) {
  var r = e.getBoundingClientRect();
  if (!(r.right > W + 1 && r.width > 0)) return;
  for (var p = e.parentElement; p; p = p.parentElement) {
    var s = getComputedStyle(p).overflowX;
    if (s === 'auto' || s === 'scroll' || s === 'hidden') return;
  }
  out.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ends at ' + Math.round(r.right));
});
return [document.documentElement.scrollWidth, W, out.slice(0, 5)];
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build(EXAMPLES, tmp_path_factory.mktemp("phone") / "site")


def _pages(site: Path) -> list[str]:
    run = next((site / "p" / "cifar10-resnet" / "r").iterdir())
    report = next(p for p in (site / "reports").glob("*.html") if p.name != "index.html")
    return ["index.html", "p/cifar10-resnet/index.html", str(run.relative_to(site) / "index.html"),
            "compare.html", "utilisation.html", "reports/index.html", str(report.relative_to(site)),
            "p/cifar10-resnet/checks.html"]


def test_no_page_scrolls_sideways_at_390_px(browser, site, request):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    wide = {}
    try:
        for page in _pages(site):
            browser.get((site / page).as_uri())
            wait_for(browser, "return document.readyState === 'complete'")
            wait_for(browser, "return !document.querySelector('[data-chart]') || "
                              "!!document.querySelector('[data-chart] canvas, .bk-root, .bk-Figure')", timeout=15)
            scroll, width, culprits = browser.execute_script(OVERFLOW)
            if scroll > width or culprits:
                wide[page] = (scroll, width, culprits)
        assert not wide, wide
    except Exception:
        screenshot_on_failure(browser, request, "phone-width")
        raise
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
