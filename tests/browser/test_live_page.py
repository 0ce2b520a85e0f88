"""serve --watch in headless Chromium: a run page left open follows a run another process is
logging: new points arrive in the Bokeh data without navigation, the reader's zoom stays, the
status badge moves to finished, and a failed rebuild shows a banner until the next good one."""
from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.serve.live_helpers import Serve, Writer
from tests.site.browser_helpers import wait_for
from tests.site.runfolders import write_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLOT = "runpagesCharts.plots['train/loss']"


@pytest.fixture
def logged_run(tmp_path):
    """``serve --watch`` over a run another process is logging: ``(serve, writer)``, once the
    run's data is served, with the writer paused."""
    runs = tmp_path / "runs"
    write_run(runs, "mnist", "baseline", steps=20)
    w = Writer(runs, every=0.01)
    serve = None
    try:
        serve = Serve(runs, tmp_path / "site", "--watch")
        serve.wait_changed(lambda a: w.data in a["changed"] and b"train/loss" in serve.get("/" + w.data))
        w.pause()
        yield serve, w
    finally:
        if w.proc.poll() is None:
            w.stop()
        if serve is not None:
            serve.stop()


def test_open_run_page_gains_points_in_place_and_keeps_zoom(browser, logged_run, request):
    serve, w = logged_run
    try:
        console_errors(browser)
        browser.get(serve.url + w.page)
        wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]') "
                          "&& window.RunpagesLive && RunpagesLive.polling")
        key = w.key
        src = f"{PLOT}.renderers[{key!r}][0].data_source.data"
        n0 = browser.execute_script(f"return {src}.x.length")
        lr_end0 = wait_for(browser, "return runpagesCharts.plots['train/lr'].figure.x_range.end")
        # The reader zooms into the first steps (what box_zoom does to the ranges).
        browser.execute_script(f"window.__marker = 'still here'; var f = {PLOT}.figure;"
                               "f.x_range.setv({start: 1, end: 5}); f.x_range.have_updated_interactively = true;"
                               "window.__fig = f;")
        w.resume()
        wait_for(browser, f"return {src}.x.length > {n0} + 10", timeout=15)
        assert browser.execute_script("return window.__marker") == "still here"
        assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1
        assert browser.execute_script("return RunpagesLive.updates") >= 1
        assert browser.execute_script(f"return {PLOT}.figure === window.__fig")     # updated, not redrawn
        # A chart nobody zoomed follows the new steps.
        wait_for(browser, f"return runpagesCharts.plots['train/lr'].figure.x_range.end > {lr_end0}", timeout=10)
        assert browser.execute_script(f"var r = {PLOT}.figure.x_range; return [r.start, r.end]") == [1, 5]
        badge = browser.find_element("css selector", ".run-head .badge").text
        assert badge == "running"
        total = int(w.stop().split()[-1])
        wait_for(browser, "return document.querySelector('.run-head .badge').textContent === 'finished'", timeout=15)
        wait_for(browser, f"return {src}.x.length === {total}", timeout=15)
        assert browser.execute_script("return window.__marker") == "still here"
        assert browser.execute_script(f"var r = {PLOT}.figure.x_range; return [r.start, r.end]") == [1, 5]
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "live-run-page")
        print("serve stderr:", "".join(serve.err))
        raise


def test_failed_rebuild_shows_a_banner_until_the_next_good_build(browser, tmp_path, request):
    runs = tmp_path / "runs"
    write_run(runs, "mnist", "baseline", steps=20)
    serve = Serve(runs, tmp_path / "site", "--watch")
    try:
        browser.get(serve.url)
        wait_for(browser, "return window.RunpagesLive && RunpagesLive.polling")
        browser.execute_script("window.__marker = 1")
        toml = runs.parent / "runpages.toml"
        toml.write_text("title = \"x\"\nmax_artifact_mb = oops\n")
        text = wait_for(browser, "var b = document.getElementById('rp-live-banner'); return b && b.textContent", timeout=10)
        assert "runpages.toml" in text and "line 2" in text
        assert browser.execute_script("return window.__marker") == 1        # not reloaded
        toml.write_text("title = \"Fixed logbook\"\n")
        # The home page's HTML changed: it reloads, and the banner is gone.
        wait_for(browser, "return document.title.indexOf('Fixed logbook') >= 0 && !document.getElementById('rp-live-banner')",
                 timeout=15)
    except Exception:
        screenshot_on_failure(browser, request, "live-banner")
        print("serve stderr:", "".join(serve.err))
        raise
    finally:
        serve.stop()


def test_compare_page_updates_in_place_and_the_project_page_reloads(browser, logged_run, request):
    serve, w = logged_run
    try:
        console_errors(browser)
        browser.get(serve.url + f"compare.html?runs={w.key},mnist/20251124-120000-baseline-abc123")
        wait_for(browser, "return RunpagesCharts.controllers.length && RunpagesLive.polling")
        src = f"RunpagesCharts.controllers[0].plots['train/loss'].renderers[{w.key!r}][0].data_source.data"
        n0 = wait_for(browser, f"return {src}.x.length")
        browser.execute_script("window.__marker = 'compare'")
        w.resume()
        wait_for(browser, f"return {src}.x.length > {n0}", timeout=15)
        assert browser.execute_script("return window.__marker") == "compare"
        w.pause()
        browser.get(serve.url + "p/live/index.html")
        wait_for(browser, "return window.RunpagesLive && RunpagesLive.polling")
        browser.execute_script("window.__marker = 'project'")
        w.resume()
        # reloaded by itself (a rebuild, then at most one reload per 3 s: slow on a busy machine)
        wait_for(browser, "return window.__marker === undefined && window.RunpagesLive && RunpagesLive.polling",
                 timeout=40)
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "live-compare-project")
        raise
