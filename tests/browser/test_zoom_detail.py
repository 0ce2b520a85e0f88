"""Detail on zoom from static files: a long run's chart first shows its overview; zooming into a
1,000-step window loads level-0 tiles (every point) by <script src>, from file://."""
from __future__ import annotations

import json
import math

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.site.browser_helpers import build, same_origin, wait_canvases, wait_for

pytestmark = pytest.mark.browser

STEPS = 200_000
WINDOW = (150_000, 150_999)
NAN_AT, INF_AT = 150_500, 150_700


def value(step: int) -> float:
    """Exact in binary, so the page can be checked value for value."""
    return (step % 997) * 0.25 + 1.0


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from runpages.sitegen import longread

    tmp = tmp_path_factory.mktemp("zoom")
    run = tmp / "runs" / "long" / "20260101-000000-long"
    run.mkdir(parents=True)
    (run / "meta.json").write_text(json.dumps({"format_version": 1, "id": run.name, "project": "long",
                                               "name": "long", "status": "finished",
                                               "started_at": 1.7e9, "ended_at": 1.7e9 + STEPS}))
    with open(run / "metrics.jsonl", "w") as f:        # per schema (logger/schema.py), as the logger writes it
        for s in range(STEPS):
            y = "NaN" if s == NAN_AT else "Infinity" if s == INF_AT else value(s)
            f.write(json.dumps({"_step": s, "_time": 1.7e9 + s, "train/loss": y, "train/acc": s / STEPS},
                               separators=(",", ":")) + "\n")
    saved = longread.LONG_RUN_BYTES, longread.CHUNK_BYTES
    longread.LONG_RUN_BYTES, longread.CHUNK_BYTES = 1 << 20, 2 << 20     # read this run in chunks
    try:
        out = build(tmp / "runs", tmp / "site", cache_dir=tmp / "cache")
    finally:
        longread.LONG_RUN_BYTES, longread.CHUNK_BYTES = saved
    return out


ZOOM = """
var plot = window.runpagesCharts.plots[arguments[0]], r = plot.figure.x_range;
r.setv({start: arguments[1], end: arguments[2]});
if ('have_updated_interactively' in r) r.have_updated_interactively = true;
"""

LINE = """
var plot = window.runpagesCharts.plots[arguments[0]], lo = arguments[1], hi = arguments[2];
var rs = plot.renderers[Object.keys(plot.renderers)[0]], d = rs[rs.length - 1].data_source.data;
var out = {step: [], raw: [], level: plot.zoomLevel, n: d.step.length, marks: 0};
for (var i = 0; i < d.step.length; i++) if (d.step[i] >= lo && d.step[i] <= hi) {
  out.step.push(d.step[i]); out.raw.push(isFinite(d.raw[i]) ? d.raw[i] : String(d.raw[i]));
}
plot.figure.renderers.forEach(function (g) {
  var sd = g.data_source && g.data_source.data;
  if (g.glyph && g.glyph.type === 'Scatter' && sd) for (var j = 0; j < sd.x.length; j++)
    if (sd.x[j] >= lo && sd.x[j] <= hi) out.marks++;
});
return out;
"""


def test_zooming_into_1000_steps_of_a_long_run_shows_every_point(browser, site, request):
    page = next((site / "p" / "long" / "r").iterdir()) / "index.html"
    try:
        browser.get(page.as_uri())
        wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
        assert all(wait_canvases(browser))
        first = browser.execute_script(LINE, "train/loss", *WINDOW)
        assert first["level"] is None and first["n"] <= 2100      # the overview: ~2,000 points
        assert len(first["step"]) < 100
        browser.execute_script(ZOOM, "train/loss", *WINDOW)
        wait_for(browser, "return window.runpagesCharts.plots['train/loss'].zoomLevel === 0")
        line = browser.execute_script(LINE, "train/loss", *WINDOW)
        assert line["step"] == list(range(WINDOW[0], WINDOW[1] + 1))
        # the logged NaN and inf are gaps in the line (and marks), every other point its value
        want = ["NaN" if s in (NAN_AT, INF_AT) else value(s) for s in line["step"]]
        assert line["raw"] == want
        assert line["marks"] >= 2                       # the NaN and the inf in the window are marked
        # the tiles came from the site's own folder, as scripts
        tiles = browser.execute_script(
            "return [].map.call(document.querySelectorAll('script[data-tile]'), function (s) { return s.src; })")
        assert tiles and all("/z/0/" in u and u.endswith(".js") for u in tiles)
        assert same_origin(tiles + resource_urls(browser), site.as_uri()) == []
        # zooming back out gives the overview again
        browser.execute_script(ZOOM, "train/loss", 0, STEPS)
        wait_for(browser, "return window.runpagesCharts.plots['train/loss'].zoomLevel === null")
        assert browser.execute_script(LINE, "train/loss", 0, STEPS)["n"] <= 2100
        # a middle window takes a min/max level, not every point
        browser.execute_script(ZOOM, "train/loss", 100_000, 120_000)
        level = wait_for(browser, "return window.runpagesCharts.plots['train/loss'].zoomLevel")
        assert level >= 1
        assert console_errors(browser) == []
        screenshot_on_failure(browser, request, "zoom-detail")         # kept to look at
    except Exception:
        screenshot_on_failure(browser, request, "zoom-detail-failed")
        raise


def test_with_relative_time_on_x_a_zoom_loads_the_same_detail(browser, site, request):
    page = next((site / "p" / "long" / "r").iterdir()) / "index.html"
    try:
        browser.get(page.as_uri())
        wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
        browser.execute_script("window.runpagesCharts.setOption('x', 'rel')")
        wait_for(browser, "return !!(document.querySelector('#run-charts[data-ready]') && "
                          "window.runpagesCharts.plots['train/loss'])")
        label = browser.execute_script(
            "var f = window.runpagesCharts.plots['train/loss'].figure;"
            "return f.below.concat(f.above).map(function (a) { return a.axis_label; }).join('|')")
        assert "relative time" in label
        # _time is 1.7e9 + step and the run started at 1.7e9: relative seconds are steps
        browser.execute_script(ZOOM, "train/loss", *WINDOW)
        wait_for(browser, "return window.runpagesCharts.plots['train/loss'].zoomLevel === 0")
        line = browser.execute_script(LINE, "train/loss", *WINDOW)
        assert line["step"] == list(range(WINDOW[0], WINDOW[1] + 1))
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, "zoom-detail-rel-failed")
        raise
