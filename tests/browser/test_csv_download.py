"""The run page's "metrics (CSV, full resolution)" in headless Chromium: over HTTP a click saves
the CSV the browser makes from the site's metrics.jsonl, byte for byte ``build.metrics_csv(run)``
(gaps, NaN, inf, unicode and nested keys, large integers, a torn last line, a step logged
twice); opened from file://, where a page cannot read the file, the button says what to do."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from runpages.sitegen.build import metrics_csv
from runpages.sitegen.reader import read_run
from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.browser.pages import click, foreign_resources
from tests.conftest import log_run
from tests.site.browser_helpers import build, wait_for

pytestmark = pytest.mark.browser

NAN, INF = float("nan"), float("inf")
BUTTON = "button[data-csv-from]"


def _hostile_by_hand(runs: Path) -> Path:
    """A crashed run the logger would not write: a step logged twice, out of order, lines that
    are not records, a NaN literal, an index-like key, and a whole last line without "\\n"."""
    d = runs / "odd" / "20251124-140000-by-hand-aaaaaa"
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"format_version": 1, "id": d.name, "name": "by hand",
                                             "status": "crashed", "started_at": 1764000000,
                                             "ended_at": 1764000100}))
    lines = ['{"_step": 2, "_time": 1764000002.5, "loss": 3, "7": 1}', "not json", "",
             '{"_step": 0, "loss": NaN, "b": "text", "deep": {"x": {"y": -0.0}}}',
             '{"_step": 2, "loss": "NaN", "acc": 0.25}', '{"loss": 9}', '[1]',
             '{"_step": 1, "_time": "Infinity", "loss": 1e-7, "b": 12345678901234567890}',
             '{"_step": 3, "loss": 1.5}']
    (d / "metrics.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("csvpage")
    runs = tmp / "runs"
    logged = log_run(runs, project="div", name="diverged", steps=300, every={"val/acc": 7},
                     metrics={"val/acc": lambda s: s / 300},          # logged every 7th step: gaps
                     series={"train/loss": [1.0 / (s + 1) if s < 250 else NAN for s in range(300)],
                             "grad": [INF if s == 3 else -INF if s == 4 else 0.5 for s in range(300)],
                             "val/loss": [0.25] * 300, "Verlust/größe": [s * 0.1 for s in range(300)],
                             "损失": [math.pi * s for s in range(300)],
                             "opt": [{"lr": 1e-3 / (s + 1), "mom": {"beta1": 0.9}} for s in range(300)],
                             "tokens": [2 ** 53 + 1 + s * 2 ** 40 for s in range(300)],
                             "😀 \"q\", r": [s % 3 for s in range(300)]})
    hand = _hostile_by_hand(runs)
    out = build(runs, tmp / "site")
    return {"out": out, "runs": [logged, hand]}


def _page(run_dir: Path) -> str:
    return f"p/{run_dir.parent.name}/r/{run_dir.name}/index.html"


def _downloads(browser, folder: Path) -> None:
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(folder), "eventsEnabled": False})


def _saved(folder: Path, timeout: float = 20.0) -> bytes:
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in folder.iterdir() if p.name == "metrics.csv"]
        if done:
            return done[0].read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"no metrics.csv saved in {folder}: {sorted(p.name for p in folder.iterdir())}")


@pytest.mark.parametrize("which", [0, 1], ids=["logged", "by-hand"])
def test_a_click_saves_the_csv_metrics_csv_writes_byte_for_byte(browser, serve_dir, site, which, tmp_path, request):
    run_dir = site["runs"][which]
    want = metrics_csv(read_run(run_dir)[0])
    assert want.count(b"\n") > 3
    base = serve_dir(site["out"])
    _downloads(browser, tmp_path)
    browser.get(base + _page(run_dir))
    try:
        wait_for(browser, "return !!window.RunpagesCsv")
        made = browser.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "RunpagesCsv.make(document.querySelector(arguments[0])).then(function (p) { done(p.join('')); }, function (e) { done('ERR ' + e); });",
            BUTTON)
        assert made.encode("utf-8") == want
        if which == 0:
            assert b"\n1,1764000000.5,,0.5,0.5,0.25," in want          # val/acc not logged: empty
        click(browser, browser.find_element("css selector", BUTTON))
        assert _saved(tmp_path) == want
        assert not console_errors(browser)
        assert foreign_resources(browser, base) == []
    except Exception:
        screenshot_on_failure(browser, request, f"csv-download-{which}")
        raise


def test_opened_from_a_file_the_button_says_to_open_the_site_through_a_server(browser, site, request):
    run_dir = site["runs"][0]
    browser.get((site["out"] / _page(run_dir)).as_uri())
    try:
        wait_for(browser, "return !!window.RunpagesCsv")
        button = browser.find_element("css selector", BUTTON)
        assert button.text == "metrics (CSV, full resolution)" and button.is_displayed()
        click(browser, button)
        note = browser.find_element("css selector", ".rp-csv-note")
        assert "runpages serve" in note.text and "opened from a file" in note.text and note.is_displayed()
        assert not console_errors(browser)
        # the raw JSONL stays a plain download link beside it
        jsonl = browser.find_element("css selector", ".downloads a[href$='metrics.jsonl']")
        assert jsonl.get_attribute("download") is not None
    except Exception:
        screenshot_on_failure(browser, request, "csv-download-file")
        raise
