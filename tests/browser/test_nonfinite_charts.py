"""NaN must be seen: a run whose loss diverges to NaN shows a gap, a mark at each NaN step and
a note ("100 NaN steps from step 300") on its run page, on the compare page, in the project's
group chart and in a report chart, at 1280 px and at 390 px; a metric that only ever logged NaN
still gets a chart."""
from __future__ import annotations

import math

import pytest

import runpages
from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.site.browser_helpers import build, wait_canvases, wait_for

pytestmark = pytest.mark.browser

STEPS, NAN_FROM = 400, 300

# The marks and the line of one chart, read from its Bokeh figure.
CHART_STATE = """
var plot = window.runpagesCharts.plots[arguments[0]];
var out = {marks: 0, nan_in_line: 0, steps_after: 0};
plot.figure.renderers.forEach(function (r) {
  var d = r.data_source && r.data_source.data, g = r.glyph && r.glyph.type;
  if (!d) return;
  if (g === 'Scatter') out.marks += d.x.length;
  if (g === 'Line') {
    for (var i = 0; i < d.y.length; i++) {
      if (d.step[i] >= %d) { out.steps_after++; if (isNaN(d.y[i])) out.nan_in_line++; }
    }
  }
});
var note = document.querySelector('.rp-chart-cell[data-key="' + arguments[0] + '"] .rp-nonfinite-note');
out.note = note ? note.textContent : null;
out.note_visible = !!(note && note.getBoundingClientRect().width > 0);
return out;
""" % NAN_FROM


def _log(root, name, diverge, group, seed):
    run = runpages.init(dir=str(root), project="div", name=name, group=group, config={"lr": seed},
                        system_metrics=False, capture_console=False)
    for step in range(STEPS):
        loss = 2.0 / (1 + step * 0.01 * seed)
        run.log({"train/loss": float("nan") if diverge and step >= NAN_FROM else loss,
                 "train/only_nan": float("nan"),
                 "train/grad": float("inf") if step == 50 else 1.0}, step=step)
    run.finish()
    return run


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nonfinite")
    runs = tmp / "runs"
    _log(runs, "diverged", True, "g", 1)
    _log(runs, "steady", False, "g", 2)
    reports = tmp / "reports"
    reports.mkdir()
    (reports / "div.md").write_text("# Divergence\n\n```chart\nmetrics: train/loss\nruns: project = div\n```\n\n"
                                    "```chart\nmetrics: train/loss\nruns: project = div\ngroup_by: group\n```\n",
                                    encoding="utf-8")
    return build(runs, tmp / "site", reports_dir=reports)


def _run_page(site, name):
    for page in (site / "p" / "div" / "r").iterdir():
        if name in page.name:
            return (page / "index.html").as_uri()
    raise AssertionError(name)


def _scroll_to(browser, key):
    browser.execute_script("document.querySelector('.rp-chart-cell[data-key=\"' + arguments[0] + '\"]')"
                           ".scrollIntoView()", key)


def _width(browser, width):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})


@pytest.mark.parametrize("width", [1280, 390])
def test_a_diverging_runs_chart_shows_the_gap_the_marks_and_the_note(browser, site, width, request):
    _width(browser, width)
    try:
        browser.get(_run_page(site, "diverged"))
        wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
        assert all(wait_canvases(browser))
        loss = browser.execute_script(CHART_STATE, "train/loss")
        assert loss["note"] == "\u26a0 100 NaN steps from step 300" and loss["note_visible"]
        assert loss["steps_after"] >= 1 and loss["nan_in_line"] == loss["steps_after"]   # a gap, not a line
        assert loss["marks"] >= 1
        # a metric whose only values are NaN still gets a chart, with marks and its note
        only = browser.execute_script(CHART_STATE, "train/only_nan")
        assert only["note"] == "\u26a0 400 NaN steps from step 0" and only["marks"] >= 1
        grad = browser.execute_script(CHART_STATE, "train/grad")
        assert grad["note"] == "\u26a0 1 inf step at step 50" and grad["marks"] == 1
        if width < 600:
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        assert console_errors(browser) == []
        _scroll_to(browser, "train/loss")
        screenshot_on_failure(browser, request, f"nonfinite-run-{width}")      # kept to look at
    except Exception:
        screenshot_on_failure(browser, request, f"nonfinite-run-{width}-failed")
        raise
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_steady_run_has_no_note_and_no_marks_on_its_loss(browser, site, request):
    browser.get(_run_page(site, "steady"))
    try:
        wait_for(browser, "return window.runpagesCharts && document.querySelector('#run-charts[data-ready]')")
        loss = browser.execute_script(CHART_STATE, "train/loss")
        assert loss["note"] is None and loss["marks"] == 0 and loss["nan_in_line"] == 0
    except Exception:
        screenshot_on_failure(browser, request, "nonfinite-steady")
        raise


