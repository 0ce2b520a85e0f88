"""The run page's Media section in headless Chromium: slider, players, table, histogram."""
from __future__ import annotations

import os

import numpy as np
import pytest

import runpages
from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.site.browser_helpers import ALERT_TRAP, build, same_origin, wait_for

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("imageio_ffmpeg")
    tmp = tmp_path_factory.mktemp("mediapage")
    run = runpages.init(project="media", name="samples", dir=str(tmp / "runs"),
                        system_metrics=False, capture_console=False, save_code=False)
    rng = np.random.default_rng(0)
    for step in range(4):
        img = np.zeros((32, 32, 3), np.uint8)
        img[..., step % 3] = 255
        run.log({"loss": 1.0 / (step + 1),
                 "samples": [runpages.Image(img, caption=f"pred {step}{HOSTILE}")],
                 "w/fc1": runpages.Histogram(rng.normal(step, 1.0, 500))}, step=step * 10)
    t = np.arange(8000) / 8000
    frames = np.zeros((20, 3, 32, 48), np.uint8)
    frames[:, 0] = np.linspace(0, 255, 20).astype(np.uint8)[:, None, None]
    run.log({"rollout": runpages.Video(frames, fps=10),
             "tts": runpages.Audio(np.sin(2 * np.pi * 220 * t), sample_rate=8000),
             "preds": runpages.Table(columns=["id", "text", "score"],
                                     data=[[i, HOSTILE if i == 7 else f"row {i}", (i * 37) % 101 / 10]
                                           for i in range(120)]),
             "big": runpages.Table(columns=["id", "word", "score"],
                                   data=[[i, f"w{i % 97}", (i * 7919) % 5003 / 100] for i in range(5000)]),
             "confusion": runpages.Table(columns=["actual", "cat", "dog", HOSTILE],
                                         data=[["cat", 50, 3, 1], ["dog", 4, 40, 0], [HOSTILE, 2, 0, 9]])},
            step=30)
    run.finish()
    out = build(tmp / "runs", tmp / "site")
    (page,) = out.glob("p/media/r/*/index.html")
    return page


@pytest.mark.parametrize("width", [1280, 390])
def test_media_section_works_from_file_url(browser, site, width, request):
    browser.set_window_size(width, 900)
    console_errors(browser)
    browser.get(site.as_uri())
    browser.execute_script(ALERT_TRAP)
    try:
        # The image slider: the last step shows first; moving it changes image and label.
        sec = ".media-image"
        label = lambda: browser.find_element("css selector", sec + " .media-step").text
        src = lambda: browser.find_element("css selector", sec + " .media-thumb img").get_attribute("src")
        wait_for(browser, f"return document.querySelector('{sec} .media-thumb img')")
        assert label() == "step 30"
        last = src()
        browser.execute_script(f"var s=document.querySelector('{sec} input[type=range]'); s.value='0';"
                               "s.dispatchEvent(new Event('input'));")
        assert label() == "step 0" and src() != last
        browser.find_element("css selector", sec).click()              # arrow keys on the section
        browser.find_element("css selector", sec).send_keys("\ue014")  # ArrowRight
        assert label() == "step 10"
        assert "<script>" in browser.find_element("css selector", sec + " figcaption").text
        browser.find_element("css selector", sec + " .media-thumb").click()
        assert wait_for(browser, "return document.getElementById('media-full').open")
        assert "pred 1<img" in browser.find_element("css selector", "#media-full .media-caption").text
        browser.execute_script("document.getElementById('media-full').close()")

        # Players: the WebM video decodes a frame, the WAV loads.
        wait_for(browser, "var v=document.querySelector('.media-video video'); return v && v.readyState >= 2")
        assert browser.execute_script("var v=document.querySelector('.media-video video');"
                                      "return v.play().then(function(){return !v.paused;})")
        wait_for(browser, "var a=document.querySelector('.media-audio audio'); return a && a.readyState >= 1"
                          " && a.duration > 0.9")

        # Table: paged, sorted by a click, filtered by typing.
        rows = lambda: browser.execute_script(
            "return [].map.call(document.querySelector('.media-table').querySelectorAll('tbody tr'),"
            " function(r){return [].map.call(r.cells, function(c){return c.textContent;});})")
        assert len(rows()) == 50
        info = browser.find_element("css selector", ".media-table-info").text
        assert "120 of 120 rows" in info
        browser.find_elements("css selector", ".media-table th button")[2].click()   # score asc
        scores = [float(r[2]) for r in rows()]
        assert scores == sorted(scores)
        browser.find_elements("css selector", ".media-table th button")[2].click()   # desc
        assert float(rows()[0][2]) == 10.0
        box = browser.find_element("css selector", ".media-table input[type=search]")
        box.send_keys("row 11")
        assert sorted(r[1] for r in rows()) == sorted(["row 11"] + [f"row {i}" for i in range(110, 120)])

        # Histogram: the heat map and the step's bars are drawn.
        painted = browser.execute_script(
            "return [].map.call(document.querySelectorAll('.media-histogram canvas'), function(c){"
            " var d=c.getContext('2d').getImageData(0,0,c.width,c.height).data, n=0;"
            " for (var i=3;i<d.length;i+=4) if (d[i]) n++; return n;})")
        assert len(painted) == 2 and all(n > 500 for n in painted)

        if os.environ.get("RUNPAGES_SCREENSHOTS"):       # to look at: the media section
            browser.execute_script("document.getElementById('media').scrollIntoView()")
            screenshot_on_failure(browser, request, f"run-media-{width}")
        assert browser.execute_script("return window.__alerts") == []
        assert not console_errors(browser)
        assert not same_origin(resource_urls(browser), site.parent.parent.parent.parent.parent.as_uri())
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width + 1 \
            or width == 390       # the metric chart above is wider than a phone (not media's)
    except Exception:
        screenshot_on_failure(browser, request, f"media-page-{width}")
        raise
    finally:
        browser.set_window_size(1280, 900)


