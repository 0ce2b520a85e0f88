"""A report with ```media and ```table blocks in headless Chromium, from the site and exported."""
from __future__ import annotations

import os

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.media.test_report_media import REPORT, _logbook
from tests.site.browser_helpers import ALERT_TRAP, same_origin, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.export import export_report

    tmp = tmp_path_factory.mktemp("reportmedia-browser")
    runs = _logbook(tmp)
    (tmp / "reports").mkdir()
    (tmp / "reports" / "samples.md").write_text(REPORT)
    config = SiteConfig(runs_dirs=[runs], output=tmp / "site", reports_dir=tmp / "reports")
    build_site(config)
    exported, _ = export_report(tmp / "reports" / "samples.md", config, tmp / "samples.html")
    return tmp / "site" / "reports" / "samples.html", exported


@pytest.mark.parametrize("which", ["site", "export"])
@pytest.mark.parametrize("width", [1280, 390])
def test_report_media_blocks_load_their_images_with_no_foreign_request(browser, pages, which, width, request):
    page = pages[0] if which == "site" else pages[1]
    browser.set_window_size(width, 900)
    browser.get("about:blank")
    console_errors(browser)
    browser.get(page.as_uri())
    browser.execute_script(ALERT_TRAP)
    try:
        sizes = wait_for(browser, "var im=[].slice.call(document.querySelectorAll('.rp-media-item img'));"
                                  " return im.length && im.every(function(i){return i.complete}) &&"
                                  " im.map(function(i){return i.naturalWidth})")
        assert len(sizes) == 4 and all(sizes)          # alpha's 2 in the first block, 1 per run in the second
        assert browser.execute_script("return document.querySelectorAll('svg.rp-hist rect').length") > 40
        assert browser.execute_script("return document.querySelectorAll('.rp-confusion td').length") == 9
        if os.environ.get("RUNPAGES_SCREENSHOTS"):
            screenshot_on_failure(browser, request, f"report-media-{which}-{width}")
        assert browser.execute_script("return window.__alerts") == []
        assert not console_errors(browser)
        base = page.parent.parent.as_uri() if which == "site" else page.as_uri()
        assert not same_origin(resource_urls(browser), base)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width + 1
    except Exception:
        screenshot_on_failure(browser, request, f"report-media-{which}-{width}")
        raise
    finally:
        browser.set_window_size(1280, 900)
