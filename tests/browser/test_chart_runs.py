"""The charts' run list, hover highlight, colours and GPU charts in headless Chromium, at 1280 px
and at 390 px: every run listed (12 and 60 runs), never over the data, show/hide and search;
hovering a run (in the list or on a line) highlights it in every chart; one chart per system
metric with every GPU overlaid; a run has the same colour on its page, the compare page and the
project page."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from selenium.webdriver import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder

from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.conftest import T0, log_run
from tests.site.browser_helpers import build, wait_for

pytestmark = pytest.mark.browser
WIDTHS = [1280, 390]
VALUE = "(p => (p !== null && typeof p === 'object' && 'value' in p) ? p.value : p)"   # a Bokeh property's value


def _key(i: int) -> str:
    return f"crowd/20251124-{12 + i // 60:02d}{i % 60:02d}00-r{i}-abc123"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    import runpages

    tmp = tmp_path_factory.mktemp("chartruns")
    runs = tmp / "runs"
    for i in range(60):
        log_run(runs, project="crowd", name=f"run {i:02d}", run_id=_key(i).split("/")[1], steps=12,
                t0=T0 + i * 600, system_every=100, console=None,
                metrics={"train/loss": lambda s, i=i: 2.0 * math.exp(-s / (5 + i)) + 0.1,
                         "val/acc": lambda s, i=i: 0.5 + 0.4 * (1 - math.exp(-s / (4 + i)))},
                meta={"user": ("ana", "bo", "cy")[i % 3]})
    for n, name in enumerate(("gpu-a", "gpu-b")):
        now = [T0 + 90_000 + n * 1000]
        run = runpages.init(project="gpus", name=name, id=f"20251125-1{n}0000-{name}-abc123", dir=str(runs),
                            clock=lambda: now[0], system_metrics=False, capture_console=False)
        for s in range(20):
            now[0] = T0 + 90_000 + n * 1000 + s * 5
            run.log({"train/loss": 1.0 / (s + 1 + n)}, step=s)
            run.log_system({"cpu/proc_pct": 50.0, **{f"gpu/{g}/util_pct": 20.0 * g + s % 5 for g in range(4)},
                            **{f"gpu/{g}/power_w": 100.0 + 30 * g for g in range(4)},
                            **{f"gpu/{g}/mem_total_gb": 80.0 for g in range(4)}})
        run.finish()
    return build(runs, tmp / "site")


def _width(browser, width: int) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 900 if width > 400 else 844, "deviceScaleFactor": 1,
                             "mobile": width < 400})


@pytest.fixture
def at_width(browser, request):
    yield lambda w: _width(browser, w)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _compare(browser, site: Path, keys: list[str]):
    browser.get("about:blank")
    browser.get((site / "compare.html").as_uri() + "?runs=" + ",".join(keys))
    wait_for(browser, "return !!(window.RunpagesCompare && RunpagesCompare.ready && RunpagesCompare.charts"
                      " && RunpagesCompare.charts.container.getAttribute('data-ready'))", timeout=40)


# Each run list entry: key, ticked, colour; and whether the list overlaps any chart.
LIST = """
var ctl = arguments[0] === 'compare' ? RunpagesCompare.charts : RunpagesCharts.controllers[0];
var list = ctl.container.querySelector('.rp-runlist'), box = list.getBoundingClientRect();
var overlap = [].filter.call(ctl.container.querySelectorAll('.rp-chart-cell'), function (c) {
  var r = c.getBoundingClientRect();
  return r.width && !(r.right <= box.left || r.left >= box.right || r.bottom <= box.top || r.top >= box.bottom);
}).length;
var items = list.querySelector('.rp-runlist-items');
var legends = Object.keys(ctl.plots).filter(function (k) {
  return ctl.plots[k].figure.center.some(function (m) { return m.type === 'Legend'; }); }).length;
return {entries: [].map.call(list.querySelectorAll('.rp-run-item'), function (li) {
          return [li.getAttribute('data-key'), li.querySelector('input').checked,
                  li.querySelector('.rp-swatch').style.backgroundColor]; }),
        overlap: overlap, legends: legends, scrolls: items.scrollHeight > items.clientHeight + 1,
        scrollable: getComputedStyle(items).overflowY, pageWidth: document.documentElement.scrollWidth,
        viewport: document.documentElement.clientWidth};
