"""The project and compare page builders: context and rendered HTML, without a browser."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from runpages.sitegen.logbook import Logbook, SiteMap
from runpages.sitegen.pages.compare import build_compare
from runpages.sitegen.pages.project import PAGE_ROWS, build_project
from runpages.sitegen.query import parse_query
from runpages.sitegen.reader import read_runs
from runpages.sitegen.render import Renderer
from runpages.sitegen.config import SiteConfig
from tests.pages.sites import NOW, write_project, write_run


@pytest.fixture
def projects(tmp_path: Path):
    runs = tmp_path / "runs"
    write_project(runs, "mnist", n=5)
    write_run(runs, "mnist", "20261125-150000-evil-eeeeee", name="<script>alert(1)</script>",
              user="\"><img src=x onerror=alert(1)>", config={"lr": 0.5, "note": "<b>bold</b>", "seed": 0},
              tags=["javascript:alert(1)"], summary={"val/acc": float("nan")})
    write_run(runs, "cifar", "20261125-160000-c-cccccc", name="c", config={"depth": 3})
    projects, problems = read_runs([runs], now=NOW)
    assert problems == []
    return {p.name: p for p in projects}


def _page(projects, name="mnist"):
    site = SiteMap(list(projects.values()))
    book = Logbook(config=SiteConfig(title="Logbook"), projects=list(projects.values()), site=site)
    return build_project(projects[name], book), site


def _render(page) -> str:
    return Renderer(None, globals={"site_title": "Logbook", "version": "test",
                                   "nav_reports": False, "nav_utilisation": False}).render(page)


def test_every_run_is_one_row_newest_first(projects):
    page, site = _page(projects)
    assert page.path == "p/mnist/index.html" and page.template == "project.html"
    rows = page.context["rows"]
    assert len(rows) == 6
    assert rows[0]["name"] == "<script>alert(1)</script>"        # started last
    assert {r["key"] for r in rows} == {site.key(r) for r in projects["mnist"].runs}


def test_columns_cover_run_fields_config_and_summary(projects):
    page, _ = _page(projects)
    cols = {c.key: c for c in page.context["columns"]}
    for key in ("status", "name", "user", "host", "start", "duration", "git", "tags", "group"):
        assert key in cols
    assert cols["config.lr"].type == "num" and not cols["config.lr"].hidden
    assert cols["config.seed"].hidden          # the same in every run: chosen off by default
    assert cols["config.optim"].type == "text"
    assert cols["val/acc"].group == "summary" and cols["val/acc"].type == "num"
    assert cols["tags"].type == "list"
    # Every column key finds its own cells through the filter language.
    for c in page.context["columns"]:
        assert parse_query(f'"{c.key}" != "~~~"').keys() == [c.key]


def test_row_values_follow_the_filter_language(projects):
    page, _ = _page(projects)
    cols = [c.key for c in page.context["columns"]]
    rows = []
    for r in page.context["rows"]:
        row = {}
        for key, cell in zip(cols, r["cells"]):
            row[key] = cell.get("tags") if key == "tags" else (cell["v"] if cell["v"] is not None else cell["text"])
        rows.append(row)
    q = parse_query("lr < 1e-3")
    assert sorted(r["name"] for r in rows if q.matches(r)) == ["run-0001", "run-0002"]
    q = parse_query("tag = baseline user = ana")
    assert sorted(r["name"] for r in rows if q.matches(r)) == ["run-0000", "run-0003"]


def test_rendered_page_escapes_everything_a_user_wrote(projects):
    page, _ = _page(projects)
    text = _render(page)
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text and "<b>bold</b>" not in text
    assert 'href="javascript:' not in text
    assert 'data-v="[&#34;javascript:alert(1)&#34;]"' in text
    # The hidden-columns style holds no escaped characters (autoescape would break CSS).
    style = re.search(r'<style id="rp-hidden-columns">(.*?)</style>', text, re.S).group(1)
    assert "&" not in style and "nth-child" in style


def test_numbers_show_compactly_with_the_full_value_in_the_title(projects):
    page, _ = _page(projects)
    text = _render(page)
    # The rule itself lives in tests/cases/values; here: the table uses it, full value in the title.
    assert 'data-v="0.0003" title="0.0003" class="num">3e-4</td>' in text
    cell = re.search(r'<td data-v="0.97425" title="0.97425" class="num">([^<]*)</td>', text)
    assert cell and cell.group(1) == "0.9742"


def test_links_are_relative_to_the_project_page(projects):
    page, _ = _page(projects)
    text = _render(page)
    assert 'href="r/20261125-100000-run0-000000/index.html"' in text
    assert 'data-root="../../"' in text
    assert 'src="../../_static/table.js"' in text
    assert 'data-src="../../data/projects/mnist.js"' in text


def test_big_projects_lay_out_the_first_page_of_rows_only(tmp_path: Path):
    runs = tmp_path / "runs"
    write_project(runs, "big", n=PAGE_ROWS + 5, steps=2)
    projects, _ = read_runs([runs], now=NOW)
    page = build_project(projects[0], Logbook(config=SiteConfig(), projects=projects, site=SiteMap(projects)))
    text = _render(page)
    assert text.count("<tr data-key=") == PAGE_ROWS + 5
    assert len(re.findall(r'<tr data-key="[^"]*" hidden>', text)) == 5
    assert "Show all 255 runs (5 more)" in text
    assert "<noscript><style>#rp-runs tbody tr[hidden]" in text   # without JS every row shows
    assert page.context["charts_open"] is False


def test_compare_page_lists_projects_for_the_empty_state(projects):
    site = SiteMap(list(projects.values()))
    page = build_compare(Logbook(config=SiteConfig(title="Logbook"), projects=list(projects.values()), site=site))
    assert page.path == "compare.html" and page.template == "compare.html"
    assert [p["name"] for p in page.context["projects"]] == ["cifar", "mnist"]
    text = _render(page)
    assert 'href="p/cifar/index.html"' in text and "(1 run)" in text and "(6 runs)" in text
    assert 'src="_static/compare.js"' in text and 'data-root=""' in text
