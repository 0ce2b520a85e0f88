"""The checks page in headless Chromium: from file:// and over HTTP, verdicts shown, nothing runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import browser, console_errors, resource_urls, serve_dir  # noqa: F401
from test_checks_page import checked  # noqa: F401  (runs + three check records)

pytestmark = pytest.mark.browser


@pytest.fixture
def site(checked, tmp_path):  # noqa: F811
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    out = tmp_path / "site"
    build_site(SiteConfig(runs_dirs=[Path(checked)], output=out))
    return out


@pytest.mark.parametrize("how", ["file", "http"])
def test_checks_page_shows_each_verdict_and_escapes_run_names(browser, serve_dir, site, how):  # noqa: F811
    browser.get_log("browser")
    base = site.as_uri() + "/" if how == "file" else serve_dir(site)
    browser.get(base + "p/mnist/checks.html")
    text = browser.find_element("tag name", "body").text
    assert "Checks: mnist" in text
    for verdict in ("holds", "regressed"):
        assert verdict in text
    assert "<b>bad</b>" in text                   # the run name, shown literally
    assert not browser.find_elements("css selector", "main b")  # ... not as markup
    assert console_errors(browser) == []
    origin = base.split("/p/")[0] if how == "http" else "file://"
    assert all(u.startswith(origin) or u.startswith("data:") for u in resource_urls(browser))
    # The page links back to its project's runs table.
    browser.find_element("css selector", 'a[href="index.html"]').click()
    assert browser.current_url.endswith("p/mnist/index.html")
