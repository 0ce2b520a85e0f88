"""Markdown in, expected structure out: every block type, every error, hostile input.

Each ``tests/cases/markdown/*.case`` is written under a temporary ``reports/`` folder, read and
resolved against the logbook of ``conftest.py``, and rendered through the real template; the
expected JSON is compared key by key (only the keys it names).
"""
from __future__ import annotations

import pytest

from cases import CASES_DIR, load_cases, load_fixture

CASES = load_cases()


def _names(runs):
    return [r.name for r in runs]


def summarize_block(b: dict) -> dict:
    out = {"kind": b["kind"], "line": b["line"]}
    if b["error"]:
        out["error"] = b["error"]
        return out
    out["runs"] = _names(b["runs"])
    if b["kind"] in ("chart", "compare"):
        out.update({k: b[k] for k in ("metrics", "x", "log_x", "log_y", "smoothing", "y_range", "title", "height")})
    if b["kind"] == "chart":
        out["groups"] = None if b["groups"] is None else {g["label"]: _names(g["runs"]) for g in b["groups"]}
    if b["kind"] == "runs":
        out.update(columns=b["columns"], best=b["best"],
                   best_run=b["best_run"].name if b["best_run"] is not None else None)
    if b["kind"] == "compare":
        out["config"] = {row["key"]: row["cells"] for row in b["config"]}
        out["deltas"] = {d["key"]: [[c["text"], None if c["abs"] is None else round(c["abs"], 6),
                                     None if c["pct"] is None else round(c["pct"], 3), c["better"]]
                                    for c in d["cells"]] for d in b["deltas"]}
    return out


def summarize_value(v: dict) -> dict:
    if v["error"]:
        return {"error": v["error"]}
    return {"text": v["text"], "run": v["run"].name if v["run"] is not None else None}


def subset(expected, actual, where="") -> None:
    """Every key in ``expected`` equals the same key in ``actual`` (recursively for dicts)."""
    if isinstance(expected, dict) and isinstance(actual, dict) and not expected.keys() - actual.keys():
        for k, v in expected.items():
            subset(v, actual[k], f"{where}.{k}")
        return
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual) \
            and all(isinstance(e, dict) for e in expected):
        for i, (e, a) in enumerate(zip(expected, actual)):
            subset(e, a, f"{where}[{i}]")
        return
    assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


def render_page(report, projects) -> str:
    from runpages.sitegen import __version__
    from runpages.sitegen.logbook import SiteMap
    from runpages.sitegen.pages import Page
    from runpages.sitegen.pages.report import report_context, report_url
    from runpages.sitegen.render import Renderer

    site = SiteMap(projects)
    ctx = report_context(report, site)
    ctx["data_scripts"] = [f"data/runs/{k}.js" for k in ctx["chart_keys"]]
    renderer = Renderer(None, globals={"site_title": "t", "version": __version__})
    return renderer.render(Page(report_url(report), "report.html", ctx))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_report_case(case, projects, tmp_path):
    from runpages.sitegen.reports import load_reports

    folder = tmp_path / "reports"
    for rel, text in case.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    reports = load_reports(folder, projects)
    exp = case.expected
    by_name = {r.path.name: r for r in reports}
    report = by_name[exp.get("report", next(n for n in case.files if n.endswith(".md")))]
    if "front" in exp:
        subset(exp["front"], {"title": report.title, "author": report.author, "date": report.date,
                              "tags": report.tags, "description": report.description,
                              "slug": report.slug})
    if "blocks" in exp:
        subset(exp["blocks"], [summarize_block(b) for b in report.blocks], "blocks")
    if "values" in exp:
        subset(exp["values"], [summarize_value(v) for v in report.values], "values")
    assert [str(p) for p in report.problems] == exp.get("problems", []), "problems"
    if "files" in exp:
        assert sorted(report.files) == exp["files"]
    html = render_page(report, projects)
    for needle in exp.get("html_has", []):
        assert needle in html, f"missing in page: {needle}"
    for needle in exp.get("html_lacks", []):
        assert needle not in html, f"must not be in page: {needle}"
    # Every error shows as a box (blocks) or a mark (values) in its place.
    assert html.count('class="rp-error"') == sum(1 for b in report.blocks if b["error"])
    assert html.count("rp-value-error") == sum(1 for v in report.values if v["error"])


def test_every_block_kind_and_error_has_a_case():
    kinds = {b.get("kind") for c in CASES for b in c.expected.get("blocks", [])}
    assert kinds >= {"chart", "runs", "compare"}
    errors = " ".join(p for c in CASES for p in c.expected.get("problems", []))
    for needle in ("not valid YAML", "unknown key", "no run matches", "bad runs filter",
                   "no selected run logged", "project 'nope' not found", "needs two or more runs",
                   "needs exactly one run", "bad format", "smoothing:", "y_range:", "x:",
                   "group_by:", "columns:", "front matter:", "file not found", "sort:", "limit:",
                   "expected key: value lines", "best:", "height:", "log_y:"):
        assert needle in errors, f"no case for the error {needle!r}"


FIXTURE = load_fixture(CASES_DIR / "xss.txt")


@pytest.mark.parametrize("title, source, expected", FIXTURE, ids=[f[0][:60] for f in FIXTURE])
def test_markdown_it_xss_fixture(title, source, expected):
    from runpages.sitegen.markdown import render_html

    html = render_html(source)
    assert html == expected
    lowered = html.lower()
    assert 'href="javascript:' not in lowered and 'src="javascript:' not in lowered
    assert "<script" not in lowered and 'href="vbscript' not in lowered and 'href="file:' not in lowered


def test_fixture_holds_the_upstream_hostile_cases():
    sources = " ".join(s for _, s, _ in FIXTURE)
    for needle in ("javascript:alert(1)", "JAVASCRIPT:", "vbscript:", "file:///123", "&#74;avascript",
                   "data:text/html", "<javascript:alert(1)>", "[test]: javascript:alert(1)",
                   "<script>alert(1)</script>", "<img src=x onerror"):
        assert needle in sources, needle
