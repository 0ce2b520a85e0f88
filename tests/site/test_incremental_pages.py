"""When one run grows, the rebuild renders that run's project pages and the site-wide pages
(home, compare, site utilisation), not every project's: a project whose runs, reports and
checks did not change keeps its pages as they are."""
from __future__ import annotations

from runfolders import append_steps
from runpages.sitegen.build import build_site


def _logbook(make_run):
    grown = make_run(project="alpha", name="a1", steps=20)
    make_run(project="alpha", name="a2", steps=20)
    make_run(project="beta", name="b1", steps=20)
    make_run(project="gamma", name="g1", steps=20)
    return grown


def test_one_run_grew_renders_its_project_and_the_site_pages_only(make_run, make_config):
    grown = _logbook(make_run)
    config = make_config([make_run.runs])
    first = build_site(config)
    append_steps(grown, 20, 5)
    again = build_site(config)
    assert "data/projects/alpha.js" in again.written     # its overlay charts gained the points
    assert not {p for p in again.written if p.startswith(("p/beta/", "p/gamma/", "data/projects/beta",
                                                          "data/projects/gamma"))}
    # home, compare and site utilisation, then alpha's table and utilisation page: 5 of 11
    assert (first.rendered, again.rendered) == (3 + 3 * 2, 3 + 2)
    assert again.pages == first.pages                   # the kept pages still count as the site's
    out = config.output
    assert (out / "p/beta/index.html").is_file() and (out / "p/beta/utilisation.html").is_file()
    assert "a1" in (out / "p/alpha/index.html").read_text()


def test_a_kept_project_page_is_redone_when_its_file_is_gone_or_a_run_is_removed(make_run, make_config):
    import shutil

    grown = _logbook(make_run)
    config = make_config([make_run.runs])
    build_site(config)
    (config.output / "p/beta/index.html").unlink()
    append_steps(grown, 20, 5)          # a rebuild with work to do (one with none returns at once)
    build_site(config)
    assert (config.output / "p/beta/index.html").is_file()
    gone = next((make_run.runs / "gamma").iterdir())
    shutil.rmtree(gone)
    result = build_site(config)
    assert not (config.output / "p/gamma/index.html").exists()
    assert "p/gamma/index.html" in result.removed


def test_a_new_report_in_the_nav_redoes_every_project_page(make_run, make_config):
    _logbook(make_run)
    reports = make_run.runs.parent / "reports"
    reports.mkdir()
    config = make_config([make_run.runs], reports_dir=reports)
    build_site(config)
    assert 'href="../../reports/' not in (config.output / "p/beta/index.html").read_text()
    (reports / "note.md").write_text("# A note\n\nText.\n")
    result = build_site(config)
    assert "p/beta/index.html" in result.written
    assert "reports/" in (config.output / "p/beta/index.html").read_text()
