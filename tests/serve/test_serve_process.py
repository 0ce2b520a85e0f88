"""``runpages serve`` as a real process: live rebuilds from the real logger, security requests
over raw sockets, Ctrl-C, a taken port, a failed rebuild. 127.0.0.1 only."""
from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from tests.serve.live_helpers import Serve, Writer
from tests.site.data_scripts import read_data_script
from tests.site.runfolders import write_run

pytestmark = pytest.mark.slow


@pytest.fixture
def runs(tmp_path):
    d = tmp_path / "runs"
    write_run(d, "mnist", "baseline", steps=20)
    return d


@pytest.fixture
def served(runs, tmp_path):
    s = Serve(runs, tmp_path / "site", "--watch")
    yield s
    s.stop()


def _steps_in(script: bytes) -> int:
    payload = read_data_script(script.decode("utf-8"))
    series = payload["metrics"].get("train/loss")
    return len(series["step"]) if series else 0


def test_a_run_logged_in_another_process_appears_and_its_data_grows(served, runs):
    w = Writer(runs, every=0.01)
    try:
        a = served.wait_changed(lambda a: w.data in a["changed"])
        page = served.get("/" + w.page)
        assert b"running" in page and b"/_runpages/live.js" in page
        first = _steps_in(served.get("/" + w.data))
        served.wait_changed(lambda a: w.data in a["changed"] and _steps_in(served.get("/" + w.data)) > first,
                            since=a["epoch"])
    finally:
        out = w.stop()
    total = int(out.split()[-1])
    served.wait_changed(lambda a: w.page in a["changed"] and _steps_in(served.get("/" + w.data)) == total)
    assert b"finished" in served.get("/" + w.page)


def test_the_live_script_is_only_in_served_html_never_on_disk(served, tmp_path):
    site = tmp_path / "site"
    assert b"/_runpages/live.js" in served.get("/index.html")
    assert served.get("/_runpages/live.js").startswith(b"/*")
    for path in site.rglob("*.html"):
        assert "_runpages/" not in path.read_text(encoding="utf-8"), path
    assert b"_runpages" not in served.get("/_static/charts.js")


def _raw(served, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection((served.host, served.port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.mark.parametrize("target", [
    b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2e/%2e%2E/secret.txt", b"/p/../../secret.txt",
    b"/..%2fsecret.txt", b"/..%5csecret.txt", b"//etc/passwd", b"/etc/passwd", b"/link-out.txt",
    b"/linkdir/secret.txt", b"/.runpages/state.pickle", b"/.runpages/", b"/%2erunpages/state.pickle",
    b"http://127.0.0.1/../secret.txt", b"/_runpages/../secret.txt", b"/_runpages/secret",
])
def test_requests_outside_the_site_get_404_from_the_real_server(served, tmp_path, target):
    site = tmp_path / "site"
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    if not (site / "link-out.txt").exists():
        os.symlink(tmp_path / "secret.txt", site / "link-out.txt")
        os.symlink(tmp_path, site / "linkdir")
    status, data = _raw(served, b"GET " + target + b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 404, data[:300]
    assert b"TOP-SECRET" not in data and b"root:" not in data


def test_only_get_and_head(served):
    assert _raw(served, b"HEAD /index.html HTTP/1.0\r\n\r\n")[0] == 200
    for method in (b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"):
        status, data = _raw(served, method + b" /index.html HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        assert status == 405 and b"Allow: GET, HEAD" in data
    assert _raw(served, b"TRACE /index.html HTTP/1.0\r\n\r\n")[0] == 501
    assert _raw(served, b"BREW /index.html HTTP/1.0\r\n\r\n")[0] == 501


def test_ctrl_c_stops_cleanly(runs, tmp_path):
    s = Serve(runs, tmp_path / "site", "--watch")
    time.sleep(0.3)
    assert s.stop(signal.SIGINT) == 0
    assert "Traceback" not in "".join(s.err), s.err


def test_a_taken_port_says_so_and_suggests_port_0(runs, tmp_path):
    import subprocess
    import sys

    from tests.serve.live_helpers import ROOT, env

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        r = subprocess.run([sys.executable, "-m", "runpages.sitegen", "serve", str(runs), "-o", str(tmp_path / "site"),
                            "--port", str(sock.getsockname()[1])], cwd=ROOT, env=env(),
                           capture_output=True, text=True, timeout=30)
    finally:
        sock.close()
    assert r.returncode == 1
    assert "already in use" in r.stderr and "--port 0" in r.stderr and "Traceback" not in r.stderr


def test_another_loopback_address_serves_without_auth_or_warning(runs, tmp_path):
    s = Serve(runs, tmp_path / "site", "--host", "127.0.0.2")
    try:
        assert s.url.startswith("http://127.0.0.2:")
        time.sleep(0.2)
        assert not any("can read the site" in line for line in s.err), s.err
    finally:
        s.stop()


def test_a_failed_rebuild_keeps_the_site_and_shows_why_until_fixed(served, runs):
    toml = runs.parent / "runpages.toml"
    toml.write_text('title = "ok"\nmax_artifact_mb = oops\n')
    a = served.wait_changed(lambda a: a["error"] is not None)
    assert "runpages.toml" in a["error"] and "line" in a["error"]
    assert served.request("/index.html")[0] == 200              # last good site still served
    assert any("rebuild failed" in line for line in served.err)
    toml.write_text('title = "Fixed logbook"\n')
    served.wait_changed(lambda a: a["error"] is None, since=a["epoch"])
    assert b"Fixed logbook" in served.get("/index.html")


def test_poll_finds_changes_without_file_events(runs, tmp_path):
    from tests.site.runfolders import append_steps

    s = Serve(runs, tmp_path / "site", "--watch", "--poll", "0.3")
    try:
        assert any("polling every 0.3 s" in line for line in s.out)
        data = "data/runs/mnist/20251124-120000-baseline-abc123.js"
        before = _steps_in(s.get("/" + data))
        append_steps(runs / "mnist" / "20251124-120000-baseline-abc123", 20, 30)
        s.wait_changed(lambda a: data in a["changed"], timeout=10)
        assert _steps_in(s.get("/" + data)) == before + 30
    finally:
        assert s.stop() == 0


def test_a_theme_change_rebuilds_and_reaches_the_tabs(runs, tmp_path):
    theme = tmp_path / "theme"
    (theme / "static").mkdir(parents=True)
    (theme / "static" / "extra.css").write_text("body { color: red }")
    s = Serve(runs, tmp_path / "site", "--watch", "--theme", str(theme))
    try:
        assert s.get("/_static/extra.css") == b"body { color: red }"
        (theme / "static" / "extra.css").write_text("body { color: blue }")
        a = s.wait_changed(lambda a: "_static/extra.css" in a["changed"])
        assert "p/mnist/r/20251124-120000-baseline-abc123/index.html" in a["changed"]   # a full rebuild
        assert s.get("/_static/extra.css") == b"body { color: blue }"
    finally:
        assert s.stop() == 0


def test_a_foreign_host_header_is_refused_on_loopback(served):
    """DNS rebinding: evil.example resolving to 127.0.0.1 must not read the site."""
    assert _raw(served, b"GET /index.html HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n")[0] == 403
    assert _raw(served, b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")[0] == 200
    host = f"127.0.0.1:{served.port}".encode()
    assert _raw(served, b"GET /index.html HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")[0] == 200