def test_a_5000_row_table_pages_sorts_and_filters_and_a_confusion_matrix_is_a_heat_map(browser, site, request):
    browser.get(site.as_uri())
    console_errors(browser)
    browser.execute_script(ALERT_TRAP)
    try:
        big = ".media-key:nth-of-type({})".format(1 + browser.execute_script(
            "return [].map.call(document.querySelectorAll('.media-key h3'), function (h) {"
            " return h.firstChild.textContent.trim(); }).indexOf('big')"))
        info = lambda: browser.find_element("css selector", big + " .media-table-info").text
        rows = lambda: browser.execute_script(
            f"return [].map.call(document.querySelectorAll('{big} tbody tr'),"
            " function(r){return [].map.call(r.cells, function(c){return c.textContent;});})")
        assert info() == "5000 of 5000 rows · page 1 of 100"
        for _ in range(3):
            browser.find_element("css selector", big + " .media-table-tools button:nth-of-type(2)").click()
        assert info().endswith("page 4 of 100") and rows()[0][0] == "150"
        t0 = browser.execute_script("return performance.now()")
        browser.find_elements("css selector", big + " th button")[2].click()
        browser.find_elements("css selector", big + " th button")[2].click()     # score, descending
        took = browser.execute_script("return performance.now()") - t0
        scores = [float(r[2]) for r in rows()]
        assert scores == sorted(scores, reverse=True)
        assert scores[0] == max((i * 7919) % 5003 for i in range(5000)) / 100
        assert info().endswith("page 1 of 100")                  # a new order starts at page 1
        box = browser.find_element("css selector", big + " input[type=search]")
        box.send_keys("w96")
        assert info().startswith("51 of 5000 rows") and all(r[1] == "w96" for r in rows())
        print(f"5000-row table: two sorts in {took:.0f} ms")

        conf = ".media-table .media-confusion"
        cells = browser.execute_script(
            f"return [].map.call(document.querySelectorAll('{conf} td'), function (c) {{"
            " return [c.textContent, c.style.getPropertyValue('--a'), c.classList.contains('media-diag')]; })")
        assert len(cells) == 9 and cells[0] == ["50", "1.000", True] and cells[1][2] is False
        heads = browser.execute_script(f"return [].map.call(document.querySelectorAll('{conf} thead th'),"
                                       " function (c) { return c.textContent; })")
        assert heads == ["actual", "cat", "dog", HOSTILE]      # a label is text, not markup
        sec = browser.execute_script(f"return document.querySelector('{conf}').closest('.media-key')")
        if os.environ.get("RUNPAGES_SCREENSHOTS"):
            browser.execute_script("arguments[0].scrollIntoView()", sec)
            screenshot_on_failure(browser, request, "run-media-tables")
        sec.find_element("css selector", ".media-as-rows").click()           # back to plain rows
        assert not sec.find_elements("css selector", ".media-confusion")
        assert len(sec.find_elements("css selector", "tbody tr")) == 3
        assert browser.execute_script("return window.__alerts") == []
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "media-page-tables")
        raise


def test_histograms_over_steps_draw_every_step_and_the_slider_picks_the_bars(browser, site, request):
    browser.get(site.as_uri())
    console_errors(browser)
    try:
        sec = ".media-histogram"
        wait_for(browser, f"return document.querySelector('{sec} canvas.media-bars')")
        assert browser.find_element("css selector", sec + " .media-step").text == "step 30"   # the latest
        # The heat map has ink in each step's column (4 steps, left to right).
        cols = browser.execute_script(
            f"var c=document.querySelector('{sec} canvas.media-heat'), g=c.getContext('2d'), out=[];"
            " for (var k=0;k<4;k++) { var d=g.getImageData(k*c.width/4+2,0,c.width/4-4,c.height-16).data, n=0;"
            " for (var i=3;i<d.length;i+=4) if (d[i]) n++; out.push(n); } return out;")
        assert all(n > 200 for n in cols), cols
        bars = lambda: browser.execute_script(f"return document.querySelector('{sec} canvas.media-bars').toDataURL()")
        latest = bars()
        browser.execute_script(f"var s=document.querySelector('{sec} input[type=range]'); s.value='0';"
                               "s.dispatchEvent(new Event('input'));")
        assert browser.find_element("css selector", sec + " .media-step").text == "step 0"
        assert bars() != latest                       # step 0's histogram, not the latest one
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "media-page-histogram")
        raise
