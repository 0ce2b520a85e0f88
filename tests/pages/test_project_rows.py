"""A large project's page without a browser: no HTML row per run, a columnar rows script holding
the same cells (escaped), the overlay rule's choice of runs, and the home page staying small."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from runpages.sitegen.logbook import Logbook, SiteMap
from runpages.sitegen.pages import project as project_page
from runpages.sitegen.pages.project import OVERLAY_MAX_RUNS, build_project, chart_runs, overlay_rule, run_cells
from runpages.sitegen.pages.project_rows import _pack, rows_payload, rows_script
from runpages.sitegen.config import SiteConfig
from runpages.sitegen.reader import read_runs
from runpages.sitegen.render import Renderer
from tests.pages.sites import NOW, build, write_project, write_run


def _unpack(a):
    return [a["d"][i] for i in a["i"]] if isinstance(a, dict) else a


@pytest.fixture
def big(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(project_page, "SERVER_ROWS_MAX", 10)
    runs = tmp_path / "runs"
    write_project(runs, "mnist", n=30, steps=3)
    write_run(runs, "mnist", "20261125-150000-evil-eeeeee", name="</script><script>alert(1)</script>",
              user="\u2028<b>", config={"lr": 0.5, "note": "<!--"}, tags=["<i>t</i>"], steps=3,
              summary={"val/acc": float("nan")})
    projects, problems = read_runs([runs], now=NOW)
    assert problems == []
    return projects[0], SiteMap(projects), runs


def _render(page) -> str:
    return Renderer(None, globals={"site_title": "Logbook", "version": "test",
                                   "nav_reports": False, "nav_utilisation": False}).render(page)


def test_a_large_project_page_has_no_row_per_run_and_loads_the_rows_script(big):
    project, site, _ = big
    page = build_project(project, Logbook(config=SiteConfig(), projects=[project], site=site))
    text = _render(page)
    assert text.count("<tr") == 1 and 'data-key="mnist/' not in text
    assert 'data-rows="../../data/projects/mnist.rows.js"' in text
    assert '<script src="../../data/projects/mnist.rows.js"></script>' in text
    assert text.index("mnist.rows.js\"></script>") < text.index("_static/table.js")
    assert 'id="rp-more"' not in text
    assert "showing 20 of 31 runs: the best by val/acc; filter to choose" in text


def test_rows_script_cells_are_the_html_cells(big):
    project, site, _ = big
    payload = rows_payload(project, site)
    columns, config_keys, summary_keys = project_page.project_columns(project)
    runs = project_page.table_runs(project)
    assert payload["n"] == len(runs) == 31
    assert payload["ids"] == [site.key(r).split("/", 1)[1] for r in runs]
    assert all(payload["url"][0] + i + payload["url"][1] == site.run_url(r) for i, r in zip(payload["ids"], runs))
    for j, col in enumerate(columns):
        values = _unpack(payload["columns"][j]["v"])
        texts = _unpack(payload["columns"][j].get("t")) or [None] * len(runs)
        titles = _unpack(payload["columns"][j].get("h")) or [None] * len(runs)
        for i, run in enumerate(runs):
            cell = run_cells(run, site, summary_keys, config_keys)[j]
            want = cell["tags"] if col.key == "tags" else (cell["v"] if cell["v"] is not None else cell["text"])
            assert values[i] == want, (col.key, i)
            assert (texts[i] if texts[i] is not None else (cell["text"] if col.key != "tags" else "")) == \
                (cell["text"] if col.key != "tags" else ""), (col.key, i)
            n = payload["columns"][j]["n"]
            assert bool(n if isinstance(n, int) else _unpack(n)[i]) == cell["num"], (col.key, i)
            title = values[i] if titles[i] == 1 else titles[i]
            assert (title or "") == cell["title"], (col.key, i)


def test_rows_script_keeps_user_text_from_ending_the_script(big):
    project, site, _ = big
    text = rows_script(project, site)
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert text.startswith('(window.RunpagesRows = window.RunpagesRows || {})["mnist"] = {')
    payload = json.loads(text[text.index("] = ") + 4:].rstrip().rstrip(";"))   # escapes are JSON too
    names = _unpack(payload["columns"][0]["v"])
    assert "</script><script>alert(1)</script>" in names


def test_repeated_values_are_stored_once():
    assert _pack(["ana", "bo", "ana", "ana", "bo", "ana", "ana", "bo"]) == {"d": ["ana", "bo"], "i": [0, 1, 0, 0, 1, 0, 0, 1]}
    distinct = [str(i) for i in range(8)]
    assert _pack(distinct) == distinct
    assert _pack([["a"]] * 7 + [["b"]]) == {"d": [["a"], ["b"]], "i": [0] * 7 + [1]}


def test_overlay_opens_with_the_best_runs_by_the_main_metric(big):
    project, site, _ = big
    rule = overlay_rule(project)
    assert rule == {"max": OVERLAY_MAX_RUNS, "metric": "val/acc", "direction": "max", "total": 31}
    chosen = chart_runs(project)
    assert len(chosen) == OVERLAY_MAX_RUNS
    acc = [r.summary["val/acc"] for r in chosen]
    assert acc == sorted(acc, reverse=True) and all(math.isfinite(a) for a in acc)
    rest = [r.summary["val/acc"] for r in project.runs if r not in chosen]
    assert max(a for a in rest if math.isfinite(a)) <= min(acc)       # NaN never outranks a number


def test_overlay_takes_the_newest_when_the_metric_has_no_direction(tmp_path: Path):
    runs = tmp_path / "runs"
    for i in range(25):
        write_run(runs, "p", f"20261125-1{i:05d}-r{i}-{i:06x}", name=f"r{i}", started_at=NOW - 1000 + i,
                  summary={"epoch": i}, steps=0)
    projects, _ = read_runs([runs], now=NOW)
    project = projects[0]
    project.configured_metric = "epoch"
    assert overlay_rule(project)["direction"] is None
    assert [r.name for r in chart_runs(project)] == [f"r{i}" for i in range(24, 4, -1)]


def test_the_build_writes_rows_only_for_large_projects_and_chart_data_only_for_the_overlay(tmp_path, monkeypatch):
    monkeypatch.setattr(project_page, "SERVER_ROWS_MAX", 10)
    runs = tmp_path / "runs"
    write_project(runs, "big", n=25, steps=3)
    write_project(runs, "small", n=4, steps=3)
    build(runs, tmp_path / "site")
    data = tmp_path / "site" / "data" / "projects"
    assert (data / "big.rows.js").is_file() and not (data / "small.rows.js").exists()
    big_data = (data / "big.js").read_text()
    assert big_data.count('"key":"big/') == OVERLAY_MAX_RUNS
    assert (data / "small.js").read_text().count('"key":"small/') == 4
    assert (tmp_path / "site" / "p" / "small" / "index.html").read_text().count('<tr data-key="small/') == 4
    # Nothing changed: the rows stay as they are; a new run rewrites them (and only that project's).
    assert "data/projects/big.rows.js" not in build(runs, tmp_path / "site").written
    write_run(runs, "big", "20261125-170000-new-ffffff", name="newcomer", steps=3)
    written = build(runs, tmp_path / "site").written
    assert "data/projects/big.rows.js" in written and "data/projects/small.js" not in written
    assert "newcomer" in (data / "big.rows.js").read_text()
    # Runs deleted down to the threshold: HTML rows again, and the rows script goes.
    import shutil
    for d in sorted((runs / "big").iterdir())[:16]:
        shutil.rmtree(d)
    result = build(runs, tmp_path / "site")
    assert "data/projects/big.rows.js" in result.removed and not (data / "big.rows.js").exists()
    assert (tmp_path / "site" / "p" / "big" / "index.html").read_text().count('<tr data-key="big/') == 10


def test_the_home_page_stays_small_whatever_the_number_of_runs(tmp_path):
    sizes = {}
    for n in (10, 400):
        runs = tmp_path / f"runs{n}"
        write_project(runs, "mnist", n=n, steps=2)
        build(runs, tmp_path / f"site{n}")
        html = (tmp_path / f"site{n}" / "index.html").read_text()
        assert "run-0001" not in html            # no per-run rows on the home page
        sizes[n] = len(html.encode())
    assert sizes[400] < sizes[10] + 4096, sizes
    pulse = re.search(r'<script type="application/json" id="pulse-data">(.*?)</script>', html, re.S).group(1)
    assert len(pulse) < 20_000


def test_best_so_far_on_the_home_page_is_bounded_when_every_run_improves(tmp_path):
    from runpages.sitegen.pages.index import BEST_MAX_STEPS, best_so_far

    runs = tmp_path / "runs"
    for i in range(BEST_MAX_STEPS * 3):
        write_run(runs, "p", f"20261125-1{i:05d}-r{i}-{i:06x}", name=f"r{i}", started_at=NOW - 10_000 + i,
                  summary={"val/loss": 1.0 / (1 + i)}, steps=0)
    projects, _ = read_runs([runs], now=NOW)
    best = best_so_far(projects[0])
    assert len(best["time"]) <= BEST_MAX_STEPS + 1
    assert best["best"] == best["value"][-1] == min(r.summary["val/loss"] for r in projects[0].runs)
    assert best["value"] == sorted(best["value"], reverse=True)


def test_cells_shared_between_rows_are_those_each_row_makes_alone(tmp_path):
    """run_cells shares a cell among rows with the same value (configs repeat): the same cells
    as made one row at a time, for -0.0 beside 0.0, NaN, True beside 1, text beside numbers."""
    runs = tmp_path / "runs"
    values = [0.0, -0.0, float("nan"), 1, True, "1", None, 1e-3, [1, 2], 0.001]
    for i, v in enumerate(values):
        write_run(runs, "p", f"20261125-1500{i:02d}-r{i}-aaaaa{i}", name=f"r{i}", config={"x": v, "lr": 0.1},
                  summary={"loss": v}, steps=2)
    (project,), _ = read_runs([runs], now=NOW)
    site = SiteMap([project])
    columns, config_keys, summary_keys = project_page.project_columns(project)
    made: dict = {}
    shared = [run_cells(r, site, summary_keys, config_keys, made) for r in project.runs]
    alone = [run_cells(r, site, summary_keys, config_keys) for r in project.runs]
    assert shared == alone and made
