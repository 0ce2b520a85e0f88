"""A large project's page in headless Chromium: rows from the columnar rows script, laid out on
demand, filtered by the same language as ``sitegen/query.py``; overlay charts capped at N runs
with a note that says which.

The small sites here lower ``pages.project.SERVER_ROWS_MAX`` so a few dozen runs take the large
path; the 2,000-run site takes it at the real threshold.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from runpages.sitegen.query import parse_query, to_number
from tests.browser.conftest import console_errors, screenshot_on_failure
from tests.pages.sites import build, write_project, write_run
from tests.site.browser_helpers import wait_for

pytestmark = pytest.mark.browser
PROJECT = "mnist"
N = 60


def _unpack(a):
    return [a["d"][i] for i in a["i"]] if isinstance(a, dict) else a


def _python_rows(runs_dir: Path) -> list[dict]:
    """The table's rows as the build sees them: key and the values the filter language reads."""
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.logbook import load_logbook
    from runpages.sitegen.pages.project import project_columns
    from runpages.sitegen.pages.project_rows import rows_payload

    book = load_logbook(SiteConfig(runs_dirs=[runs_dir], output=runs_dir.parent / "unused"))
    project = next(p for p in book.projects if p.name == PROJECT)
    payload = rows_payload(project, book.site)
    columns = project_columns(project)[0]
    values = [_unpack(c["v"]) for c in payload["columns"]]
    return [{"key": f"{PROJECT}/{rid}", "values": {col.key: values[j][i] for j, col in enumerate(columns)}}
            for i, rid in enumerate(payload["ids"])]


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """60 runs on the large path (threshold lowered to 10), plus hostile names."""
    root = tmp_path_factory.mktemp("large-project")
    runs = root / "runs"
    write_project(runs, PROJECT, n=N, steps=6)
    write_run(runs, PROJECT, "20261125-130000-evil-cccccc", name="<img src=x onerror=window.pwned=1>",
              config={"lr": 0.5, "note": "<b>bold</b>"}, tags=["<i>t</i>"], steps=6,
              summary={"val/acc": math.nan})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("runpages.sitegen.pages.project.SERVER_ROWS_MAX", 10)
        build(runs, root / "site")
        rows = _python_rows(runs)
    build(runs, root / "html-site")            # the same runs as HTML rows, to compare cells with
    return root / "site", rows


def _open(browser, site: Path):
    browser.get((site / "p" / PROJECT / "index.html").as_uri())
    wait_for(browser, "return !!(window.RunpagesTable && window.RunpagesTable.ready)")


def _sorted_keys(rows, query: str, key: str, desc: bool, numeric: bool = True) -> list[str]:
    """What the page must show: the query through sitegen/query.py, then the table's sort rule
    (numbers or lower-cased text; empty and NaN last either way; ties in the table's first order)."""
    import functools

    q = parse_query(query)
    hits = [(i, r) for i, r in enumerate(rows) if q.matches(r["values"])]

    def sort_key(r):
        v = r["values"].get(key)
        if isinstance(v, list):
            v = ", ".join(v)
        if numeric:
            n = to_number(v)
            return None if n is None or math.isnan(n) else n
        return None if v in (None, "") else str(v).lower()

    def cmp(a, b):
        x, y = sort_key(a[1]), sort_key(b[1])
        if x == y:
            return a[0] - b[0]
        if x is None:
            return 1
        if y is None:
            return -1
        return (-1 if x < y else 1) * (-1 if desc else 1)
    return [r["key"] for _, r in sorted(hits, key=functools.cmp_to_key(cmp))]


QUERIES = ["", "lr < 1e-3", "user = ana", "tag = baseline status != finished", "run-00",
           "optim ~ ad lr >= 3e-4", "note ~ bold"]


def test_virtual_rows_match_the_filter_language_in_python(browser, large, request):
    site, rows = large
    _open(browser, site)
    try:
        assert browser.execute_script("return RunpagesTable.virtual") is True
        assert browser.execute_script("return document.querySelectorAll('#rp-runs tbody tr[data-key]').length") <= 60
        for query in QUERIES:
            for key, desc, numeric in (("val/acc", True, True), ("config.lr", False, True),
                                       ("config.lr", True, True), ("user", True, False), ("name", False, False)):
                want = _sorted_keys(rows, query, key, desc, numeric)
                got = browser.execute_script(
                    "RunpagesTable.query(arguments[0]); RunpagesTable.sortBy(arguments[1], arguments[2]);"
                    "return RunpagesTable.visibleKeys();", query, key, desc)
                assert got == want, (query, key)
                # The rows laid out are the first of that order, in that order.
                shown = browser.execute_script("return RunpagesTable.renderedKeys()")
                assert shown == want[:len(shown)] and len(shown) >= min(len(want), 10)
        count = browser.execute_script("RunpagesTable.query('user = bo'); return document.getElementById('rp-count').textContent")
        assert count == f"{sum(1 for r in rows if r['values']['user'] == 'bo')} of {N + 1} runs"
        assert browser.execute_script("return window.pwned") is None
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, "large-project-filter")
        raise


