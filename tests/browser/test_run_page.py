"""The run page in headless Chromium: from file:// and over HTTP, charts drawn, controls work."""
from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.site.browser_helpers import build, same_origin, wait_canvases, wait_for
from tests.site.runfolders import write_run

pytestmark = pytest.mark.browser

RUN = "p/mnist/r/20251124-120000-baseline-abc123/index.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runpage")
    runs = tmp / "runs"
    write_run(runs, "mnist", "other", run_id="20251124-130000-other-def456", steps=500, t0=1764003600.0)
    write_run(runs, "mnist", "baseline", steps=3000, artifacts={"model.pt": b"w" * 2048},
              metrics={"train/loss": lambda s: 1.0 / (s + 1) if s != 1500 else float("inf"),
                       "train/epoch": lambda s: s / 1000.0, "val/acc": lambda s: s / 3000.0},
              every={"val/acc": 100}, console="epoch 1\nloss 0.5\n")
    return build(runs, tmp / "site")


def _ready(driver):
    wait_for(driver, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")


@pytest.mark.parametrize("how", ["file", "http"])
def test_run_page_draws_every_chart_without_errors(browser, serve_dir, site, how, request):
    base = site.as_uri() + "/" if how == "file" else serve_dir(site)
    console_errors(browser)
    browser.get(base + RUN)
    try:
        _ready(browser)
        counts = wait_canvases(browser)
        assert len(counts) >= 5 and all(counts), counts      # 3 metrics + system charts
        assert not console_errors(browser)
        origin = base if how == "file" else base.rstrip("/")
        assert not same_origin(resource_urls(browser), origin)
        assert browser.find_element("css selector", "h1").text == "baseline"
        assert "loss 0.5" in browser.find_element("css selector", "pre.console").text
    except Exception:
        screenshot_on_failure(browser, request, f"run-page-{how}")
        raise


def test_log_y_and_x_axis_switch_change_the_plot(browser, serve_dir, site, request):
    browser.get(serve_dir(site) + RUN)
    try:
        _ready(browser)
        assert browser.execute_script(
            "return runpagesCharts.plots['train/loss'].figure.y_scale.type") == "LinearScale"
        browser.find_element("css selector", ".rp-logy").click()
        _ready(browser)
        assert browser.execute_script(
            "return runpagesCharts.plots['train/loss'].figure.y_scale.type") == "LogScale"
        # x axis = a logged metric (epoch): x values become epochs, interpolated on step.
        browser.execute_script("var s=document.querySelector('.rp-x'); s.value='m:train/epoch';"
                               "s.dispatchEvent(new Event('change'));")
        _ready(browser)
        xs = browser.execute_script(
            "return runpagesCharts.plots['train/loss'].figure.renderers[0].data_source.data.x")
        assert max(xs) == pytest.approx(2.999, abs=0.01)
        assert all(wait_canvases(browser))
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "run-page-controls")
        raise


def test_spikes_survive_downsampling_and_inf_is_a_mark(browser, site):
    browser.get(site.as_uri() + "/" + RUN)
    _ready(browser)
    n, marks = browser.execute_script(
        "var f = runpagesCharts.plots['train/loss'].figure;"
        "var line = f.renderers.find(r => r.data_source.data.raw);"
        "var sc = f.renderers.find(r => r.glyph.type === 'Scatter');"
        "return [line.data_source.data.x.length, sc ? sc.data_source.data.x : null];")
    assert n <= 2000
    assert marks == [1500]


def test_search_box_filters_charts(browser, site):
    browser.get(site.as_uri() + "/" + RUN)
    _ready(browser)
    box = browser.find_element("css selector", ".rp-search")
    box.send_keys("val")
    shown = browser.execute_script(
        "return [].slice.call(document.querySelectorAll('.rp-chart-cell'))"
        ".filter(c => c.offsetParent !== null).map(c => c.dataset.key)")
    assert shown == ["val/acc"]


