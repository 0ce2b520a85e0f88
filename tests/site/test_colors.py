"""A run keeps its colour on every page; neighbours differ; newcomers move no one."""
from __future__ import annotations

import json
import re

from runpages.sitegen.colors import PALETTE, assign_colors, hash_index, run_colors, user_colors
from tests.conftest import T0, log_run


def test_twelve_runs_in_a_row_get_twelve_different_colours():
    keys = [f"demo/run-{i:03d}" for i in range(60)]
    colors = assign_colors(keys)
    for i in range(len(keys) - len(PALETTE) + 1):
        window = {colors[k] for k in keys[i:i + len(PALETTE)]}
        assert len(window) == len(PALETTE), (i, window)


def test_a_run_takes_its_hashed_colour_unless_a_recent_neighbour_has_it():
    keys = [f"demo/r{i}" for i in range(40)]
    colors = assign_colors(keys)
    first = keys[0]
    assert colors[first] == PALETTE[hash_index(first)]       # nothing before it: its own colour
    assert all(c in PALETTE for c in colors.values())


def test_a_new_run_leaves_the_colours_of_earlier_runs_alone():
    runs = [(f"demo/r{i:02d}", T0 + i * 60) for i in range(30)]
    before = run_colors(runs)
    after = run_colors(runs + [("demo/zz-new", T0 + 10_000)])
    assert {k: after[k] for k in before} == before
    # start order, not key order, decides: a run started first keeps its colour whatever its name
    assert run_colors([("demo/b", T0), ("demo/a", T0 + 1)])["demo/b"] == PALETTE[hash_index("demo/b")]


def test_a_user_keeps_their_colour_when_a_new_user_appears():
    first = {"ana": T0, "bo": T0 + 10, "cy": T0 + 20}
    before = user_colors(first)
    after = user_colors({**first, "aaron": T0 + 99_999})      # sorts first by name, came last
    assert {u: after[u] for u in before} == before
    assert len(set(after.values())) == 4


def _color_in(text: str, key: str) -> str:
    i = text.index(json.dumps(key))
    return re.search(r'"color":"(#[0-9a-f]{6})"', text[i:]).group(1)


def test_a_run_has_the_same_colour_in_its_own_data_and_its_projects(tmp_path):
    from tests.site.browser_helpers import build

    runs = tmp_path / "runs"
    for i in range(14):
        log_run(runs, project="demo", name=f"r{i}", run_id=f"20251124-12{i:02d}00-r{i}-abc123",
                steps=5, t0=T0 + i * 600)
    site = build(runs, tmp_path / "site")
    project = (site / "data" / "projects" / "demo.js").read_text(encoding="utf-8")
    seen = []
    for i in range(14):
        key = f"demo/20251124-12{i:02d}00-r{i}-abc123"
        own = (site / "data" / "runs" / f"{key}.js").read_text(encoding="utf-8")
        assert _color_in(own, key) == _color_in(project, key)
        seen.append(_color_in(own, key))
    assert len(set(seen[:12])) == 12 and len(set(seen[2:])) == 12     # neighbours differ


def test_the_team_pulse_keeps_a_users_colour_when_a_new_user_appears():
    from types import SimpleNamespace as NS

    from runpages.sitegen.pages.index import runs_per_day

    def project(users_and_starts):
        return NS(runs=[NS(user=u, started_at=t) for u, t in users_and_starts])

    old = [("ana", T0), ("bo", T0 + 3600), ("cy", T0 + 7200), ("ana", T0 + 86400)]
    before = runs_per_day([project(old)])["colors"]
    # "aaron" sorts first and runs the most today: the others keep their colours anyway
    after = runs_per_day([project(old + [("aaron", T0 + 90000 + i) for i in range(5)])])["colors"]
    assert {u: after[u] for u in before} == before
    assert len(set(after.values())) == 4


def test_a_run_imported_between_two_others_recolours_the_later_one_on_every_page(tmp_path):
    """The build caches run pages; a colour moved by a run that started before it is rebuilt."""
    from tests.site.browser_helpers import build

    runs, site = tmp_path / "runs", tmp_path / "site"
    late = "20251124-180000-late-abc123"
    log_run(runs, project="demo", name="late", run_id=late, steps=3, t0=T0 + 7200)
    build(runs, site)
    own_key = f"demo/{late}"
    before = _color_in((site / "data" / "runs" / f"{own_key}.js").read_text(encoding="utf-8"), own_key)
    # a run started before it whose key hashes to the same colour takes that colour first
    mid = next(f"20251124-170000-mid{i}-abc123" for i in range(1000)
               if hash_index(f"demo/20251124-170000-mid{i}-abc123") == hash_index(own_key))
    log_run(runs, project="demo", name="mid", run_id=mid, steps=3, t0=T0 + 3600)
    build(runs, site)
    own = _color_in((site / "data" / "runs" / f"{own_key}.js").read_text(encoding="utf-8"), own_key)
    project = _color_in((site / "data" / "projects" / "demo.js").read_text(encoding="utf-8"), own_key)
    assert own != before and own == project
    assert _color_in((site / "data" / "runs" / f"demo/{mid}.js").read_text(encoding="utf-8"), f"demo/{mid}") == before
