"""The compare page's Media section in headless Chromium: the same key side by side for two
runs at the nearest logged step, tables matched by an id column, histograms drawn."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import runpages
from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.site.browser_helpers import ALERT_TRAP, build, same_origin, wait_for

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>'


def _run(runs: Path, name: str, steps: list[int], shift: int):
    run = runpages.init(project="vision", name=name, dir=str(runs), system_metrics=False,
                        capture_console=False, save_code=False)
    rng = np.random.default_rng(shift)
    for step in steps:
        img = np.zeros((24, 24, 3), np.uint8)
        img[..., (step // 10 + shift) % 3] = 255
        run.log({"loss": 1.0 / (step + 1),
                 "samples": [runpages.Image(img, caption=f"{name} step {step}{HOSTILE}")],
                 "w/fc1": runpages.Histogram(rng.normal(shift, 1.0, 400))}, step=step)
    rows = [[i, f"text {i}", (i + shift) % 3 if i % 4 == 0 else i % 3] for i in range(120)]
    if shift:
        rows = rows[1:] + [[500, HOSTILE, 0]]              # id 0 only in a, id 500 only in b
    run.log({"preds": runpages.Table(columns=["id", "text", "pred"], data=rows)}, step=steps[-1])
    run.finish()
    return run


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmpmedia")
    a = _run(tmp / "runs", "alpha", [0, 10, 20, 30], 0)
    b = _run(tmp / "runs", "beta", [0, 15, 30], 1)
    out = build(tmp / "runs", tmp / "site")
    keys = ",".join(f"vision/{Path(r.dir).name}" for r in (a, b))
    return out, keys


@pytest.mark.parametrize("width", [1280, 390])
def test_compare_shows_the_same_media_key_for_two_runs(browser, site, width, request):
    out, keys = site
    browser.set_window_size(width, 900)
    browser.get("about:blank")
    console_errors(browser)
    browser.get((out / "compare.html").as_uri() + "?runs=" + keys)
    browser.execute_script(ALERT_TRAP)
    try:
        wait_for(browser, "return window.RunpagesCompareMedia && RunpagesCompareMedia.ready")
        sec = ".cmp-media-key[data-key='samples']"
        cells = lambda: browser.execute_script(
            f"return [].map.call(document.querySelectorAll(\"{sec} .cmp-media-cell\"), function (c) {{"
            " return [c.querySelector('.cmp-run-step').textContent,"
            " (c.querySelector('img') || {}).src || '', (c.querySelector('figcaption') || {}).textContent]; })")
        first = cells()
        assert [c[0] for c in first] == ["step 30", "step 30"]
        assert all(c[1] for c in first) and first[0][1] != first[1][1]
        assert "<script>" in first[1][2]                    # a caption is text, not markup
        browser.execute_script("RunpagesCompareMedia.show('samples', 10)")
        now = cells()
        assert browser.find_element("css selector", sec + " .media-step").text == "step 10"
        assert [c[0] for c in now] == ["step 10", "step 15 (nearest)"]
        assert now[0][1] != first[0][1]
        # Keyboard: ArrowRight on the section moves to the next step logged by either run (15).
        browser.find_element("css selector", sec + " h3").click()
        browser.find_element("css selector", sec).send_keys("\ue014")
        assert [c[0] for c in cells()] == ["step 10 (nearest)", "step 15"]   # a tie: the earlier

        # Histograms: one drawn canvas per run.
        painted = browser.execute_script(
            "return [].map.call(document.querySelectorAll(\".cmp-media-key[data-key='w/fc1'] canvas\"), function(c){"
            " var d=c.getContext('2d').getImageData(0,0,c.width,c.height).data, n=0;"
            " for (var i=3;i<d.length;i+=4) if (d[i]) n++; return n;})")
        assert len(painted) == 2 and all(n > 300 for n in painted)

        # Table: rows matched by id; 30 ids differ in pred, 2 are in one run only.
        tsec = ".cmp-media-key[data-key='preds']"
        info = browser.find_element("css selector", tsec + " .media-table-info").text
        assert info.startswith("121 ids: 29 differ, 2 not in every run"), info
        browser.find_element("css selector", tsec + " .cmp-only-diff").click()
        rows = browser.execute_script(
            f"return [].map.call(document.querySelectorAll(\"{tsec} tbody tr\"), function (r) {{"
            " return [r.className, r.cells[0].textContent, r.querySelectorAll('td.rp-diff').length]; })")
        assert len(rows) == 31
        assert all(r[0] in ("cmp-changed", "cmp-partial") for r in rows)
        assert ["cmp-partial", "500", 0] in rows and ["cmp-partial", "0", 0] in rows
        assert all(r[2] == 1 for r in rows if r[0] == "cmp-changed")   # only pred differs
        cell500 = browser.execute_script(
            f"return [].filter.call(document.querySelectorAll(\"{tsec} tbody tr\"), function (r) {{"
            " return r.cells[0].textContent === '500'; })[0].cells[2].textContent")
        assert cell500 == HOSTILE
        sel = browser.find_element("css selector", tsec + " select.cmp-id")
        sel.find_element("css selector", "option[value='text']").click()
        info = browser.find_element("css selector", tsec + " .media-table-info").text
        assert info.startswith("121 ids:"), info          # matched by text now: 500's text is new

        if os.environ.get("RUNPAGES_SCREENSHOTS"):
            browser.execute_script("document.getElementById('rp-compare-media-wrap').scrollIntoView()")
            screenshot_on_failure(browser, request, f"compare-media-{width}")
        assert browser.execute_script("return window.__alerts") == []
        assert not console_errors(browser)
        assert not same_origin(resource_urls(browser), out.as_uri())
    except Exception:
        screenshot_on_failure(browser, request, f"compare-media-{width}")
        raise
    finally:
        browser.set_window_size(1280, 900)


def test_a_run_without_media_asks_for_no_media_script(browser, tmp_path):
    """Its data says so (``"media": false``): the compare page draws the other run's media and
    requests no file for it (a missing script would be a console error from file://)."""
    a = _run(tmp_path / "runs", "alpha", [0, 10], 0)
    plain = runpages.init(project="vision", name="plain", dir=str(tmp_path / "runs"), system_metrics=False,
                          capture_console=False, save_code=False)
    plain.log({"loss": 0.5}, step=0)
    plain.finish()
    out = build(tmp_path / "runs", tmp_path / "site")
    keys = [f"vision/{Path(r.dir).name}" for r in (a, plain)]
    assert not (out / "data" / "media" / f"{keys[1]}.js").exists()
    browser.get("about:blank")
    console_errors(browser)
    browser.get((out / "compare.html").as_uri() + "?runs=" + ",".join(keys))
    wait_for(browser, "return window.RunpagesCompareMedia && RunpagesCompareMedia.ready")
    asked = browser.execute_script(
        "return [].map.call(document.scripts, s => s.src).filter(u => u.indexOf('/data/media/') >= 0)")
    assert asked == [(out / "data" / "media" / f"{keys[0]}.js").as_uri()]
    assert browser.find_elements("css selector", ".cmp-media-key[data-key='samples']")
    assert not console_errors(browser)
