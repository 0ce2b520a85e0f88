from pathlib import Path

from runfolders import T0, write_run
from runpages.sitegen.logbook import SiteMap, load_logbook
from runpages.sitegen.config import SiteConfig
from runpages.sitegen.pages.index import best_so_far, build_index, runs_per_day
from runpages.sitegen.logbook import console_tail
from runpages.sitegen.downloads import plan_downloads
from runpages.sitegen.pages.run import build_run
from runpages.sitegen.reader import read_runs


def _read(d):
    projects, problems = read_runs([d])
    return projects, SiteMap(projects)


def test_runs_per_day_counts_each_user(tmp_path):
    for i, user in enumerate(["ana", "ana", "bo"]):
        write_run(tmp_path, "p", f"r{i}", run_id=f"2025112{i}-000000-r{i}-abcdef", t0=T0 + i * 86400 * 2,
                  meta={"user": user})
    projects, _ = _read(tmp_path)
    pulse = runs_per_day(projects)
    assert len(pulse["days"]) == 5
    assert sum(pulse["users"]["ana"]) == 2 and sum(pulse["users"]["bo"]) == 1
    assert list(pulse["users"]) == ["ana", "bo"]


def test_best_so_far_only_improves(tmp_path):
    for i, acc in enumerate([0.5, 0.7, 0.6, 0.9]):
        write_run(tmp_path, "p", f"r{i}", run_id=f"2025112{i}-000000-r{i}-abcdef", t0=T0 + i * 3600,
                  summary={"val/acc": acc})
    projects, _ = _read(tmp_path)
    best = best_so_far(projects[0])
    assert best["metric"] == "val/acc" and best["direction"] == "max"
    assert best["value"] == [0.5, 0.7, 0.9, 0.9]


def test_index_page_lists_projects_newest_first(tmp_path):
    write_run(tmp_path, "old", "a", t0=T0)
    write_run(tmp_path, "new", "b", t0=T0 + 86400)
    page = build_index(load_logbook(SiteConfig(runs_dirs=[tmp_path])))
    assert page.path == "index.html"
    assert [p["name"] for p in page.context["projects"]] == ["new", "old"]
    assert page.context["projects"][0]["url"] == "p/new/index.html"


def test_run_page_context_and_downloads(tmp_path):
    write_run(tmp_path, "p", "a", artifacts={"m.pt": b"x" * 10}, console="line\n" * 10)
    config = SiteConfig(runs_dirs=[tmp_path])
    book = load_logbook(config)
    site, run = book.site, book.projects[0].runs[0]
    plan = plan_downloads(run, site, config)
    page = build_run(run, book, plan)
    assert page.path == site.run_url(run) and page.template == "run.html"
    ctx = page.context
    assert ctx["data_script"] == site.run_data(run)
    assert ctx["git"]["short"] == "0123456" and ctx["git"]["dirty"]
    assert ctx["command"] == "python train.py --lr 1e-3"
    assert plan.csv is None            # made in the browser from the copied metrics.jsonl
    (csv,) = [d for d in plan.links if d["label"] == "metrics (CSV, full resolution)"]
    assert csv["csv_from"] == site.files_dir(run) + "metrics.jsonl" and csv["ended"] is True
    assert {Path(p).name for p in plan.copies} >= {"metrics.jsonl", "system.jsonl", "console.log", "m.pt"}
    assert plan.artifacts[0]["url"].endswith("artifacts/m.pt")


def test_console_tail_of_a_huge_log(tmp_path):
    write_run(tmp_path, "p", "a", console="".join(f"line {i}\n" for i in range(100_000)))
    projects, _ = _read(tmp_path)
    text, cut = console_tail(projects[0].runs[0])
    assert cut and text.endswith("line 99999\n") and text.startswith("line ")
    assert len(text) <= 64 * 1024


def test_identical_gpus_are_counted_not_repeated():
    from runpages.sitegen.pages.run import gpu_summary

    assert gpu_summary(["NVIDIA H100", "NVIDIA H100"]) == "2 \u00d7 NVIDIA H100"
    assert gpu_summary(["NVIDIA H100", "NVIDIA L4"]) == "NVIDIA H100, NVIDIA L4"
    assert gpu_summary([]) == ""
