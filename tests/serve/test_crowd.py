"""serve holds a crowd on 127.0.0.1: 500 connections at once, 200 half-open ones for 20 s.
Every request is answered; how fast (p50/p99) is measured in benchmarks/bench_serve.py, not
asserted here (a loaded machine is not a slow server). A request blocked behind the crowd would
wait for a client's timeout (5 s and more), far past the bound used below."""
from __future__ import annotations

import socket
import time

import pytest

from tests.serve.live_helpers import Serve, crowd, http_request, rss_kb
from tests.site.runfolders import write_run

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path):
    write_run(tmp_path / "runs", "mnist", "baseline", steps=50)
    serve = Serve(tmp_path / "runs", tmp_path / "site")
    yield serve
    assert serve.stop() == 0 and "Traceback" not in "".join(serve.err), serve.err


def test_500_connections_at_once_all_get_an_answer(served):
    times, errors = crowd(served.host, served.port, 500, timeout=20)
    print(f"500 at once: {len(times)} answered, p50 {times[len(times) // 2]:.3f} s" if times else "none answered")
    assert not errors, errors[:5]
    assert len(times) == 500


def test_200_half_open_connections_for_20_s_do_not_block_a_normal_request(served):
    if not hasattr(socket, "SO_LINGER"):
        pytest.skip("needs SO_LINGER")
    idle = []
    for _ in range(200):           # connect and say nothing, like a client that went away
        s = socket.create_connection((served.host, served.port), timeout=5)
        idle.append(s)
    for s in idle[:100]:           # half of them send half a request and stop
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    before = rss_kb(served.proc.pid)
    slow = []
    end = time.monotonic() + 20
    try:
        while time.monotonic() < end:
            t = time.monotonic()
            status, _ = http_request(served.host, served.port, "/index.html", timeout=5)
            took = time.monotonic() - t
            assert status == 200
            slow += [took] if took > 3.0 else []     # not waiting behind an idle connection
            time.sleep(0.5)
    finally:
        for s in idle:
            s.close()
    after = rss_kb(served.proc.pid)
    assert not slow, slow
    assert after - before < 50_000, (before, after)     # KiB: no thread stacks piling up
