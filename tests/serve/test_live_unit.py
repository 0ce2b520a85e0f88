"""Live reload pieces without processes: the epoch, the debounce, what an event means, the
script injected into served HTML only, the long-poll endpoint."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from runpages.sitegen.errors import SiteError
from runpages.sitegen.livereload import LiveState, inject
from runpages.sitegen.serve import make_server
from runpages.sitegen.watch import Rebuilder, WatchTargets, describe_failure
from tests.serve.live_helpers import http_request

# ---- LiveState --------------------------------------------------------------------------------

def test_epoch_moves_only_when_something_changed_and_lists_every_change_since():
    live = LiveState()
    assert live.publish(set()) == 0
    live.publish({"a.html"})
    live.publish({"data/runs/p/r.js"})
    answer = live.wait(0, timeout=0)
    assert answer["epoch"] == 2 and answer["changed"] == ["a.html", "data/runs/p/r.js"] and not answer["full"]
    assert live.wait(1, timeout=0)["changed"] == ["data/runs/p/r.js"]


def test_long_poll_wakes_on_publish_and_times_out_otherwise():
    live = LiveState()
    t0 = time.monotonic()
    assert live.wait(0, timeout=0.2)["epoch"] == 0
    assert 0.15 < time.monotonic() - t0 < 2
    threading.Timer(0.1, live.publish, args=({"x.html"},)).start()
    t0 = time.monotonic()
    assert live.wait(0, timeout=10)["changed"] == ["x.html"]
    assert time.monotonic() - t0 < 5


def test_a_tab_from_another_server_or_too_far_behind_reloads_fully():
    live = LiveState()
    live.publish({"a.html"})
    assert live.wait(0, timeout=0, server_id="someone-else")["full"]
    assert live.wait(99, timeout=0)["full"]
    for i in range(300):
        live.publish({f"{i}.html"})
    assert live.wait(0, timeout=0)["full"]


def test_failure_sets_an_error_until_the_next_good_build():
    live = LiveState()
    e1 = live.fail("runpages.toml: line 2: bad")
    assert live.fail("runpages.toml: line 2: bad") == e1           # same error: no new epoch
    assert live.wait(0, timeout=0)["error"].startswith("runpages.toml")
    live.publish(set())                                            # good build, nothing changed
    answer = live.wait(e1, timeout=0)
    assert answer["error"] is None and answer["epoch"] == e1 + 1


def test_inject_goes_before_the_last_body_end_tag():
    assert inject(b"<html><body>x</BODY></html>", b"<s>") == b"<html><body>x<s></BODY></html>"
    assert inject(b"no body", b"<s>") == b"no body<s>"


# ---- what an event means ---------------------------------------------------------------------

def test_events_map_to_run_folders_site_wide_changes_config_or_nothing(tmp_path):
    runs, site, reports = tmp_path / "runs", tmp_path / "site", tmp_path / "reports"
    for d in (runs, site, reports):
        d.mkdir()
    t = WatchTargets([runs], site, reports, None, [tmp_path / "runpages.toml"])
    r = str(runs)
    assert t.classify(f"{r}/mnist/20251124-1-a/metrics.jsonl") == ("run", f"{r}/mnist/20251124-1-a")
    assert t.classify(f"{r}/mnist/20251124-1-a") == ("run", f"{r}/mnist/20251124-1-a")
    assert t.classify(f"{r}/mnist") == ("site", f"{r}/mnist")
    assert t.classify(f"{r}/mnist/.checks/x.json")[0] == "site"
    assert t.classify(f"{reports}/a.md")[0] == "site"
    assert t.classify(str(tmp_path / "runpages.toml"))[0] == "config"
    assert t.classify(f"{site}/index.html") is None
    assert t.classify(str(tmp_path / "other.txt")) is None
    assert (str(tmp_path), False) in t.schedule() and (r, True) in t.schedule()


def test_site_inside_the_runs_folder_never_triggers_a_build(tmp_path):
    runs = tmp_path / "runs"
    t = WatchTargets([runs], runs / "site")
    assert t.classify(str(runs / "site" / "p" / "x" / "index.html")) is None


# ---- the builder thread ----------------------------------------------------------------------

class FakeBuild:
    def __init__(self, site: Path, fail: Exception | None = None):
        self.site, self.fail, self.calls = site, fail, []

    def __call__(self, config, changed=None, **kw):
        self.calls.append((time.monotonic(), changed))
        if self.fail:
            raise self.fail
        name = f"page{len(self.calls)}.html"
        (self.site / name).write_text("x")
        return SimpleNamespace(problems=[], rebuilt_runs=len(changed or ()), changed={name})


@pytest.fixture
def rebuilder(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    build = FakeBuild(site)
    lines: list[str] = []
    rb = Rebuilder(SimpleNamespace(output=site), LiveState(), build=build, tick=60, log=lines.append)
    rb.fake, rb.lines = build, lines
    rb.start()
    yield rb
    rb.stop()


def test_one_event_builds_once_after_100_ms_of_quiet(rebuilder):
    t0 = time.monotonic()
    rebuilder.notify("run", "/runs/p/r1")
    rebuilder.notify("run", "/runs/p/r2")
    answer = rebuilder.live.wait(0, timeout=10)
    assert answer["epoch"] == 1 and answer["changed"] == ["page1.html"]
    time.sleep(0.2)
    assert len(rebuilder.fake.calls) == 1
    at, changed = rebuilder.fake.calls[0]
    assert changed == {"/runs/p/r1", "/runs/p/r2"} and 0.08 <= at - t0 < 1.0


def test_a_continuous_burst_still_builds_a_few_times_a_second(rebuilder):
    end = time.monotonic() + 1.5
    while time.monotonic() < end:          # an event every 10 ms: never 100 ms of quiet
        rebuilder.notify("run", "/runs/p/r1")
        time.sleep(0.01)
    calls = len(rebuilder.fake.calls)
    assert 3 <= calls <= 8, calls           # at most ~300 ms between builds, not one per event


def test_a_failed_build_reports_file_and_line_and_keeps_going(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    build = FakeBuild(site, fail=SiteError("runs/p/r/metrics.jsonl:57: expected a JSON object"))
    lines: list[str] = []
    live = LiveState()
    rb = Rebuilder(SimpleNamespace(output=site), live, build=build, tick=60, log=lines.append)
    assert rb.rebuild({"/runs/p/r"}) is None
    assert live.error == "runs/p/r/metrics.jsonl:57: expected a JSON object"
    assert any("rebuild failed: runs/p/r/metrics.jsonl:57" in line for line in lines)
    build.fail = None
    assert rb.rebuild({"/runs/p/r"}) == {"page2.html"}
    assert live.error is None


def test_events_name_their_runs_and_a_slow_tick_ticks_less_often(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    seen = []

    def slow_build(config, changed=None, **kw):
        seen.append((time.monotonic(), changed, kw.get("events", False)))
        time.sleep(0.03)                   # a scan of many run folders
        return SimpleNamespace(problems=[], rebuilt_runs=0, changed=set())

    rb = Rebuilder(SimpleNamespace(output=site), LiveState(), build=slow_build, tick=0.05,
                   log=lambda line: None).start()
    try:
        time.sleep(1.2)
        rb.notify("run", "/runs/p/r")
        time.sleep(0.6)
    finally:
        rb.stop()
    ticks = [t for t, changed, events in seen if changed is None]
    assert [(c, e) for _, c, e in seen if c] == [({"/runs/p/r"}, True)]      # events: named runs
    # every tick waits 10x its build (0.3 s), not 0.05 s: a handful in 1.8 s, not about 25
    assert 2 <= len(ticks) <= 8
    assert min(b - a for a, b in zip(ticks, ticks[1:])) >= 0.25


def test_a_bug_is_described_by_the_frame_that_raised():
    try:
        {}["missing"]
    except KeyError as err:
        text = describe_failure(err)
    assert "test_live_unit.py:" in text and "KeyError" in text


# ---- the server --------------------------------------------------------------------------------

@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<html><body>home</body></html>")
    (root / "a.js").write_text("var a = '</body>';")
    return root


def _serve(site, live):
    srv = make_server(site, "127.0.0.1", 0, live=live)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _get(srv, path, method="GET"):
    return http_request("127.0.0.1", srv.server_address[1], path, method)


def test_live_script_goes_into_served_html_only(site):
    live = LiveState()
    srv = _serve(site, live)
    try:
        status, body = _get(srv, "/")
        assert status == 200 and b'<script src="/_runpages/live.js"' in body and b'data-page="index.html"' in body
        assert body.index(b"/_runpages/live.js") < body.index(b"</body>")
        assert _get(srv, "/a.js")[1] == b"var a = '</body>';"
        assert (site / "index.html").read_text() == "<html><body>home</body></html>"
        assert b"RunpagesLive" in _get(srv, "/_runpages/live.js")[1]
    finally:
        srv.shutdown()
        srv.server_close()
    plain = _serve(site, None)
    try:
        assert _get(plain, "/")[1] == b"<html><body>home</body></html>"
        assert _get(plain, "/_runpages/live.js")[0] == 404
        assert _get(plain, "/_runpages/epoch?since=0")[0] == 404
    finally:
        plain.shutdown()
        plain.server_close()


def test_epoch_endpoint_long_polls_and_answers_head_at_once(site):
    live = LiveState()
    srv = _serve(site, live)
    try:
        threading.Timer(0.2, live.publish, args=({"index.html"},)).start()
        t0 = time.monotonic()
        status, body = _get(srv, f"/_runpages/epoch?since=0&id={live.server_id}")
        assert status == 200 and json.loads(body)["changed"] == ["index.html"]
        assert time.monotonic() - t0 < 5
        t0 = time.monotonic()
        assert _get(srv, "/_runpages/epoch?since=1", "HEAD")[0] == 200
        assert _get(srv, "/_runpages/epoch?since=1&wait=0.2")[0] == 200
        assert time.monotonic() - t0 < 3
        assert _get(srv, "/_runpages/epoch?since=x")[0] == 400
        assert _get(srv, "/_runpages/other")[0] == 404
        assert _get(srv, "/_runpages/epoch", "POST")[0] == 405
    finally:
        live.close()
        srv.shutdown()
        srv.server_close()
