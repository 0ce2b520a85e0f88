"""The compare page in headless Chromium: runs chosen in the URL, from file:// and over HTTP
under a sub-path; lines overlaid, config differences, summary deltas, removing and hiding runs."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import console_errors, resource_urls, screenshot_on_failure
from tests.browser.pages import click, foreign_resources
from tests.pages.sites import build, write_project, write_run
from tests.site.browser_helpers import wait_for

pytestmark = pytest.mark.browser
A = "mnist/20261125-100000-run0-000000"     # lr 1e-2, the baseline
B = "mnist/20261125-100001-run1-000001"     # lr 3e-4, better loss and accuracy? (see loss0)
C = "cifar/20261125-130000-other-cccccc"    # another project


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("compare-site")
    runs = root / "runs"
    write_project(runs, "mnist", n=3)
    write_run(runs, "cifar", "20261125-130000-other-cccccc", name="<img src=x onerror=window.pwned=1>",
              user="dee", config={"lr": 0.1, "batch_size": 32, "optim": "adam", "seed": 0, "extra": True},
              loss0=0.5)
    site = root / "team-logbook"
    build(runs, site)
    return site


def _open(browser, url: str):
    browser.get("about:blank")
    browser.get(url)
    wait_for(browser, "return !!(window.RunpagesCompare && RunpagesCompare.ready)")


LINES = """
    const c = RunpagesCompare.charts, out = {};
    if (!c) return out;
    for (const [k, rs] of Object.entries(c.plots[arguments[0] || 'train/loss'].renderers))
      out[k] = rs.filter(r => r.visible).map(r => r.data_source.data.y.length);
    return out;"""


def _shown_lines(browser) -> list[str]:
    return sorted(k for k, v in browser.execute_script(LINES).items() if v)


def test_empty_state_explains_how_to_choose_runs(browser, site):
    _open(browser, (site / "compare.html").as_uri())
    empty = browser.find_element("id", "rp-compare-empty")
    assert empty.is_displayed()
    assert "tick two or more runs" in empty.text
    assert not browser.find_element("id", "rp-compare-main").is_displayed()
    assert len(empty.find_elements("css selector", "a")) == 2      # one link per project
    assert console_errors(browser) == []


def test_compare_from_file_url_overlays_lines_and_untick_hides_one(browser, site, request):
    try:
        _open(browser, (site / "compare.html").as_uri() + f"?runs={A},{B},{C}")
        assert _shown_lines(browser) == sorted([A, B, C])
        assert browser.execute_script("return window.pwned") is None
        names = [e.text for e in browser.find_elements("css selector", "#rp-compare-runs tbody tr td:nth-child(2) a")]
        assert names == ["run-0000", "run-0001", "<img src=x onerror=window.pwned=1>"]
        # Untick B: its lines go from every chart; the others stay.
        click(browser, browser.find_element("css selector", f"#rp-compare-runs tr[data-key='{B}'] input.rp-visible"))
        assert _shown_lines(browser) == sorted([A, C])
        assert browser.execute_script(LINES, "val/acc").get(B) == []
        assert console_errors(browser) == []
        assert all(u.startswith("file://") for u in resource_urls(browser))
    except Exception:
        screenshot_on_failure(browser, request, "compare-file")
        raise


def test_config_differences_and_summary_deltas(browser, site):
    _open(browser, (site / "compare.html").as_uri() + f"?runs={A},{C}")
    rows = browser.execute_script("""
        const out = {};
        for (const tr of document.querySelectorAll('#rp-compare-config tbody tr'))
          out[tr.dataset.key] = {diff: tr.classList.contains('rp-diff'),
                                 cells: [...tr.querySelectorAll('td')].map(td => td.textContent)};
        return out;""")
    assert rows["lr"]["diff"] and rows["lr"]["cells"] == ["0.01", "0.1"]
    assert not rows["seed"]["diff"]
    assert rows["extra"]["diff"] and rows["extra"]["cells"] == ["\u2013", "true"]
    click(browser, browser.find_element("id", "rp-only-diff"))
    assert not browser.find_element("css selector", "#rp-compare-config tr[data-key='seed']").is_displayed()
    assert browser.find_element("css selector", "#rp-compare-config tr[data-key='lr']").is_displayed()
    deltas = browser.execute_script("""
        const out = {};
        for (const tr of document.querySelectorAll('#rp-compare-summary tbody tr')) {
          const d = tr.querySelector('.rp-delta');
          out[tr.dataset.key] = d ? {text: d.textContent, cls: d.className} : null;
        }
        return out;""")
    # C's loss starts at 0.5 against A's 1.0: lower loss (good), higher accuracy (good).
    assert "rp-good" in deltas["train/loss"]["cls"] and "-50" in deltas["train/loss"]["text"]
    assert "rp-good" in deltas["val/acc"]["cls"] and deltas["val/acc"]["text"].startswith("+")
    # Direction: lower is better for loss-like names only.
    assert browser.execute_script(
        "return ['val/loss','eval_wer','test/perplexity','val/acc','epoch'].map(RunpagesCompare.direction)"
    ) == ["min", "min", "min", "max", None]


def test_removing_a_run_updates_the_url(browser, site):
    _open(browser, (site / "compare.html").as_uri() + f"?runs={A},{B},{C}")
    click(browser, browser.find_element("css selector", f"#rp-compare-runs tr[data-key='{A}'] button.rp-remove"))
    wait_for(browser, "return RunpagesCompare.ready")
    assert f"runs={B},{C}" in browser.current_url
    assert _shown_lines(browser) == sorted([B, C])
    assert len(browser.find_elements("css selector", "#rp-compare-runs tbody tr")) == 2
    # The first run is now the baseline: B has no delta, C's delta is against B.
    assert browser.execute_script(
        "return document.querySelector('#rp-compare-summary tbody tr td:first-of-type .rp-delta')") is None
    assert browser.execute_script(
        "return document.querySelectorAll('#rp-compare-summary tbody tr td:nth-of-type(2) .rp-delta').length") > 0


def test_unknown_keys_get_a_clear_message(browser, site):
    _open(browser, (site / "compare.html").as_uri() + f"?runs={A},mnist/no-such-run,../../etc/passwd")
    box = browser.find_element("id", "rp-compare-failed")
    assert box.is_displayed()
    assert "Could not load 2 runs" in box.text and "mnist/no-such-run" in box.text
    assert _shown_lines(browser) == [A]
    console_errors(browser)   # the missing script's 404 is expected here
    click(browser, box.find_element("id", "rp-drop-failed"))
    assert f"runs={A}" in browser.current_url and "no-such-run" not in browser.current_url
    assert not browser.find_element("id", "rp-compare-failed").is_displayed()


def test_compare_over_http_under_a_sub_path(browser, site, serve_dir, request):
    base = serve_dir(site.parent, "team-logbook/")
    try:
        _open(browser, base + f"compare.html?runs={A},{C}")
        assert _shown_lines(browser) == sorted([A, C])
        link = browser.find_element("css selector", f"#rp-compare-runs tr[data-key='{A}'] a")
        assert urlparse(link.get_attribute("href")).path == \
            "/team-logbook/p/mnist/r/20261125-100000-run0-000000/index.html"
        click(browser, browser.find_element("css selector", f"#rp-compare-runs tr[data-key='{C}'] input.rp-visible"))
        assert _shown_lines(browser) == [A]
        assert console_errors(browser) == []
        assert foreign_resources(browser, base) == []
    except Exception:
        screenshot_on_failure(browser, request, "compare-http")
        raise


def test_runs_can_come_from_the_hash(browser, site):
    _open(browser, (site / "compare.html").as_uri() + f"#runs={A},{B}")
    assert _shown_lines(browser) == sorted([A, B])


MISALIGNED = """
const text = el => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect(); };
const out = [];
document.querySelectorAll('.rp-kv-compare').forEach(table => {
  const heads = [...table.querySelectorAll('thead th')].map(text);
  table.querySelectorAll('tbody tr').forEach(tr => {
    [...tr.children].forEach((td, j) => {
      if (!j || !td.firstChild) return;
      const v = text(td.firstChild.nodeType === 3 ? td : td.firstElementChild || td), h = heads[j];
      if (!h || v.width === 0) return;
      // a value lines up with its own run's header, on one edge or the other
      if (Math.abs(v.right - h.right) > 2 && Math.abs(v.left - h.left) > 2)
        out.push(tr.firstElementChild.textContent + ' col ' + j);
    });
  });
});
return out;"""


def test_compare_tables_line_each_value_up_with_its_runs_header(browser, site):
    _open(browser, (site / "compare.html").as_uri() + f"?runs={A},{B},{C}")
    wait_for(browser, "return document.querySelectorAll('.rp-kv-compare tbody tr').length > 3")
    wrong = browser.execute_script(MISALIGNED)
    assert not wrong, wrong[:8]