"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("n", [12, 60])
def test_every_run_is_listed_beside_the_charts_and_none_covers_the_data(browser, site, at_width, width, n, request):
    at_width(width)
    keys = [_key(i) for i in range(n)]
    _compare(browser, site, keys)
    try:
        out = browser.execute_script(LIST, "compare")
        assert [e[0] for e in out["entries"]] == keys          # every run, in the page's order
        assert all(e[1] for e in out["entries"])
        assert out["overlap"] == 0 and out["legends"] == 0      # nothing drawn over the lines
        assert out["scrollable"] == "auto"
        if n == 60:
            assert out["scrolls"]                               # long lists scroll in their box
            # past 30 runs a chart is one multi_line: every column of its data as long as the rest
            lengths = browser.execute_script("""
                var src = RunpagesCompare.charts.plots['train/loss'].figure.renderers
                  .filter(r => r.glyph.type === 'MultiLine')[0].data_source.data;
                return Object.keys(src).map(k => src[k].length);""")
            assert set(lengths) == {n}, lengths
        assert out["pageWidth"] <= out["viewport"]              # and the page never scrolls sideways
        assert len({e[2] for e in out["entries"][:12]}) == 12   # 12 runs started in a row: 12 colours
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, f"run-list-{n}-{width}")
        raise


@pytest.mark.parametrize("width", WIDTHS)
def test_search_narrows_the_list_and_hide_all_hides_those_runs_in_every_chart(browser, site, at_width, width, request):
    at_width(width)
    keys = [_key(i) for i in range(12)]
    _compare(browser, site, keys)
    try:
        box = browser.find_element("css selector", "#rp-compare-charts .rp-run-search")
        box.send_keys("ANA")                                    # runs 0, 3, 6, 9 are ana's
        shown = browser.execute_script(
            "return [].filter.call(document.querySelectorAll('#rp-compare-charts .rp-run-item'), li => !li.hidden).length")
        assert shown == 4
        assert "4 of 12 runs" in browser.find_element("css selector", "#rp-compare-charts .rp-run-count").text
        browser.find_element("css selector", "#rp-compare-charts .rp-run-none").click()
        visible = browser.execute_script("""
            var p = RunpagesCompare.charts.plots, out = {};
            Object.keys(p).forEach(k => Object.keys(p[k].renderers).forEach(run => {
              out[run] = (out[run] || []).concat(p[k].renderers[run].map(r => r.visible)); }));
            return out;""")
        ana = [keys[i] for i in (0, 3, 6, 9)]
        assert all(not any(v) for k, v in visible.items() if k in ana)
        assert all(all(v) for k, v in visible.items() if k not in ana) and len(visible) == 12
        # one entry ticked again: that run is back in every chart
        browser.find_element("css selector", f"#rp-compare-charts .rp-run-item[data-key='{keys[3]}'] input").click()
        assert browser.execute_script(
            "return Object.values(RunpagesCompare.charts.plots).every(p => p.renderers[arguments[0]].every(r => r.visible))",
            keys[3])
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, f"run-list-search-{width}")
        raise


HOT = """
var ctl = RunpagesCompare.charts, key = arguments[0], out = [];
Object.keys(ctl.plots).forEach(function (k) {
  var rs = ctl.plots[k].renderers;
  Object.keys(rs).forEach(function (run) {
    var g = rs[run][rs[run].length - 1].glyph, v = function (p) { return typeof p === 'object' ? p.value : p; };
    out.push([k, run === key, v(g.line_width), v(g.line_alpha)]);
  });
});
return out;
"""


def _all_highlighted(rows) -> bool:
    hot = [r for r in rows if r[1]]
    cold = [r for r in rows if not r[1]]
    return bool(hot) and all(r[2] > 2 and r[3] == 1 for r in hot) and all(r[2] < 2 and r[3] < 1 for r in cold)


def test_hovering_a_run_in_the_list_or_on_a_line_highlights_it_in_every_chart(browser, site, at_width, request):
    at_width(1280)
    keys = [_key(i) for i in range(6)]
    _compare(browser, site, keys)
    try:
        item = browser.find_element("css selector", f"#rp-compare-charts .rp-run-item[data-key='{keys[2]}']")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", item)
        ActionChains(browser).move_to_element(item).perform()
        rows = browser.execute_script(HOT, keys[2])
        assert {r[0] for r in rows} == {"train/loss", "val/acc"}
        assert _all_highlighted(rows), rows
        assert "rp-hot" in item.get_attribute("class")
        # the pointer leaves the list: every line back to normal
        ActionChains(browser).move_to_element(browser.find_element("css selector", "h1")).perform()
        assert all(r[2] < 2 and r[3] == 1 for r in browser.execute_script(HOT, keys[2]))
        # the pointer on run 4's line in one chart highlights run 4 in both charts and in the list
        x, y = browser.execute_script("""
            var p = RunpagesCompare.charts.plots['train/loss'], v = p.view, key = arguments[0];
            var data = p.renderers[key][p.renderers[key].length - 1].data_source.data, i = 6;
            var box = v.el.getBoundingClientRect();
            v.el.scrollIntoView({block: 'center'});
            box = v.el.getBoundingClientRect();
            return [box.left + v.frame.x_scale.compute(data.x[i]), box.top + v.frame.y_scale.compute(data.y[i])];""",
                                      keys[4])
        actions = ActionBuilder(browser)
        actions.pointer_action.move_to_location(int(x), int(y))
        actions.perform()
        wait_for(browser, "return document.querySelector(\"#rp-compare-charts .rp-run-item.rp-hot\")", timeout=5)
        assert _all_highlighted(browser.execute_script(HOT, keys[4]))
        assert browser.find_element("css selector", "#rp-compare-charts .rp-run-item.rp-hot").get_attribute("data-key") == keys[4]
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "run-hover")
        raise


