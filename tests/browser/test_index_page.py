"""The home page in headless Chromium: projects listed, pulse charts drawn, links work."""
from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.site.browser_helpers import build, same_origin, wait_canvases, wait_for
from tests.site.runfolders import write_run

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("index")
    runs = tmp / "runs"
    for i, (user, project) in enumerate([("ana", "mnist"), ("bo", "mnist"), ("ana", "cifar"), ("cy", "cifar")]):
        write_run(runs, project, f"run {i}", run_id=f"2025112{i}-120000-run-{i}-abc12{i}",
                  t0=1764000000.0 + i * 86400, meta={"user": user},
                  summary={"val/acc": 0.5 + i * 0.1})
    return build(runs, tmp / "site")


def _ready(driver):
    wait_for(driver, "return window.runpagesPulse && Object.keys(runpagesPulse.plots).length >= 3")
    wait_for(driver, "var c = document.querySelectorAll('.pulse [data-chart]'); return c.length && "
                     "[].every.call(c, function (e) { return e.children.length; })")


@pytest.mark.parametrize("how", ["file", "http"])
def test_home_lists_projects_and_draws_the_pulse(browser, serve_dir, site, how, request):
    base = site.as_uri() + "/" if how == "file" else serve_dir(site)
    console_errors(browser)
    browser.get(base + "index.html")
    try:
        _ready(browser)
        counts = wait_canvases(browser, ".pulse [data-chart]")
        assert len(counts) == 3 and all(counts), counts
        names = [a.text for a in browser.find_elements("css selector", "a.project-link")]
        assert sorted(names) == ["cifar", "mnist"]
        assert not console_errors(browser)
        origin = base if how == "file" else base.rstrip("/")
        assert not same_origin(resource_urls(browser), origin)
    except Exception:
        screenshot_on_failure(browser, request, f"index-{how}")
        raise


def test_project_link_leads_to_the_project_page(browser, serve_dir, site):
    browser.get(serve_dir(site) + "index.html")
    link = browser.find_element("css selector", "a.project-link")
    name = link.text
    link.click()
    wait_for(browser, "return document.readyState === 'complete'")
    assert browser.current_url.endswith(f"/p/{name}/index.html")


def test_best_so_far_follows_the_metric_direction(browser, site):
    browser.get(site.as_uri() + "/index.html")
    _ready(browser)
    ys = browser.execute_script(
        "var f = runpagesPulse.plots['best:cifar']; return f.renderers[0].data_source.data.y")
    assert ys == sorted(ys) and ys[-1] == pytest.approx(0.8)


def test_pulse_axes_end_at_the_last_activity_not_in_the_future(browser, tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "solo", "only run", t0=1764000000.0, summary={"val/acc": 0.7})   # one run: no span
    site = build(runs, tmp_path / "site")
    browser.get(site.as_uri() + "/index.html")
    wait_for(browser, "return window.runpagesPulse && Object.keys(runpagesPulse.plots).length >= 2")
    ends = browser.execute_script(
        "var out = {}; for (var k in runpagesPulse.plots) { var f = runpagesPulse.plots[k];"
        " var xs = f.renderers[0].data_source.data.x; out[k] = [f.x_range.end, Math.max.apply(null, xs)]; }"
        " return out;")
    hour = 3600000
    last, end = ends["best:solo"][1], ends["best:solo"][0]
    assert last <= end <= last + 2 * hour, (end - last) / hour
    last, end = ends["runs-per-day"][1], ends["runs-per-day"][0]      # bars sit at noon of their day
    assert last <= end <= last + 15 * hour, (end - last) / hour
