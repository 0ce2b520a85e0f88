"""Hostile text in every place a user can write: nothing runs, everything shows literally."""
from __future__ import annotations

import pytest

from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.site.browser_helpers import ALERT_TRAP, build, wait_canvases, wait_for
from tests.site.runfolders import write_run

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_LINK = "javascript:alert(1)"
EVIL = [SCRIPT, IMG, JS_LINK]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    runs = tmp / "runs"
    for i, evil in enumerate(EVIL):
        write_run(
            runs, "xss", evil, run_id=f"20251124-12000{i}-evil-{i}abcde", t0=1764000000.0 + i * 3600,
            metrics={f"train/{evil}": lambda s: 1.0 / (s + 1), evil: lambda s: s * 0.5},
            config={evil: evil, "url": JS_LINK, "nested": {evil: [evil]}},
            summary={evil: evil},
            meta={"user": evil, "host": evil, "tags": EVIL, "group": evil, "notes": evil,
                  "command": ["python", evil], "git": {"commit": evil, "branch": evil, "dirty": True}},
            console=f"{SCRIPT}\n{IMG}\n", artifacts={"model.bin": b"ok"})
    return build(runs, tmp / "site")


@pytest.fixture(scope="module")
def trapped(browser):
    """window.alert/confirm/prompt record instead of blocking, on every page from now on."""
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ALERT_TRAP})
    return browser


def _pages(site):
    pages = ["index.html"] + sorted(str(p.relative_to(site)) for p in (site / "p").rglob("index.html"))
    if (site / "compare.html").exists():
        keys = ",".join(f"xss/20251124-12000{i}-evil-{i}abcde" for i in range(3))
        pages.append(f"compare.html?runs={keys}")
    return pages


def test_hostile_text_never_runs_and_shows_literally(trapped, serve_dir, site, request):
    base = serve_dir(site)
    browser = trapped
    console_errors(browser)
    for page in _pages(site):
        browser.get(base + page)
        try:
            wait_for(browser, "return document.readyState === 'complete'")
            if browser.execute_script("return !!document.querySelector('.rp-chart-cell')"):
                wait_canvases(browser)
            assert browser.execute_script("return window.__alerts") == [], page
            assert browser.execute_script("return document.querySelectorAll('img[src=x], img[src$=\"/x\"]').length") == 0
            # No link a user could have written leads to javascript:
            hrefs = browser.execute_script("return [].map.call(document.querySelectorAll('a[href]'), a => a.href)")
            assert not [h for h in hrefs if h.lower().startswith("javascript:")], page
            body = browser.find_element("tag name", "body").text
            if "/r/" in page:
                for evil in EVIL:
                    assert evil in body, (page, evil)
        except Exception:
            screenshot_on_failure(browser, request, "safety-" + page.replace("/", "_")[:60])
            raise
    assert not [e for e in console_errors(browser) if "alert" in e]


def test_hover_tooltips_escape_run_names(trapped, site):
    browser = trapped
    browser.get((site / "p/xss/r/20251124-120001-evil-1abcde/index.html").as_uri())
    wait_for(browser, "return document.querySelector('#run-charts[data-ready]')")
    # Hover the middle of the first chart's plot area; Bokeh shows the tooltip in its shadow DOM.
    from selenium.webdriver.common.action_chains import ActionChains

    cell = browser.find_element("css selector", ".rp-chart-cell")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    shown = []
    for dx in range(-160, 150, 8):
        ActionChains(browser).move_to_element_with_offset(cell, dx, -20).perform()
        shown = browser.execute_script(TOOLTIPS)
        if shown:
            break
    assert shown and IMG in shown[0]          # the name is shown, literally
    assert browser.execute_script("return window.__alerts") == []
    injected = browser.execute_script("""
        function deep(root) { var n = root.querySelectorAll('img').length, all = root.querySelectorAll('*');
          for (var i = 0; i < all.length; i++) if (all[i].shadowRoot) n += deep(all[i].shadowRoot); return n; }
        return deep(document);""")
    assert injected == 0


TOOLTIPS = """
function deep(root) {
  var out = [];
  root.querySelectorAll('*').forEach(function (e) {
    if (String(e.className || '').indexOf('tooltip') >= 0 && e.textContent) out.push(e.textContent);
    if (e.shadowRoot) out = out.concat(deep(e.shadowRoot));
  });
  return out;
}
return deep(document);
"""
