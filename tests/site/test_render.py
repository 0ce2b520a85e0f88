import os
import posixpath

import pytest

from runpages.sitegen.pages import Page
from runpages.sitegen.render import Renderer, relative_url, root_prefix, write_atomic, write_if_changed


@pytest.mark.parametrize("target,page,expected", [
    ("index.html", "index.html", "index.html"),
    ("index.html", "p/mnist/index.html", "../../index.html"),
    ("_static/site.js", "p/m/r/x/index.html", "../../../../_static/site.js"),
    ("p/m/index.html", "p/m/r/x/index.html", "../../index.html"),
    ("compare.html?runs=a/b,c/d", "p/m/index.html", "../../compare.html?runs=a/b,c/d"),
    ("p/m/index.html#runs", "index.html", "p/m/index.html#runs"),
    ("#top", "p/m/index.html", "#top"),
])
def test_url_filter_makes_links_relative_to_the_page(target, page, expected):
    assert relative_url(target, page) == expected


def test_root_prefix():
    assert root_prefix("index.html") == ""
    assert root_prefix("p/x/r/y/index.html") == "../../../../"


def test_templates_escape_and_refuse_undefined(tmp_path):
    (tmp_path / "t.html").write_text("{{ name }} <a href=\"{{ 'index.html' | url }}\">x</a>")
    (tmp_path / "u.html").write_text("{{ missing }}")
    r = Renderer(tmp_path)
    html = r.render(Page("p/a/index.html", "t.html", {"name": "<script>alert(1)</script>"}))
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="../../index.html"' in html
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        r.render(Page("index.html", "u.html", {}))


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "a" / "b.html"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["b.html"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "b.html"
    write_atomic(target, "old")

    def boom(*a):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["b.html"]


def test_write_if_changed_skips_identical_bytes(tmp_path):
    target = tmp_path / "x.js"
    assert write_if_changed(target, "a")
    mtime = target.stat().st_mtime_ns
    assert not write_if_changed(target, "a")
    assert target.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("page", ["index.html", "p/x/index.html", "p/x/r/y/index.html", "static/a/b.html"])
@pytest.mark.parametrize("target", ["index.html", "p/x/", "p/x/r/y/index.html", "static/a.js", "p/y/r/z/",
                                    "p/x/r/y/../z.html", "a//b.html", "p/x/index.html#top"])
def test_relative_urls_are_those_of_posixpath_relpath(target, page):
    path, _, frag = target.partition("#")
    want = posixpath.relpath(path.rstrip("/"), posixpath.dirname(page) or ".")
    want = "./" if want == "." else want + ("/" if path.endswith("/") and want != "." else "")
    assert relative_url(target, page) == want + (f"#{frag}" if frag else "")