def test_hostile_names_and_configs_stay_text_in_laid_out_rows(browser, large):
    site, _ = large
    _open(browser, site)
    cell = browser.execute_script("""
        RunpagesTable.query('note ~ bold');
        const tr = document.querySelector('#rp-runs tbody tr[data-key]');
        return {link: tr.querySelector('a').textContent, href: tr.querySelector('a').getAttribute('href'),
                tags: Array.from(tr.querySelectorAll('.tag')).map(t => t.textContent),
                img: document.querySelectorAll('#rp-runs img, #rp-runs b, #rp-runs i').length};""")
    assert cell["link"] == "<img src=x onerror=window.pwned=1>"
    assert cell["tags"] == ["<i>t</i>"] and cell["img"] == 0
    assert (site / "p" / PROJECT / cell["href"]).resolve().is_file()
    assert browser.execute_script("return window.pwned") is None


CELLS = """
    return Array.from(document.querySelectorAll('#rp-runs tbody tr[data-key]')).slice(0, arguments[0]).map(tr =>
      [tr.dataset.key, tr.querySelector('input.rp-tick').getAttribute('aria-label')].concat(Array.from(tr.cells).slice(1).map(td =>
        [td.textContent, td.title, td.className, Array.from(td.children).map(e => e.tagName + '.' + e.className + ' ' +
         (e.href ? e.href.slice(e.href.indexOf('/p/')) : '')).join('|')])));"""


def test_laid_out_rows_show_what_html_rows_show(browser, large):
    site, _ = large
    html_site = site.parent / "html-site"
    got = {}
    for which, root in (("virtual", site), ("html", html_site)):
        _open(browser, root)
        assert browser.execute_script("return RunpagesTable.virtual") is (which == "virtual")
        got[which] = browser.execute_script("RunpagesTable.sortBy('name', false);" + CELLS, 25)
    assert len(got["virtual"]) == 25
    diffs = [(v[0], j, a, b) for v, h in zip(got["virtual"], got["html"]) for j, (a, b) in enumerate(zip(v, h)) if a != b]
    assert not diffs, diffs[:6]


def test_scrolling_lays_out_the_rows_in_view(browser, large):
    site, rows = large
    _open(browser, site)
    keys = browser.execute_script("RunpagesTable.sortBy('name', false); return RunpagesTable.visibleKeys()")
    assert len(keys) == N + 1
    first = browser.execute_script("return RunpagesTable.renderedKeys()")
    assert first[0] == keys[0] and keys[-1] not in first
    # Scroll the table's box so row 40 is at its top: rows around 40 are laid out, row 0 is not.
    browser.execute_script("""
        const wrap = document.querySelector('.rp-table-wrap'), t = RunpagesTable;
        wrap.scrollTop = document.querySelector('#rp-runs thead').offsetHeight + 40 * t.rowHeight;""")
    # The first window (scrollTop 0) already reaches row 40 with its overscan, so wait for the
    # scroll's own layout: row 0 gone, row 40 there.
    wait_for(browser, "const r = RunpagesTable.renderedKeys(); return r.indexOf(%r) === -1 && r.indexOf(%r) !== -1"
             % (keys[0], keys[40]))
    shown = browser.execute_script("return RunpagesTable.renderedKeys()")
    assert keys[0] not in shown and keys[40] in shown
    assert shown == keys[keys.index(shown[0]):keys.index(shown[0]) + len(shown)]
    # The row at the box's top is row 40 (one measured height places every row).
    top = browser.execute_script("""
        const wrap = document.querySelector('.rp-table-wrap');
        window.scrollTo(0, wrap.getBoundingClientRect().top + window.scrollY - 100);   // below the top bar
        const box = wrap.getBoundingClientRect();
        const head = document.querySelector('#rp-runs thead th').getBoundingClientRect().bottom;
        const el = document.elementFromPoint(box.left + 60, head + 5);
        const tr = el && el.closest('tr[data-key]'); return tr ? tr.getAttribute('data-key') : null;""")
    assert top in keys[39:42]
    # A tick survives its row leaving the view and coming back.
    browser.execute_script("""
        const box = document.querySelector('#rp-runs tbody tr[data-key="' + arguments[0] + '"] input.rp-tick');
        box.click();""", keys[40])
    browser.execute_script("document.querySelector('.rp-table-wrap').scrollTop = 0")
    wait_for(browser, "return RunpagesTable.renderedKeys()[0] === arguments[0]".replace("arguments[0]", repr(keys[0])))
    assert browser.execute_script("return RunpagesTable.selectedKeys()") == [keys[40]]
    browser.execute_script("RunpagesTable.clearTicks()")


