"""A bounded load test on 127.0.0.1: 30 tabs long-polling and ~200 requests a second for
20 seconds against ``serve --watch`` while the real logger writes a run; no errors allowed."""
from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from tests.serve.live_helpers import Serve, Writer
from tests.serve.test_crowd import rss_kb
from tests.site.runfolders import write_run

pytestmark = pytest.mark.slow

TABS, RATE, SECONDS, WORKERS = 30, 200, 20.0, 4


def test_thirty_tabs_and_200_requests_a_second_see_no_errors_while_a_run_is_written(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "mnist", "baseline", steps=200)
    serve = Serve(runs, tmp_path / "site", "--watch")
    w = Writer(runs, every=0.001)        # ~1,000 steps a second, flushed every second
    errors: list[str] = []
    counts = {"requests": 0, "polls": 0, "epochs": set()}
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def tab():
        since = 0
        c = http.client.HTTPConnection(serve.host, serve.port, timeout=30)
        while time.monotonic() < stop:
            try:
                c.request("GET", f"/_runpages/epoch?since={since}&wait={min(25, max(0.1, stop - time.monotonic()))}")
                r = c.getresponse()
                body = r.read()
                if r.status != 200:
                    raise AssertionError(f"epoch: HTTP {r.status}")
                since = json.loads(body)["epoch"]
                with lock:
                    counts["polls"] += 1
                    counts["epochs"].add(since)
            except Exception as e:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(f"poll: {e!r}")
                c.close()
                c = http.client.HTTPConnection(serve.host, serve.port, timeout=30)
        c.close()

    paths = ["/", "/index.html", "/" + w.page, "/" + w.data, "/_static/charts.js", "/p/mnist/index.html"]

    def reader(i):
        c = http.client.HTTPConnection(serve.host, serve.port, timeout=10)
        n, t0 = 0, time.monotonic()
        while time.monotonic() < stop:
            path = paths[(n + i) % len(paths)]
            t = time.monotonic()
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                # The run page and its data appear after the first flush: 404 before that is right.
                if r.status != 200 and not (r.status == 404 and "live" in path):
                    raise AssertionError(f"{path}: HTTP {r.status}")
                with lock:
                    counts["requests"] += 1
                    latencies.append(time.monotonic() - t)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"{path}: {e!r}")
                c.close()
                c = http.client.HTTPConnection(serve.host, serve.port, timeout=10)
            n += 1
            ahead = t0 + n * WORKERS / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        c.close()

    threads = [threading.Thread(target=tab, daemon=True) for _ in range(TABS)]
    threads += [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(WORKERS)]
    rss = []
    try:
        for t in threads:
            t.start()
        time.sleep(5)                    # warmed up: caches and threads exist
        rss.append(rss_kb(serve.proc.pid))
        for t in threads:
            t.join(SECONDS + 30)
        rss.append(rss_kb(serve.proc.pid))
    finally:
        w.stop()
        code = serve.stop()
    print("load:", counts["requests"], "requests,", counts["polls"], "polls,", len(counts["epochs"]), "epochs")
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"load: p99 {p99:.3f} s; server RSS {rss[0]} -> {rss[1]} KiB")
    assert not errors, errors[:10]
    assert p99 < 1.0
    assert rss[1] - rss[0] < 30_000, rss          # KiB: flat, not growing with requests
    assert counts["requests"] >= RATE * SECONDS * 0.6, counts
    assert len(counts["epochs"]) >= 5, counts        # the site kept moving while under load
    assert code == 0 and "Traceback" not in "".join(serve.err), serve.err
