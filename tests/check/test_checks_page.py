"""The project's checks page, from the records that ``runpages check`` keeps next to the runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from runpages_cli import make_parser


def _check(runs, *argv, now):
    from runpages.sitegen.check import check

    args = make_parser().parse_args(["check", str(runs), *argv])
    record, _notes = check(args, env={}, now=now)
    return record


@pytest.fixture
def checked(check_run):
    check_run("main", series={"val/acc": [0.5, 0.90]}, commit="a" * 40)
    good = check_run("good", branch="feat", series={"val/acc": [0.5, 0.91]}, commit="b" * 40)
    bad = check_run("<b>bad</b>", branch="feat", series={"val/acc": [0.5, 0.85]}, commit="c" * 40)
    rule = ["--baseline-branch", "main", "--rule", "val/acc:max:0.01"]
    assert _check(check_run.runs, "--run", good, *rule, now=1_800_000_000.0)["verdict"] == "holds"
    assert _check(check_run.runs, "--run", bad, *rule, now=1_800_000_100.0)["verdict"] == "regressed"
    assert _check(check_run.runs, "--run", bad, "--rule", "val/f1:max:0.1", "--baseline-branch", "main",
                  now=1_800_000_200.0)["verdict"] == "error"
    return check_run.runs


def _page(runs):
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.logbook import load_logbook
    from runpages.sitegen.pages.checks import build_checks
    from runpages.sitegen.render import Renderer

    book = load_logbook(SiteConfig(runs_dirs=[runs]))
    page = build_checks(book.projects[0], book)
    html = Renderer(None, globals={"site_title": "Team", "version": "0"}).render(page) if page else None
    return page, html


def test_checks_page_shows_verdicts_trend_and_regressed_commits(checked):
    records = sorted((checked / "mnist" / ".checks").glob("*.json"))
    assert len(records) == 3 and records[0].name.startswith("20270115-")
    page, html = _page(checked)
    assert page.path == "p/mnist/checks.html"
    assert "3 checks" in html
    assert html.count('class="rp-check-') == 3
    # newest first: could-not-judge, regressed, holds
    order = [html.index(f'rp-check-{v}') for v in ("error", "regressed", "holds")]
    assert order == sorted(order)
    regressed = html.split("Commits that regressed")[1].split("All checks")[0]
    assert "<code>ccccccc</code> on feat" in regressed and "bbbbbbb" not in regressed
    assert 'data-metric="val/acc (summary, max)"' in html and "<polyline" in html
    assert "<b>bad</b>" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html
    assert 'href="r/' in html                  # candidate links to its run page, relatively
    assert "the candidate run has no value for" in html


def test_project_without_checks_has_no_checks_page_nor_link(check_run, tmp_path):
    check_run("main", series={"val/acc": [0.9]})
    page, _ = _page(check_run.runs)
    assert page is None
    project_dir = _build(check_run.runs, tmp_path / "site")
    assert not (project_dir / "checks.html").exists()
    assert "checks.html" not in (project_dir / "index.html").read_text()


def _build(runs, out):
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    build_site(SiteConfig(runs_dirs=[Path(runs)], output=out))
    return out / "p" / "mnist"


def test_full_build_writes_the_checks_page(checked, tmp_path):
    project_dir = _build(checked, tmp_path / "site")
    assert (project_dir / "checks.html").exists()
    assert "Checks: mnist" in (project_dir / "checks.html").read_text()


def test_project_page_links_to_its_checks(checked, tmp_path):
    project_dir = _build(checked, tmp_path / "site")
    assert 'href="checks.html"' in (project_dir / "index.html").read_text()


def test_a_new_check_shows_after_the_next_build(checked, tmp_path):
    project_dir = _build(checked, tmp_path / "site")
    assert (project_dir / "checks.html").exists()
    assert (project_dir / "checks.html").read_text().count('class="rp-check-') == 3
    _check(checked, "--baseline-branch", "main", "--rule", "val/acc:max:0.5", now=1_800_000_300.0)
    _build(checked, tmp_path / "site")            # nothing else changed: the build's fast path
    assert (project_dir / "checks.html").read_text().count('class="rp-check-') == 4


def test_a_re_run_check_is_listed_once_and_a_mean_baseline_links_to_every_run(checked, check_run):
    rule = ["--baseline-branch", "main", "--rule", "val/acc:max:0.01"]
    bad = next(p.name for p in (checked / "mnist").iterdir() if "bad" in p.name)
    _check(checked, "--run", bad, *rule, now=1_800_000_400.0)         # CI re-ran the same check
    page, html = _page(checked)
    assert html.count('class="rp-check-') == 3 and "&times;2" in html
    seeds = [check_run(f"seed{i}", series={"val/acc": [0.9 + i / 100]}) for i in range(2)]
    _check(checked, "--run", bad, "--baseline", seeds[0], "--baseline", seeds[1], "--rule",
           "val/acc:max:0.01", now=1_800_000_500.0)
    page, html = _page(checked)
    mean = html.split("mean of ", 1)[1].split("</span>", 1)[0]
    assert mean.count("<a href=") == 2 and "seed0" in mean and "seed1" in mean
