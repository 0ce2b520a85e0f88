"""The utilisation pages in headless Chromium, on example_runs: the under-utilised run is on top
with its reason, from file:// and over HTTP, sortable, without console errors."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.site.browser_helpers import wait_for

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).resolve().parents[2] / "example_runs"
WORST_RUN, WORST_USER = "resnet18-new-loader", "chen"


def build_with_utilisation(runs: Path, out: Path, **settings) -> Path:
    """Build the site, plus the utilisation pages when the build does not write them yet."""
    from runpages.sitegen.build import build_site
    from runpages.sitegen.logbook import Logbook, SiteMap
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.pages.utilisation import build_utilisation
    from runpages.sitegen.reader import read_runs
    from runpages.sitegen.render import Renderer, write_atomic

    cfg = SiteConfig(runs_dirs=[runs], output=out, **settings)
    build_site(cfg)
    if not (out / "utilisation.html").exists():
        projects, _ = read_runs([str(runs)])
        renderer = Renderer(None, globals={"site_title": cfg.title, "version": "test",
                                          "nav_reports": False, "nav_utilisation": True})
        for page in build_utilisation(Logbook(config=cfg, projects=projects, site=SiteMap(projects))):
            write_atomic(out / page.path, renderer.render(page))
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip("example_runs/ not generated (python examples/make_example_runs.py)")
    root = tmp_path_factory.mktemp("usage-site")
    runs = root / "runs"
    shutil.copytree(EXAMPLES, runs)
    return build_with_utilisation(runs, root / "site", gpu_hour_cost=2.5, kwh_cost=0.3)


def _open(browser, url: str):
    browser.get(url)
    wait_for(browser, "return !!(window.RunpagesUsage && RunpagesUsage.ready)")


def _rows(browser, table: str = "rp-usage-runs") -> list[list[str]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
        ".map(tr => Array.from(tr.cells).map(c => c.textContent.trim()))", table)


def _header(browser, table: str) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' thead th'))"
        ".map(th => th.textContent.trim())", table)


def test_site_page_names_the_run_and_user_who_wasted_most_from_file_url(browser, site, request):
    try:
        _open(browser, (site / "utilisation.html").as_uri())
        head = _header(browser, "rp-usage-runs")
        top = dict(zip(head, _rows(browser)[0]))
        assert top["run"] == WORST_RUN and top["user"] == WORST_USER
        assert top["project"] == "cifar10-resnet"
        assert top["why"].startswith("input pipeline bound: GPU busy 14% while one CPU core is at 99%")
        assert "batch could grow: GPU memory at 20%" in top["why"]
        assert top["GPU util"] == "14%" and float(top["wasted GPU-h"]) > 0.25
        headline = browser.find_element("id", "rp-headline").text
        assert WORST_RUN in headline and f"{WORST_USER} wasted the most GPU-hours" in headline
        users = _rows(browser, "rp-usage-users")
        assert users[0][0] == WORST_USER and WORST_RUN in users[0][-1]
        assert console_errors(browser) == []
        assert all(u.startswith("file://") for u in resource_urls(browser))
    except Exception:
        screenshot_on_failure(browser, request, "utilisation-file")
        raise


def test_project_page_over_http_sorts_and_links_back(browser, site, serve_dir, request):
    base = serve_dir(site)
    try:
        _open(browser, base + "p/cifar10-resnet/utilisation.html")
        origin = urlparse(base).netloc
        assert _rows(browser)[0][0] == WORST_RUN
        head = _header(browser, "rp-usage-runs")
        col = head.index("GPU util")
        th = browser.find_elements("css selector", "#rp-usage-runs thead th")[col]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", th)
        th.click()                                  # numbers sort highest first on the first click
        utils = [float(r[col].rstrip("%")) for r in _rows(browser)]
        assert utils == sorted(utils, reverse=True) and _rows(browser)[-1][0] == WORST_RUN
        th.click()
        assert _rows(browser)[0][0] == WORST_RUN
        link = browser.find_element("link text", WORST_RUN)
        assert link.get_attribute("href").endswith("/index.html")
        assert console_errors(browser) == []
        assert all(urlparse(u).netloc == origin for u in resource_urls(browser))
        # The project page links here.
        browser.get(base + "p/cifar10-resnet/index.html")
        browser.find_element("link text", "GPU utilisation").click()
        wait_for(browser, "return !!(window.RunpagesUsage && RunpagesUsage.ready)")
        assert browser.current_url.endswith("p/cifar10-resnet/utilisation.html")
    except Exception:
        screenshot_on_failure(browser, request, "utilisation-http")
        raise
