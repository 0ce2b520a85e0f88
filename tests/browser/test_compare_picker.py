"""Comparing runs of several projects, in headless Chromium at 1280 px and at 390 px: the compare
page's run picker, the ticks kept across project pages, a run page's "Compare with…", and the
file:// note on download links."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.browser.pages import click, foreign_resources
from tests.pages.sites import build, write_project, write_run
from tests.site.browser_helpers import wait_for

pytestmark = pytest.mark.browser
M0 = "mnist/20261125-100000-run0-000000"     # user ana
M1 = "mnist/20261125-100001-run1-000001"     # user bo
M2 = "mnist/20261125-100002-run2-000002"     # user cy
C = "cifar/20261125-130000-other-cccccc"     # user dee, a hostile name
HOSTILE = "<img src=x onerror=window.pwned=1>"
OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("picker-site")
    runs = root / "runs"
    write_project(runs, "mnist", n=3)
    write_run(runs, "cifar", "20261125-130000-other-cccccc", name=HOSTILE, user="dee", loss0=0.5)
    out = root / "site"
    build(runs, out)
    return out


@pytest.fixture(params=[1280, 390], ids=["1280px", "390px"])
def width(request, browser):
    if request.param == 390:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    yield request.param
    if request.param == 390:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture
def clean(browser, site):
    """The ticks live in localStorage: every test starts and ends without any."""
    def wipe():
        browser.get((site / "index.html").as_uri())
        browser.execute_script("localStorage.clear()")
    wipe()
    yield
    wipe()


def _compare(browser, url: str):
    browser.get(url)
    wait_for(browser, "return !!(window.RunpagesCompare && RunpagesCompare.ready)")


def _compared(browser) -> list[str]:
    return [tr.get_attribute("data-key") for tr in browser.find_elements("css selector", "#rp-compare-runs tbody tr")]


def _url_keys(browser) -> list[str]:
    url = unquote(browser.current_url)
    return url.split("runs=", 1)[1].split("&")[0].split("#")[0].split(",") if "runs=" in url else []


def _search(browser, text: str) -> list[str]:
    box = browser.find_element("id", "rp-pick-search")
    box.clear()
    box.send_keys(text)
    # the list is drawn on a timer after the input event: wait for the one drawn for this text
    wait_for(browser, f"return document.getElementById('rp-pick-search').value === {text!r}"
                      f" && document.getElementById('rp-pick-results').getAttribute('data-for') === {text!r}")
    return browser.execute_script(
        "return [...document.querySelectorAll('#rp-pick-results li')].map(li => li.dataset.key)")


def _pick(browser, key: str):
    click(browser, browser.find_element("css selector", f"#rp-pick-results li[data-key='{key}'] input"))
    wait_for(browser, f"return RunpagesCompare.ready && RunpagesCompare.keys.includes({key!r})"
                      " && !!document.querySelector(\"#rp-compare-runs tr[data-key='" + key + "']\")")


def test_the_picker_finds_runs_of_every_project_and_the_url_shares_the_choice(browser, site, width, request):
    try:
        _compare(browser, (site / "compare.html").as_uri())
        toggle = browser.find_element("id", "rp-pick-toggle")
        assert not browser.find_element("id", "rp-picker").is_displayed()
        click(browser, toggle)
        assert toggle.get_attribute("aria-expanded") == "true"
        assert sorted(_search(browser, "")) == sorted([M0, M1, M2, C])
        count = browser.find_element("id", "rp-pick-count").text
        assert "4 matching runs of 4" in count
        # by project name: the other project's run, its hostile name shown as text
        assert _search(browser, "cifar") == [C]
        item = browser.find_element("css selector", f"#rp-pick-results li[data-key='{C}']")
        assert HOSTILE in item.text and "cifar" in item.text and "dee" in item.text
        _pick(browser, C)
        # by user, across projects
        assert _search(browser, "user:bo") == [M1]
        _pick(browser, M1)
        assert _compared(browser) == [C, M1]
        assert _url_keys(browser) == [C, M1]
        # a picked run has the same colour in the picker as in the compare view
        assert browser.execute_script(f"""
            const sw = (sel) => getComputedStyle(document.querySelector(sel)).backgroundColor;
            return sw("#rp-pick-results li[data-key='{M1}'] .rp-swatch") ===
                   sw("#rp-compare-runs tr[data-key='{M1}'] .rp-swatch");""")
        assert browser.execute_script("return window.pwned") is None
        if width == 390:
            assert browser.execute_script(OVERFLOW) <= 0, "the page scrolls sideways at 390 px"
        # a name search finds nothing and says so
        assert _search(browser, "no-such-run") == []
        assert "No run matches" in browser.find_element("id", "rp-pick-count").text
        # unticking in the picker removes the run; the URL follows
        _search(browser, "run1")
        click(browser, browser.find_element("css selector", f"#rp-pick-results li[data-key='{M1}'] input"))
        wait_for(browser, f"return !RunpagesCompare.keys.includes({M1!r})")
        assert _compared(browser) == [C]
        assert _url_keys(browser) == [C]
        # the address alone brings the same view back (a shared link)
        _search(browser, "run0")
        _pick(browser, M0)
        shared = browser.current_url
        assert console_errors(browser) == []
        browser.get("about:blank")
        _compare(browser, shared)
        wait_for(browser, "return document.querySelectorAll('#rp-compare-runs tbody tr').length === 2")
        assert _compared(browser) == [C, M0]
        assert foreign_resources(browser, site.as_uri()) == []
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, f"compare-picker-{width}")
        raise


def test_ticks_are_kept_across_project_pages_and_compare_them_all(browser, site, width, clean, request):
    try:
        browser.get((site / "p" / "mnist" / "index.html").as_uri())
        wait_for(browser, "return !!(window.RunpagesTable && RunpagesTable.ready)")
        link = browser.find_element("id", "rp-compare")
        assert link.text == "Compare…"
        assert not browser.find_element("id", "rp-clear-ticks").is_displayed()
        for key in (M2, M0):
            click(browser, browser.find_element("css selector", f"#rp-runs tr[data-key='{key}'] input.rp-tick"))
        assert link.text == "Compare 2 runs"
        # another project's page: the two mnist runs are still counted
        browser.get((site / "p" / "cifar" / "index.html").as_uri())
        wait_for(browser, "return !!(window.RunpagesTable && RunpagesTable.ready)")
        assert browser.find_element("id", "rp-ticked").text == "2 ticked (2 in other projects)"
        click(browser, browser.find_element("css selector", f"#rp-runs tr[data-key='{C}'] input.rp-tick"))
        link = browser.find_element("id", "rp-compare")
        assert link.text == "Compare 3 runs"
        assert browser.find_element("id", "rp-ticked").text == "3 ticked (2 in other projects)"
        if width == 390:
            assert browser.execute_script(OVERFLOW) <= 0, "the project page scrolls sideways at 390 px"
        click(browser, link)
        wait_for(browser, "return !!(window.RunpagesCompare && RunpagesCompare.ready)"
                          " && document.querySelectorAll('#rp-compare-runs tbody tr').length === 3")
        assert _compared(browser) == [M2, M0, C]          # first ticked first: M2 is the baseline
        # back on the first project its ticks are still there; Clear empties the whole selection
        browser.get((site / "p" / "mnist" / "index.html").as_uri())
        wait_for(browser, "return !!(window.RunpagesTable && RunpagesTable.ready)")
        assert sorted(browser.execute_script("return RunpagesTable.selectedKeys()")) == [M0, M2]
        clear = browser.find_element("id", "rp-clear-ticks")
        click(browser, clear)
        assert browser.find_element("id", "rp-compare").text == "Compare…"
        assert browser.find_elements("css selector", "#rp-runs input.rp-tick:checked") == []
        browser.refresh()
        wait_for(browser, "return !!(window.RunpagesTable && RunpagesTable.ready)")
        assert browser.execute_script("return RunpagesTable.allSelectedKeys()") == []
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, f"ticks-across-projects-{width}")
        raise


def test_a_stale_or_forged_stored_selection_is_cleaned_not_shown(browser, site, clean):
    browser.get((site / "p" / "mnist" / "index.html").as_uri())
    wait_for(browser, "return !!(window.RunpagesTable && RunpagesTable.ready)")
    browser.execute_script(
        "localStorage.setItem(RunpagesSelection.storageName, JSON.stringify(["
        f"'mnist/gone-run', '../../etc/passwd', '<img src=x>', {M1!r}, 5]))")
    browser.refresh()
    wait_for(browser, "return !!(window.RunpagesTable && RunpagesTable.ready)")
    assert browser.execute_script("return RunpagesTable.allSelectedKeys()") == [M1]
    assert browser.find_element("id", "rp-compare").text == "Compare 1 run"
    assert console_errors(browser) == []


def test_compare_with_on_a_run_page_opens_the_picker_with_that_run(browser, site, width, request):
    try:
        browser.get((site / "p" / "mnist" / "r" / M0.split("/")[1] / "index.html").as_uri())
        link = browser.find_element("link text", "Compare with…")
        if width == 390:
            assert browser.execute_script(OVERFLOW) <= 0, "the run page scrolls sideways at 390 px"
        click(browser, link)
        wait_for(browser, "return !!(window.RunpagesCompare && RunpagesCompare.ready)"
                          " && document.querySelectorAll('#rp-compare-runs tbody tr').length === 1")
        assert _compared(browser) == [M0]
        assert browser.find_element("id", "rp-picker").is_displayed()
        assert browser.switch_to.active_element.get_attribute("id") == "rp-pick-search"
        shown = [li.get_attribute("data-key") for li in browser.find_elements("css selector", "#rp-pick-results li")]
        assert shown[:3] and set(shown[:3]) == {M0, M1, M2}      # the same project's runs first
        assert browser.find_element("css selector", f"#rp-pick-results li[data-key='{M0}'] input").is_selected()
        # tick one of them: two runs compared, the picker stays open for more
        _pick(browser, M2)
        assert _compared(browser) == [M0, M2]
        assert browser.find_element("id", "rp-picker").is_displayed()
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, f"compare-with-{width}")
        raise


def test_download_links_opened_from_a_file_say_how_to_save_them(browser, site, serve_dir, width, request):
    run_page = "p/mnist/r/" + M0.split("/")[1] + "/index.html"
    try:
        browser.get((site / run_page).as_uri())
        wait_for(browser, "return !!window.RunpagesDownloads")
        links = browser.find_elements("css selector", ".downloads a[download]")
        jsonl = next(a for a in links if a.get_attribute("href").endswith("metrics.jsonl"))
        notes = browser.find_elements("css selector", ".rp-save-hint")
        assert len(notes) == 1, "one note for the downloads, not one per link"
        hint = browser.find_element("css selector", ".downloads").find_element("xpath", "preceding-sibling::*[1]")
        assert "Save link as" in hint.text and hint.is_displayed()
        assert "Save link as" in jsonl.get_attribute("title")
        for name in ("config.json", "meta.json"):
            a = next(a for a in links if a.get_attribute("href").endswith(name))
            assert a.get_attribute("data-save-hint") == "1", name
        if width == 390:
            assert browser.execute_script(OVERFLOW) <= 0, "the run page scrolls sideways at 390 px"
        # over HTTP the download attribute works: no note
        browser.get(serve_dir(site) + run_page)
        wait_for(browser, "return !!window.RunpagesDownloads")
        assert browser.find_elements("css selector", ".rp-save-hint") == []
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, f"file-downloads-{width}")
        raise
