"""Report pages in the build, export to one file, new-report, and the Markdown invariants."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from site_with_reports import build_with_reports

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "reports"


def _config(runs, out, **kw):
    from runpages.sitegen.config import SiteConfig

    return SiteConfig(runs_dirs=[runs], output=out, **kw)


@pytest.fixture
def reports_folder(logbook, tmp_path):
    folder = tmp_path / "reports"
    (folder / "img").mkdir(parents=True)
    (folder / "img" / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (folder / "old.md").write_text("---\ntitle: Old one\nauthor: ben\ndate: 2026-11-01\n---\n"
                                   "See [the new one](new.md).\n\n```chart\nruns: user = chen\nmetric: val/acc\n```\n")
    (folder / "new.md").write_text("---\ntitle: New one\nauthor: ana\ndate: 2026-11-20\n---\n"
                                   "![plot](img/plot.png)\n\n```runs\nruns: user = ana\n```\n\n"
                                   "```chart\nruns: user = bob\n```\n")
    return folder


def test_reports_become_pages_listed_newest_first_with_problems(logbook, reports_folder, tmp_path):
    out, built = build_with_reports(_config(logbook, tmp_path / "site", reports_dir=reports_folder))
    assert [p.path for p in built.pages] == ["reports/new.html", "reports/old.html", "reports/index.html"]
    assert [(r["title"], r["author"], r["date"]) for r in built.listing] == [
        ("New one", "ana", "2026-11-20"), ("Old one", "ben", "2026-11-01")]
    assert [str(p) for p in built.problems] == ["reports/new.md:13: chart: no run matches 'user = bob'"]
    assert built.copies == {"reports/img/plot.png": reports_folder / "img" / "plot.png"}
    assert (out / "reports" / "img" / "plot.png").read_bytes().startswith(b"\x89PNG")
    old = (out / "reports" / "old.html").read_text()
    assert '<a href="new.html">the new one</a>' in old
    index = (out / "reports" / "index.html").read_text()
    assert index.index("New one") < index.index("Old one")
    # Each run cited by a block is listed with the reports citing it (for the run pages).
    chen = next(k for k in built.cited_by if "c-loader" in k)
    assert [r["title"] for r in built.cited_by[chen]] == ["Old one"]
    ana = [k for k in built.cited_by if "/a-lr" in k]
    assert len(ana) == 4 and all(built.cited_by[k][0]["url"] == "reports/new.html" for k in ana)


def test_reports_folder_defaults_to_one_inside_or_beside_the_runs(logbook, tmp_path):
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.config import reports_dir

    runs = tmp_path / "runs"
    runs.mkdir()
    assert reports_dir(SiteConfig(runs_dirs=[runs])) is None
    (tmp_path / "reports").mkdir()
    assert reports_dir(SiteConfig(runs_dirs=[runs])) == tmp_path / "reports"
    (runs / "reports").mkdir()
    assert reports_dir(SiteConfig(runs_dirs=[runs])) == runs / "reports"
    assert reports_dir(SiteConfig(runs_dirs=[runs], reports_dir=tmp_path / "x")) == tmp_path / "x"


def test_reports_beside_a_runs_folder_are_not_picked_up_by_a_build_of_another_folder(tmp_path):
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.config import reports_dir

    (tmp_path / "runs").mkdir()
    (tmp_path / "reports").mkdir()
    other = tmp_path / "old-experiments"
    other.mkdir()
    assert reports_dir(SiteConfig(runs_dirs=[other])) is None
    toml = tmp_path / "runpages.toml"
    toml.write_text('runs_dirs = ["old-experiments"]\n')
    assert reports_dir(SiteConfig(runs_dirs=[other], source=toml)) == tmp_path / "reports"


def test_export_is_one_file_with_everything_inline(logbook, reports_folder, tmp_path):
    from runpages.sitegen.export import export_report

    path, problems = export_report(reports_folder / "new.md", _config(logbook, tmp_path / "site"),
                                   tmp_path / "new.html", now=1795000000)
    html = path.read_text()
    assert [str(p) for p in problems] == [f"{(reports_folder / 'new.md').as_posix()}:13: chart: no run matches 'user = bob'"]
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(?!data:)', html), "no external resource"
    assert 'src="data:image/png;base64,' in html
    assert "rp-run-link" not in html and "rp-run-name" in html     # no site to link to
    assert "Exported by runpages" in html and "2026-11-18 11:06 UTC" in html


def test_export_embeds_bokeh_and_only_the_charted_metrics(logbook, reports_folder, tmp_path):
    from runpages.sitegen.export import export_report

    path, _ = export_report(reports_folder / "old.md", _config(logbook, tmp_path / "site"), tmp_path / "old.html")
    html = path.read_text()
    assert "Bokeh" in html and "RunpagesCharts" in html and "RunpagesData.add(" in html
    data = html[html.index("RunpagesData.add("):]
    assert '"val/acc"' in data and '"train/loss"' not in data.split("</script>")[0]
    from runpages.sitegen.assets import CHART_SCRIPTS

    # values, site, BokehJS and the chart scripts (rules generated from Python), data, spec, report
    assert html.count("</script>") == 2 + len(CHART_SCRIPTS) + 3
    assert "window.RunpagesCharts.rules = " in html


def test_export_of_a_missing_report_is_a_site_error(logbook, tmp_path):
    from runpages.sitegen.errors import SiteError
    from runpages.sitegen.export import export_report

    with pytest.raises(SiteError, match="nope.md: report not found"):
        export_report(tmp_path / "nope.md", _config(logbook, tmp_path / "site"))


def test_export_strict_fails_on_report_problems(logbook, reports_folder, tmp_path):
    from runpages.sitegen.errors import ProblemsError
    from runpages.sitegen.export import export_report

    with pytest.raises(ProblemsError, match="no run matches 'user = bob'"):
        export_report(reports_folder / "new.md", _config(logbook, tmp_path / "site", strict=True), tmp_path / "x.html")


def test_new_report_writes_a_starter_that_renders_without_problems(logbook, tmp_path):
    from runpages.sitegen.export import new_report
    from runpages.sitegen.reader import read_runs
    from runpages.sitegen.reports import load_reports

    folder = tmp_path / "reports"
    path = new_report("LR sweep: <first> look", [logbook], reports_dir=folder, author="ana", now=1795000000)
    assert path == folder / "2026-11-18-lr-sweep-first-look.md"
    again = new_report("LR sweep: <first> look", [logbook], reports_dir=folder, author="ana", now=1795000000)
    assert again.name == "2026-11-18-lr-sweep-first-look-2.md"
    projects, _ = read_runs([str(logbook)])
    report = next(r for r in load_reports(folder, projects) if r.path == path)
    assert report.title == "LR sweep: <first> look" and report.author == "ana"
    assert report.problems == []
    chart, table = report.blocks
    assert chart["kind"] == "chart" and len(chart["runs"]) >= 1 and chart["metrics"]
    assert table["kind"] == "runs"


def test_new_report_without_runs_still_writes_a_template(tmp_path):
    from runpages.sitegen.export import new_report

    path = new_report("Empty", [tmp_path / "runs"], reports_dir=tmp_path / "r", author="x", now=0)
    text = path.read_text()
    assert text.startswith("---\ntitle: \"Empty\"") and "```chart" in text


def test_example_reports_resolve_against_the_example_logbook():
    from runpages.sitegen.reader import read_runs
    from runpages.sitegen.reports import load_reports

    runs = EXAMPLES.parents[1] / "example_runs"
    if not (runs / "cifar10-resnet").is_dir():
        pytest.skip("example_runs/ not generated (python examples/make_example_runs.py)")
    projects, _ = read_runs([str(runs)])
    reports = load_reports(EXAMPLES, projects)
    assert len(reports) >= 2
    for report in reports:
        assert report.problems == [], report.problems
    kinds = {b["kind"] for r in reports for b in r.blocks}
    assert kinds == {"chart", "runs", "compare"}
    assert any(b.get("groups") for r in reports for b in r.blocks)


# ---- Markdown invariants -----------------------------------------------------------------

def test_markers_cannot_be_forged_from_the_report_text():
    from runpages.sitegen.markdown import parse, render

    doc = parse("text \x00B0\x00 and \x00V0\x00\n")
    parts = render(doc)
    assert [p.kind for p in parts] == ["html"] and "\ufffd" in parts[0].html


def test_raw_html_is_off_even_if_the_preset_turns_it_on():
    from runpages.sitegen.markdown import make_parser

    md = make_parser()
    assert md.options["html"] is False
    active = md.get_active_rules()
    assert "html_block" not in active["block"] and "html_inline" not in active["inline"]


@pytest.mark.parametrize("url, ok", [
    ("https://a.example/x", True), ("http://a", True), ("mailto:x@y", True), ("img/a.png", True),
    ("#top", True), ("other.md#x", True), ("data:image/png;base64,AA", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("java\nscript:alert(1)", False),
    ("\x01javascript:alert(1)", False), ("vbscript:x", False), ("file:///etc/passwd", False),
    ("data:text/html,<script>", False), ("data:image/svg+xml,<svg>", False), ("//evil.example", False),
    ("ftp://x", False),
])
def test_validate_link(url, ok):
    from runpages.sitegen.markdown import validate_link

    assert validate_link(url) is ok


def test_highlighting_needs_no_network_and_unknown_languages_stay_plain():
    from runpages.sitegen.markdown import highlight, highlight_css

    assert highlight("x = 1", "python").startswith('<pre class="highlight"><code class="language-python">')
    assert highlight("x", "no-such-language") == ""
    css = highlight_css()
    assert "pre.highlight .hl-k" in css and "prefers-color-scheme: dark" in css and "url(" not in css


def test_value_syntax_parses_function_metric_selection_and_format():
    from runpages.sitegen.markdown import parse_value

    v = parse_value("=best(val/acc, user = ana lr < 1e-3):.1%")
    assert (v.function, v.metric, v.selection, v.format, v.error) == ("best", "val/acc", "user = ana lr < 1e-3", ".1%", "")
    assert parse_value("=count()").selection == ""
    assert parse_value('=last("a,b", name = x)').metric == "a"      # commas end the metric


def test_export_finds_the_runs_around_a_report_in_a_logbook(logbook, tmp_path):
    from runpages.sitegen.export import guess_runs_dir

    (logbook / "reports").mkdir(exist_ok=True)
    assert guess_runs_dir(logbook / "reports" / "x.md") == logbook.resolve()
    beside = tmp_path / "repo"
    (beside / "runs").mkdir(parents=True)
    (beside / "reports").mkdir()
    assert guess_runs_dir(beside / "reports" / "x.md") == (beside / "runs").resolve()
    assert guess_runs_dir(tmp_path / "nowhere" / "x.md") is None
