"""The utilisation pages and the run card, rendered from run folders (no browser)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pages.sites import NOW, write_run


@dataclass
class Cfg:
    title: str = "Team logbook"
    idle_util_pct: float = 10.0
    gpu_hour_cost: float | None = 2.0
    kwh_cost: float | None = None


def _system(d: Path, rows: list[dict]) -> None:
    (d / "system.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _gpu_rows(t0: float, n: int, util: float, mem_pct: float, core: float = 50.0) -> list[dict]:
    return [{"_time": t0 + 10 * i, "gpu/0/util_pct": util, "gpu/0/mem_pct": mem_pct,
             "gpu/0/power_w": 200.0, "cpu/max_core_pct": core, "cpu/proc_pct": 100.0} for i in range(n)]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from runpages.sitegen.logbook import Logbook, SiteMap
    from runpages.sitegen.pages.utilisation import build_utilisation
    from runpages.sitegen.reader import read_runs
    from runpages.sitegen.render import Renderer

    root = tmp_path_factory.mktemp("usage-pages") / "runs"
    t0 = NOW - 7200
    d = write_run(root, "vision", "20261125-100000-slow-aaaaaa", name="<script>slow</script>", user="chen",
                  started_at=t0)
    _system(d, _gpu_rows(t0, 361, util=12.0, mem_pct=20.0, core=99.0))        # 1 GPU-hour at 12%
    d = write_run(root, "vision", "20261125-100001-good-bbbbbb", name="good", user="ana", started_at=t0)
    _system(d, _gpu_rows(t0, 181, util=95.0, mem_pct=70.0))                  # 0.5 GPU-hour at 95%
    d = write_run(root, "vision", "20261125-100002-cpu-cccccc", name="cpu-job", user="ana", started_at=t0)
    _system(d, [{"_time": t0 + 10 * i, "cpu/proc_pct": 300.0} for i in range(10)])
    d = write_run(root, "text", "20261125-100003-live-dddddd", name="live", user="bo", started_at=t0,
                  status="running")
    _system(d, _gpu_rows(t0, 31, util=80.0, mem_pct=60.0))
    write_run(root, "text", "20261125-100004-none-eeeeee", name="no-system", user="bo", started_at=t0)
    projects, _ = read_runs([str(root)], now=NOW)
    site = SiteMap(projects)
    cfg = Cfg()
    built = build_utilisation(Logbook(config=cfg, projects=projects, site=site))
    renderer = Renderer(None, globals={"site_title": cfg.title, "version": "test",
                                          "nav_reports": False, "nav_utilisation": True})
    return {p.path: (p, renderer.render(p)) for p in built}, projects, renderer, cfg


def test_one_page_per_project_and_one_for_the_site(pages):
    built, _, _, _ = pages
    assert sorted(built) == ["p/text/utilisation.html", "p/vision/utilisation.html", "utilisation.html"]


def test_worst_offender_first_with_numbers_and_reason(pages):
    built, _, _, _ = pages
    page, html = built["utilisation.html"]
    rows = page.context["rows"]
    assert [r["name"] for r in rows][:3] == ["<script>slow</script>", "good", "live"]   # 0.88, 0.025, 0.017
    top = dict(zip([h[0] for h in page.context["run_headers"]], (c["text"] for c in rows[0]["cells"])))
    assert top["GPU-hours"] == "1.000" and top["GPU util"] == "12%"
    assert top["wasted GPU-h"] == "0.880" and top["cost"] == "2.00"
    assert top["why"].startswith("input pipeline bound")
    assert page.context["headline"]["user"] == "chen"
    assert "&lt;script&gt;slow&lt;/script&gt;" in html and "<script>slow" not in html


def test_cpu_only_and_unsampled_runs_are_labelled_not_zero(pages):
    built, _, _, _ = pages
    rows = {r["name"]: r for r in built["utilisation.html"][0].context["rows"]}
    cpu = dict(zip([h[0] for h in built["utilisation.html"][0].context["run_headers"]],
                   (c["text"] for c in rows["cpu-job"]["cells"])))
    assert cpu["GPUs"] == "CPU-only" and cpu["GPU util"] == "" and cpu["wasted GPU-h"] == ""
    assert rows["no-system"]["kind"] == "no samples"
    users = {u["name"]: u for u in built["utilisation.html"][0].context["users"]}
    assert users["ana"]["cells"][2]["text"] == "1"          # one CPU-only run


def test_project_page_links_back_and_counts_only_its_runs(pages):
    built, _, _, _ = pages
    page, html = built["p/text/utilisation.html"]
    assert [r["name"] for r in page.context["rows"]] == ["live", "no-system"]
    assert 'href="../../utilisation.html"' in html and 'href="index.html"' in html


def test_a_large_site_page_lists_the_worst_runs_and_counts_them_all(pages, monkeypatch):
    from runpages.sitegen.logbook import Logbook, SiteMap
    from runpages.sitegen.pages import utilisation

    _, projects, renderer, cfg = pages
    monkeypatch.setattr(utilisation, "SITE_RUN_ROWS", 2)
    built = {p.path: p for p in utilisation.build_utilisation(Logbook(config=cfg, projects=projects,
                                                                       site=SiteMap(projects)))}
    site = built["utilisation.html"]
    assert [r["name"] for r in site.context["rows"]] == ["<script>slow</script>", "good"]
    assert site.context["total"]["cells"][0]["text"] == "5"            # the totals count every run
    assert sum(int(u["cells"][0]["text"]) for u in site.context["users"]) == 5
    html = renderer.render(site)
    assert "The 2 runs of 5 that wasted the most GPU-hours" in html
    assert len(built["p/vision/utilisation.html"].context["rows"]) == 3   # a project's page lists all
    assert "rp-usage-cut" not in renderer.render(built["p/vision/utilisation.html"])


def test_a_large_projects_page_lists_its_worst_runs_and_counts_them_all(pages, monkeypatch):
    from runpages.sitegen.logbook import Logbook, SiteMap
    from runpages.sitegen.pages import project as project_page, utilisation

    _, projects, renderer, cfg = pages
    monkeypatch.setattr(utilisation, "SITE_RUN_ROWS", 2)
    monkeypatch.setattr(project_page, "SERVER_ROWS_MAX", 2)        # vision's 3 runs make it large
    built = {p.path: p for p in utilisation.build_utilisation(Logbook(config=cfg, projects=projects,
                                                                       site=SiteMap(projects)))}
    page = built["p/vision/utilisation.html"]
    assert [r["name"] for r in page.context["rows"]] == ["<script>slow</script>", "good"]
    assert page.context["total"]["cells"][0]["text"] == "3"
    html = renderer.render(page)
    assert "The 2 runs of 3 that wasted the most GPU-hours; the project's table lists every run" in html


def test_run_card_renders_for_gpu_cpu_only_and_running_runs(pages):
    from runpages.sitegen.pages.utilisation import run_card

    _, projects, renderer, cfg = pages
    runs = {r.name: r for p in projects for r in p.runs}
    template = renderer.env.get_template("partials/utilisation_card.html")

    def card(name):
        return template.render(usage=run_card(runs[name], cfg), page_path="p/x/r/y/index.html")

    slow = card("<script>slow</script>")
    assert "input pipeline bound" in slow and "1.000" in slow and "../../../../_static/utilisation.css" in slow
    assert "none sampled (CPU-only)" in card("cpu-job")
    assert "<h3>CPU utilisation" in card("cpu-job") and "<h3>GPU utilisation" in slow
    assert "(so far)" in card("live")
    assert "No system samples" in card("no-system")


def test_project_page_offers_grouping_by_group_and_shared_config_values(tmp_path):
    from runpages.sitegen.logbook import Logbook, SiteMap
    from runpages.sitegen.pages.project import build_project
    from runpages.sitegen.reader import read_runs
    from tests.pages.sites import write_project

    write_project(tmp_path / "runs", "mnist", n=6)
    projects, _ = read_runs([str(tmp_path / "runs")], now=NOW)
    page = build_project(projects[0], Logbook(config=Cfg(), projects=projects, site=SiteMap(projects)))
    keys = [k for k, _ in page.context["group_options"]]
    # seed is the same everywhere (one group: not offered); lr differs in every run of six.
    assert keys[0] == "group" and "config.batch_size" in keys and "config.optim" in keys
    assert "config.seed" not in keys
    assert page.context["utilisation_url"] == "p/mnist/utilisation.html"