def test_columns_groups_ticks_and_csv_work_on_the_large_path(browser, large, request):
    site, rows = large
    _open(browser, site)
    try:
        # The column chooser hides a column in the rows laid out (and those laid out later).
        hidden = browser.execute_script("""
            const box = document.querySelector('#rp-column-menu input[data-key="user"]');
            box.click();
            const idx = Array.from(document.querySelectorAll('#rp-runs thead th')).findIndex(th => th.dataset.key === 'user');
            const td = document.querySelector('#rp-runs tbody tr[data-key]').cells[idx];
            const out = getComputedStyle(td).display;
            box.click();
            return [out, getComputedStyle(document.querySelector('#rp-runs tbody tr[data-key]').cells[idx]).display];""")
        assert hidden == ["none", "table-cell"]
        # Grouping: one row per optimiser, members laid out once their group opens.
        out = browser.execute_script("""
            const t = RunpagesTable;
            t.setGrouping('config.optim');
            const groups = Array.from(document.querySelectorAll('#rp-runs tbody tr.rp-group-row')).map(tr => tr.dataset.group);
            const before = t.renderedKeys().length;
            t.toggleGroup('adam', true);
            return {groups: groups, before: before, after: t.renderedKeys().length,
                    count: document.getElementById('rp-count').textContent};""")
        optims = {r["values"]["config.optim"] for r in rows}
        adam = sum(1 for r in rows if r["values"]["config.optim"] == "adam")
        assert sorted(out["groups"]) == sorted(optims) and out["before"] == 0
        assert out["after"] == adam and out["count"] == f"{N + 1} runs in {len(optims)} groups"
        browser.execute_script("RunpagesTable.setGrouping('')")
        # Tick two rows: selectedKeys in table order, the compare link first ticked first (its
        # baseline); the CSV holds the filter's rows.
        keys = browser.execute_script("""
            RunpagesTable.query('user = ana');
            const boxes = document.querySelectorAll('#rp-runs tbody tr[data-key] input.rp-tick');
            boxes[1].click(); boxes[0].click();
            return RunpagesTable.selectedKeys();""")
        want = [r["key"] for r in rows if r["values"]["user"] == "ana"][:2]
        assert keys == want
        href = browser.execute_script("return document.getElementById('rp-compare').getAttribute('href')")
        assert href.endswith("compare.html?runs=" + ",".join([want[1], want[0]]))
        csv_lines = browser.execute_script("return RunpagesTable.csv().trim().split('\\r\\n').length")
        assert csv_lines == 1 + sum(1 for r in rows if r["values"]["user"] == "ana")
        browser.execute_script("RunpagesTable.clearTicks(); RunpagesTable.query('')")
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, "large-project-parts")
        raise


def _wait_drawn(browser, js: str, want: list[str], timeout: float = 30.0):
    end = time.time() + timeout
    got = None
    while time.time() < end:
        got = browser.execute_script(js)
        if got == want:
            return
        time.sleep(0.1)
    assert got == want


