"""The compare page's run index (data/runs-index.js): every run of every project, compact, read
by the picker (static/picker.js) to the same keys the site uses."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from runpages.sitegen.logbook import SiteMap
from runpages.sitegen.pages.compare import RUN_INDEX, run_index, run_index_script
from tests.pages.sites import build, write_project, write_run

STATIC = Path(__file__).resolve().parents[2] / "themes" / "default" / "static"


def _logbook(n_projects: int, runs_each: int):
    projects = []
    for p in range(n_projects):
        name = f"vision team {p}" if p else "Vision Team / ResNet ü"
        runs = [SimpleNamespace(id=f"20261125-{100000 + i:06d}-lr-3e-4-bs-64-seed-{i}-{i:06x}",
                                name=f"lr-3e-4-bs-64-seed-{i}", user=f"user{i % 20}",
                                status=("finished", "crashed", "running")[i % 3], started_at=1.76e9 + i,
                                project=name, source="runs", dir=f"/runs/{p}/{i}")
                for i in range(runs_each)]
        projects.append(SimpleNamespace(name=name, runs=runs))
    return projects, SiteMap(projects)


def _decode_with_picker(script: str, query: str = "") -> dict:
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is needed (Debian: apt-get install nodejs)"
    js = ("const vm = require('node:vm'), fs = require('node:fs'); const c = {}; c.window = c;"
          "vm.createContext(c); vm.runInContext(process.argv[1], c);"
          f"vm.runInContext(fs.readFileSync({json.dumps(str(STATIC / 'picker.js'))}, 'utf8'), c);"
          "const runs = c.RunpagesPicker.decode(c.RunpagesRunIndex);"
          "const found = c.RunpagesPicker.search(runs, process.argv[2], {limit: 1e9});"
          "console.log(JSON.stringify({runs: runs.map(r => [r.key, r.name, r.user, r.project, r.status]),"
          " found: found.matches.map(r => r.key)}));")
    done = subprocess.run([node, "-e", js, script, query], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_picker_reads_every_run_with_the_keys_the_site_uses():
    projects, site = _logbook(3, 7)
    got = _decode_with_picker(run_index_script(projects, site))
    want = {site.key(r): [r.name, r.user, p.name, r.status] for p in projects for r in p.runs}
    assert {k: v for k, *v in got["runs"]} == want


def test_searching_by_user_finds_that_users_runs_of_every_project():
    projects, site = _logbook(3, 7)
    got = _decode_with_picker(run_index_script(projects, site), "user:user3")
    assert sorted(got["found"]) == sorted(site.key(r) for p in projects for r in p.runs if r.user == "user3")
    assert len({k.split("/")[0] for k in got["found"]}) == 3


def test_the_index_stays_compact_for_thousands_of_runs():
    """Beyond each run's own slug and name, a run costs a few bytes: project, user, status and
    colour are written once and referred to by position."""
    projects, site = _logbook(10, 500)
    script = run_index_script(projects, site)
    own = sum(len(site.key(r).split("/", 1)[1]) + len(r.name) for p in projects for r in p.runs)
    per_run_overhead = (len(script.encode()) - own) / 5000
    assert per_run_overhead < 32, per_run_overhead
    assert len(script.encode()) < 500_000


def test_user_text_in_the_index_cannot_end_the_script():
    run = SimpleNamespace(id="r1", name="</script><script>alert(1)</script>", user="<b>", status="finished",
                          started_at=None, project="p", source="runs", dir="/r1")
    projects = [SimpleNamespace(name="p", runs=[run])]
    script = run_index_script(projects, SiteMap(projects))
    assert "<" not in script and ">" not in script
    assert _decode_with_picker(script)["runs"] == [["p/r1", run.name, "<b>", "p", "finished"]]


def test_the_build_writes_the_index_and_the_compare_page_loads_it(tmp_path):
    runs = tmp_path / "runs"
    write_project(runs, "mnist", n=2)
    write_run(runs, "cifar", "20261125-130000-other-cccccc", name="other", user="dee")
    build(runs, tmp_path / "site")
    script = (tmp_path / "site" / RUN_INDEX).read_text(encoding="utf-8")
    assert script.startswith("window.RunpagesRunIndex = ")
    compare = (tmp_path / "site" / "compare.html").read_text(encoding="utf-8")
    assert re.search(r'<script src="data/runs-index\.js">', compare)
    keys = [k for k, *_ in _decode_with_picker(script)["runs"]]
    assert sorted(keys) == sorted(["cifar/20261125-130000-other-cccccc", "mnist/20261125-100000-run0-000000",
                                   "mnist/20261125-100001-run1-000001"])


@pytest.mark.parametrize("started", [float("nan"), float("inf"), "yesterday", None, 1e20])
def test_a_start_time_that_is_not_a_time_is_left_out(started):
    run = SimpleNamespace(id="r1", name="r1", user=None, status=None, started_at=started, project="p",
                          source="runs", dir="/r1")
    projects = [SimpleNamespace(name="p", runs=[run])]
    assert run_index(projects, SiteMap(projects))["runs"] == [[0, "r1", None, 0, 0,
                                                               run_index(projects, SiteMap(projects))["runs"][0][5], None]]


def test_the_index_is_the_same_text_the_value_by_value_writer_gives():
    """Written as strict JSON in one call: byte for byte what ``charts.to_js`` gives, hostile
    names included (script-ending text, line separators, non-ASCII)."""
    from runpages.sitegen.charts import to_js

    projects, site = _logbook(2, 5)
    projects[0].runs[0].name = "</script>\u2028a & b \u2029 ü"
    projects[1].runs[1].user = "<!--"
    projects[1].runs[2].started_at = float("nan")
    script = run_index_script(projects, site)
    assert script == f"window.RunpagesRunIndex = {to_js(run_index(projects, site))};\n"
    assert "\u2028" not in script and "</" not in script