def test_overlay_loads_runs_by_key_and_hiding_a_run_hides_it_everywhere(browser, site):
    browser.get(site.as_uri() + "/" + RUN)
    _ready(browser)
    failed = browser.execute_async_script("""
        var done = arguments[arguments.length - 1];
        RunpagesData.load(["mnist/20251124-120000-baseline-abc123", "mnist/20251124-130000-other-def456", "mnist/nope", "../../etc/passwd", "a/../b"],
                          RunpagesSite.root(), function (failed, runs) {
          var box = document.createElement("div"); document.body.appendChild(box);
          window.overlay = RunpagesCharts.mount(box, runs, {});
          window.overlay.ready.then(function () { done(failed); });
        });""")
    assert sorted(failed) == sorted(["mnist/nope", "../../etc/passwd", "a/../b"])
    assert not [u for u in browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)") if "passwd" in u]
    # Hiding a run's line (Bokeh's own toggles do this) hides that run in every chart.
    visible = browser.execute_script("""
        var key = "mnist/20251124-130000-other-def456";
        overlay.plots["train/loss"].renderers[key][0].visible = false;
        return Object.keys(overlay.plots).map(k => (overlay.plots[k].renderers[key] || []).map(r => r.visible))
          .reduce((a, b) => a.concat(b), []);""")
    assert visible and not any(visible)
    # The legend is the run list beside the charts (its box follows); none is drawn over the data.
    entries = browser.execute_script("""
        return [].map.call(overlay.container.querySelectorAll('.rp-run-item'),
                           li => [li.getAttribute('data-key'), li.querySelector('input').checked]);""")
    assert entries == [["mnist/20251124-120000-baseline-abc123", True], ["mnist/20251124-130000-other-def456", False]]
    assert browser.execute_script("return overlay.plots['train/loss'].figure.center.filter(m => m.type === 'Legend').length") == 0


def test_charts_follow_a_dark_system_theme(browser, site):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        browser.get(site.as_uri() + "/" + RUN)
        _ready(browser)
        bg = browser.execute_script("return runpagesCharts.plots['train/loss'].figure.background_fill_color")
        page_bg = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert bg == "#16181d" and page_bg == "rgb(15, 17, 21)"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_many_runs_share_one_glyph_and_hide_by_key(browser, site):
    """A 1,000-run project overlay must stay quick: past 30 runs a chart is one multi_line."""
    browser.get(site.as_uri() + "/" + RUN)
    _ready(browser)
    out = browser.execute_async_script("""
        var done = arguments[arguments.length - 1];
        var base = Object.values(RunpagesData.runs)[0], runs = [];
        for (var i = 0; i < 300; i++) runs.push(Object.assign({}, base, {key: "p/r" + i, name: "run " + i}));
        var box = document.createElement("div"); document.body.appendChild(box);
        var t0 = performance.now();
        var ctl = RunpagesCharts.mount(box, runs, {});
        ctl.ready.then(function () {
          var ms = performance.now() - t0, p = ctl.plots["train/loss"];
          var before = p.figure.renderers.filter(r => r.glyph.type === "MultiLine")[0].data_source.data.xs.length;
          for (var i = 0; i < 100; i++) ctl.setVisible("p/r" + i, false);
          Promise.resolve().then(function () {
            var after = p.figure.renderers.filter(r => r.glyph.type === "MultiLine")[0].data_source.data.xs.length;
            done([ms, p.mode, p.figure.renderers.length, before, after, p.renderers["p/r5"][0].visible,
                  p.renderers["p/r200"][0].visible]);
          });
        });""")
    ms, mode, n_renderers, before, after, vis5, vis200 = out
    assert mode == "multi" and n_renderers <= 3
    assert (before, after) == (300, 200)
    assert vis5 is False and vis200 is True
    assert ms < 10_000


def test_axis_ticks_read_like_numbers_people_write(browser, site, request):
    console_errors(browser)      # drop what earlier tests left in the log
    browser.get(site.as_uri() + "/" + RUN)
    try:
        _ready(browser)
        fmt = ("var f = runpagesCharts.plots[arguments[0]].figure;"
               "var ax = arguments[1] === 'y' ? f.left[0] : f.below[0];"
               "return ax.formatter.doFormat(arguments[2], ax);")
        assert browser.execute_script(fmt, "train/loss", "y", [0, 0.0002, 0.0004, 0.001]) == ["0", "2e-4", "4e-4", "1e-3"]
        assert browser.execute_script(fmt, "train/loss", "x", [0, 1000, 2500, 80e6]) == ["0", "1k", "2.5k", "80M"]
        # Percent system charts run 0-100 (gpu util here); a process may pass 100 (% of one core).
        span = "var r = runpagesCharts.plots[arguments[0]].figure.y_range; return [r.start, r.end];"
        assert browser.execute_script(span, "system:gpu/*/util_pct") == [0, 100]
        start, end = browser.execute_script(span, "system:cpu/proc_pct")
        assert start == 0 and end == 100
        logy = browser.find_element("css selector", ".rp-logy")
        if not logy.is_selected():      # the page keeps the reader's choice from an earlier test
            logy.click()
            _ready(browser)
        ticker = browser.execute_script("var t = runpagesCharts.plots['train/loss'].figure.left[0].ticker;"
                                        "return [t.type, t.mantissas];")
        assert ticker == ["LogTicker", [1]]      # every decade labelled
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "run-page-ticks")
        raise
