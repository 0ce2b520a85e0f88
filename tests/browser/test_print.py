"""Printing a run page or a report to PDF keeps every chart whole (print CSS: break-inside: avoid).

Chromium's Page.printToPDF makes the PDF; each chart's canvas becomes an image in it. A chart
cut by a page break is one image drawn on two pages, so: every chart image on exactly one page.
The same page printed with the rule switched off must show a cut chart, or the check proves nothing.
"""
from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import pytest

from tests.browser.conftest import console_errors
from tests.conftest import T0, log_run
from tests.site.browser_helpers import wait_canvases, wait_for

pytestmark = pytest.mark.browser
METRICS = {f"train/m{i}": (lambda s, i=i: math.sin(s / (3 + i)) + i) for i in range(9)}
RUN = "p/demo/r/20251124-160000-long-abc123/index.html"
REPORT = "---\ntitle: Printed\n---\n# Printed\n" + "".join(
    f"\nSome words about m{i}.\n\n```chart\nruns: project = demo\nmetric: train/m{i}\n```\n" for i in range(7))
NO_AVOID = ("var s = document.createElement('style'); s.textContent = '* { break-inside: auto !important;"
            " page-break-inside: auto !important; }'; document.head.appendChild(s);")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    tmp = tmp_path_factory.mktemp("print")
    runs = tmp / "runs"
    log_run(runs, project="demo", name="long", run_id="20251124-160000-long-abc123", steps=40, metrics=METRICS)
    log_run(runs, project="demo", name="short", run_id="20251124-170000-short-abc123", steps=30,
            metrics=METRICS, t0=T0 + 3600)
    reports = tmp / "reports"
    reports.mkdir()
    (reports / "printed.md").write_text(REPORT, encoding="utf-8")
    build_site(SiteConfig(runs_dirs=[runs], output=tmp / "site", reports_dir=reports))
    return tmp / "site"


def _chart_images(browser) -> tuple[int, dict[int, set[int]]]:
    """(pages, {image object: pages it is drawn on}) of the page printed on A4."""
    import pypdf

    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69, "printBackground": True})
    reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(pdf["data"])))
    where: dict[int, set[int]] = {}
    for n, page in enumerate(reader.pages):
        for obj in (page["/Resources"].get("/XObject") or {}).values():
            image = obj.get_object()
            # chart canvases; the toolbar's 20 px logo is not a chart
            if image.get("/Subtype") == "/Image" and int(image.get("/Width", 0)) >= 200:
                where.setdefault(obj.idnum, set()).add(n)
    return len(reader.pages), where


@pytest.mark.parametrize("page, cells", [(RUN, "#run-charts .rp-chart-cell"), ("reports/printed.html", ".rp-block .rp-chart-cell")])
def test_printing_to_pdf_keeps_every_chart_whole(browser, site, page, cells):
    browser.get((site / page).as_uri())
    wait_for(browser, "return document.querySelector('[data-ready], [data-report-ready]')")
    n = len(wait_canvases(browser, cells))
    assert n >= 7
    pages, where = _chart_images(browser)
    assert pages >= 2 and len(where) >= n                # long enough to break; every chart printed
    cut = {img: on for img, on in where.items() if len(on) > 1}
    assert not cut, f"charts split across pages: {cut}"
    assert not console_errors(browser)
    # the control: without the print rule the same page does cut a chart
    browser.execute_script(NO_AVOID)
    _, where = _chart_images(browser)
    assert any(len(on) > 1 for on in where.values())
