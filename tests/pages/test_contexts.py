"""Every template gets exactly the context ``sitegen/pages/contexts.py`` declares for it: the
keys, and a value of the declared type, on every page of a real build of the example logbook
(all page kinds, checks and reports included) and of an exported report."""
from __future__ import annotations

import types
import typing
from pathlib import Path

import pytest

from runpages.sitegen import render
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
from runpages.sitegen.export import export_report
from runpages.sitegen.pages.contexts import BY_TEMPLATE

EXAMPLES = Path(__file__).resolve().parents[2] / "example_runs"


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    seen = []
    original = render.Renderer.render

    def record(self, page):
        seen.append(page)
        return original(self, page)

    out = tmp_path_factory.mktemp("site")
    config = SiteConfig(runs_dirs=[EXAMPLES], output=out / "site", reports_dir=EXAMPLES / "reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render.Renderer, "render", record)
        build_site(config)
        export_report(EXAMPLES / "reports" / "lr-sweep-summary.md", config, out / "export.html")
    return seen


def _accepts(hint, value) -> bool:
    if hint is typing.Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(h, value) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    return isinstance(value, origin or hint)


def test_every_template_of_a_build_is_rendered(pages):
    assert {p.template for p in pages} == set(BY_TEMPLATE)


def test_each_page_context_is_exactly_the_declared_one(pages):
    for page in pages:
        declared = typing.get_type_hints(BY_TEMPLATE[page.template])
        assert set(page.context) == set(declared), (page.path, set(page.context) ^ set(declared))
        for key, hint in declared.items():
            assert _accepts(hint, page.context[key]), (page.path, key, hint, type(page.context[key]))