GPU_RUN = "p/gpus/r/20251125-100000-gpu-a-abc123/index.html"


@pytest.mark.parametrize("width", WIDTHS)
def test_system_charts_overlay_every_gpu_on_one_chart_per_metric(browser, site, at_width, width, request):
    at_width(width)
    browser.get((site / GPU_RUN).as_uri())
    try:
        wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
        plots = browser.execute_script("return Object.keys(runpagesCharts.plots).sort()")
        assert plots == ["system:cpu/proc_pct", "system:gpu/*/power_w", "system:gpu/*/util_pct", "train/loss"]
        lines = browser.execute_script("""
            var p = runpagesCharts.plots['system:gpu/*/util_pct'];
            return [p.figure.title.text, p.renderers[Object.keys(p.renderers)[0]].map(r => VALUE(r.glyph.line_color))];""".replace("VALUE", VALUE))
        assert lines[0] == "GPU utilisation (%)"
        assert len(lines[1]) == 4 and len(set(lines[1])) == 4       # one run: a colour per GPU
        caption = browser.find_element("css selector", "[data-key='gpu/*/util_pct'] .rp-chart-caption").text
        assert caption.split() == ["GPU", "0", "GPU", "1", "GPU", "2", "GPU", "3"]
        assert browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, f"gpu-charts-{width}")
        raise


def test_two_runs_gpus_keep_the_run_colour_and_differ_by_dash(browser, site, at_width):
    at_width(1280)
    browser.get((site / GPU_RUN).as_uri())
    wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
    styles = browser.execute_async_script("""
        var done = arguments[arguments.length - 1];
        RunpagesData.load(["gpus/20251125-100000-gpu-a-abc123", "gpus/20251125-110000-gpu-b-abc123"], RunpagesSite.root(),
          function (failed, runs) {
            var box = document.createElement("div"); document.querySelector("main").appendChild(box);
            var ctl = RunpagesCharts.mount(box, runs, {system: true});
            ctl.ready.then(function () {
              var p = ctl.plots["system:gpu/*/util_pct"], out = {};
              Object.keys(p.renderers).forEach(k => out[k] = p.renderers[k].map(r => [VALUE(r.glyph.line_color), JSON.stringify(VALUE(r.glyph.line_dash))]));
              done(out);
            });
          });""".replace("VALUE", VALUE))
    assert len(styles) == 2
    for lines in styles.values():
        assert len(lines) == 4 and len({c for c, _ in lines}) == 1          # the run's own colour
        assert len({d for _, d in lines}) == 4                               # a dash per GPU
    assert len({lines[0][0] for lines in styles.values()}) == 2
    assert not console_errors(browser)


def test_a_run_has_the_same_colour_on_its_page_the_compare_page_and_the_project_page(browser, site, at_width):
    at_width(1280)
    key = _key(7)
    browser.get((site / "p" / "crowd" / "r" / key.split("/")[1] / "index.html").as_uri())
    wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
    own = browser.execute_script("return VALUE(runpagesCharts.plots['train/loss'].renderers[arguments[0]][0].glyph.line_color)"
                                 .replace("VALUE", VALUE), key)
    _compare(browser, site, [_key(i) for i in range(3, 15)])
    compared = browser.execute_script(
        "var r = RunpagesCompare.charts.plots['train/loss'].renderers[arguments[0]]; return VALUE(r[r.length - 1].glyph.line_color)"
        .replace("VALUE", VALUE), key)
    browser.get((site / "p" / "crowd" / "index.html").as_uri())
    browser.execute_script("var d = document.getElementById('rp-charts'); if (!d.open) d.open = true;")
    wait_for(browser, "return RunpagesCharts.controllers.length && RunpagesCharts.controllers[0].container.getAttribute('data-ready')",
             timeout=40)
    listed = browser.execute_script(LIST, "project")["entries"]
    assert len(listed) == 60
    swatch = dict((k, c) for k, _, c in listed)[key]
    assert own == compared
    rgb = tuple(int(own[i:i + 2], 16) for i in (1, 3, 5))
    assert swatch == "rgb(%d, %d, %d)" % rgb