def test_overlay_charts_draw_at_most_twenty_runs_and_say_so(browser, large):
    from runpages.sitegen.pages.project import OVERLAY_MAX_RUNS

    site, rows = large
    _open(browser, site)
    wait_for(browser, "return RunpagesTable.chartsReady && RunpagesTable.overlay", timeout=60)
    note = browser.execute_script("return document.getElementById('rp-overlay-note').textContent")
    assert note == f"showing {OVERLAY_MAX_RUNS} of {N + 1} runs: the best by val/acc; filter to choose"

    def best(keys):
        acc = {r["key"]: to_number(r["values"]["val/acc"]) for r in rows}
        order = {r["key"]: i for i, r in enumerate(rows)}
        ranked = sorted(keys, key=lambda k: (acc[k] is None or math.isnan(acc[k]), -(acc[k] or 0), order[k]))
        return ranked[:OVERLAY_MAX_RUNS]

    drawn = """const p = RunpagesTable.charts.plots['train/loss'];
        return Object.entries(p.renderers).filter(([k, rs]) => rs.some(r => r.visible)).map(([k]) => k).sort();"""
    assert browser.execute_script(drawn) == sorted(best([r["key"] for r in rows]))
    # Filter to 30 runs (sgd): the best 20 of those, some outside the project's chart data, are drawn.
    want = [r["key"] for r in rows if parse_query("optim = sgd").matches(r["values"])]
    assert len(want) > OVERLAY_MAX_RUNS
    browser.execute_script("RunpagesTable.query('optim = sgd')")
    wait_for(browser, "return document.getElementById('rp-overlay-note').textContent.indexOf('matching') !== -1"
             " && RunpagesTable.chartsReady")
    assert browser.execute_script("return document.getElementById('rp-overlay-note').textContent") == \
        f"showing {OVERLAY_MAX_RUNS} of {len(want)} matching runs: the best by val/acc; filter to choose"
    _wait_drawn(browser, drawn, sorted(best(want)))
    # Few enough: every matching run is drawn and the note goes away.
    browser.execute_script("RunpagesTable.query('user = cy lr < 1e-3')")
    few = [r["key"] for r in rows if parse_query("user = cy lr < 1e-3").matches(r["values"])]
    assert 0 < len(few) <= OVERLAY_MAX_RUNS
    wait_for(browser, "return document.getElementById('rp-overlay-note').hidden && RunpagesTable.chartsReady")
    _wait_drawn(browser, drawn, sorted(few))
    assert console_errors(browser) == []


@pytest.fixture(scope="module")
def two_thousand(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("two-thousand")
    write_project(root / "runs", PROJECT, n=2000, steps=2)
    build(root / "runs", root / "site")
    return root / "site"


@pytest.mark.slow
def test_a_two_thousand_run_project_page_stays_usable(browser, two_thousand, serve_dir, request):
    base = serve_dir(two_thousand)
    browser.get(base + f"p/{PROJECT}/index.html")
    wait_for(browser, "return !!(window.RunpagesTable && window.RunpagesTable.ready)", timeout=60)
    try:
        html = (two_thousand / "p" / PROJECT / "index.html").read_text()
        assert html.count("<tr") == 1                  # the header row only: no <tr> per run
        out = browser.execute_script("""
            const t = RunpagesTable;
            const o = {laid: document.querySelectorAll('#rp-runs tbody tr[data-key]').length,
                       rows: t.rows().length, count: document.getElementById('rp-count').textContent};
            t.query('user = ana lr < 1e-3'); o.shown = t.visibleKeys().length; o.filterMs = t.lastFilterMs;
            t.sortBy('val/acc', true); o.sortMs = t.lastSortMs;
            o.first = t.renderedKeys()[0] === t.visibleKeys()[0];
            t.query('');
            const wrap = document.querySelector('.rp-table-wrap'); wrap.scrollTop = wrap.scrollHeight;
            return o;""")
        assert out["rows"] == 2000 and out["count"] == "2000 runs" and out["laid"] < 120
        assert 0 < out["shown"] < 2000 and out["first"]
        last = browser.execute_script("return RunpagesTable.visibleKeys()[1999]")
        wait_for(browser, f"return RunpagesTable.renderedKeys().indexOf({last!r}) !== -1")
        assert browser.execute_script("return document.querySelectorAll('#rp-runs tbody tr[data-key]').length") < 120
        # The note counts every run of the project; the charts section opens on demand.
        assert "showing 20 of 2,000 runs" in browser.execute_script(
            "return document.getElementById('rp-overlay-note').textContent")
        assert console_errors(browser) == []
    except Exception:
        screenshot_on_failure(browser, request, "two-thousand-runs")
        raise


def test_the_large_table_at_phone_width_scrolls_in_its_box_not_the_page(browser, large, request):
    from tests.browser.test_phone_width import OVERFLOW

    site, _ = large
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        _open(browser, site)
        scroll, width, culprits = browser.execute_script(OVERFLOW)
        assert scroll <= width and not culprits, (scroll, width, culprits)
        laid = browser.execute_script("return RunpagesTable.renderedKeys().length")
        assert 10 <= laid <= 80
        browser.execute_script("document.querySelector('.rp-table-wrap').scrollTop = 25 * RunpagesTable.rowHeight")
        wait_for(browser, "return RunpagesTable.renderedKeys()[0] !== RunpagesTable.visibleKeys()[0]")
    except Exception:
        screenshot_on_failure(browser, request, "large-project-phone")
        raise
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