def test_the_group_mean_leaves_the_nan_run_out_and_marks_its_steps(browser, site, request):
    browser.get((site / "p" / "div" / "index.html").as_uri())
    try:
        browser.execute_script("RunpagesGroups.start()")
        wait_for(browser, "return !!document.querySelector('#rp-groups[data-ready]')")
        browser.execute_script("return RunpagesGroups.set('metric', 'train/loss')")
        (g,) = wait_for(browser, "return RunpagesGroups.groups().length === 1 && RunpagesGroups.groups()")
        assert g["n"] == 2 and g["nonfinite_runs"] == 1 and g["nonfinite_steps"][0] == NAN_FROM
        steady = [2.0 / (1 + s * 0.02) for s in range(STEPS)]
        late = [y for x, y in zip(g["x"], g["y"]) if x > NAN_FROM + 1]
        assert late and all(y == pytest.approx(steady[int(x)], rel=1e-3)      # the steady run only
                            for x, y in zip(g["x"], g["y"]) if x > NAN_FROM + 1 and float(x).is_integer())
        note = browser.find_element("css selector", "#rp-groups p.muted").text
        assert "1 run logged NaN/inf" in note
        browser.execute_script("document.getElementById('rp-groups').scrollIntoView()")
        screenshot_on_failure(browser, request, "nonfinite-groups")      # kept to look at
        # the table's group row: the mean of the runs with a number, the NaN run counted apart
        browser.execute_script("RunpagesTable.setGrouping('group')")
        col = browser.execute_script(
            "return [...document.querySelectorAll('#rp-runs thead th')].findIndex(th => th.dataset.key === 'train/loss')")
        assert col > 0
        cell = browser.execute_script(
            "var tr = document.querySelector('#rp-runs tr.rp-group-row[data-group=g]');"
            "return [tr.cells[arguments[0]].textContent, tr.cells[arguments[0]].title]", col)
        assert cell[0].endswith(" (1 NaN)") and "1 run NaN or inf, left out of the mean" in cell[1], cell
        assert float(cell[0].split(" ")[0]) == pytest.approx(steady[-1], rel=1e-3)
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, "nonfinite-groups-failed")
        raise


def test_compare_and_report_charts_show_the_marks_and_name_the_run(browser, site, request):
    try:
        browser.get((site / "reports").as_uri() + "/div.html")
        wait_for(browser, "return document.documentElement.getAttribute('data-report-ready')")
        notes = [e.text for e in browser.find_elements("css selector", ".rp-nonfinite-note")]
        assert notes and all("diverged: 100 NaN steps from step 300" in n for n in notes), notes
        marks = browser.execute_script("""
          var out = [];
          Object.keys(runpagesReport.plots).forEach(function (k) {
            var n = 0;
            runpagesReport.plots[k].figure.renderers.forEach(function (r) {
              if (r.glyph && r.glyph.type === 'Scatter') n += r.data_source.data.x.length; });
            out.push(n);
          });
          return out;""")
        assert len(marks) == 2 and all(marks), marks
        assert console_errors(browser) == []
        screenshot_on_failure(browser, request, "nonfinite-report")
    except Exception:
        screenshot_on_failure(browser, request, "nonfinite-report-failed")
        raise


@pytest.mark.parametrize("width", [1280, 390])
def test_the_compare_page_marks_the_nan_steps_names_the_run_and_shows_nan_in_the_summary(browser, site, width, request):
    ids = {p.name.split("-")[2]: p.name for p in (site / "p" / "div" / "r").iterdir()}
    _width(browser, width)
    try:
        browser.get((site / "compare.html").as_uri() + f"?runs=div/{ids['diverged']},div/{ids['steady']}")
        wait_for(browser, "return !!(window.RunpagesCompare && RunpagesCompare.ready)")
        state = browser.execute_script("window.runpagesCharts = RunpagesCompare.charts;" + CHART_STATE, "train/loss")
        assert state["note"] == "\u26a0 diverged: 100 NaN steps from step 300" and state["note_visible"]
        assert state["marks"] >= 1 and state["nan_in_line"] >= 1
        row = browser.find_element("css selector", '#rp-compare-summary tr[data-key="train/loss"]')
        cells = [td.text for td in row.find_elements("css selector", "td")]
        assert cells[0] == "NaN" and cells[1] != "NaN", cells
        if width < 600:
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        assert console_errors(browser) == []
        _scroll_to(browser, "train/loss")
        screenshot_on_failure(browser, request, f"nonfinite-compare-{width}")
    except Exception:
        screenshot_on_failure(browser, request, f"nonfinite-compare-{width}-failed")
        raise
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
