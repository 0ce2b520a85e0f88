"""Real ``runpages serve`` processes for the serve tests, the live browser test and the benchmark.

``Serve`` starts ``python -m runpages.sitegen serve RUNS --port 0 -o SITE ...`` as a subprocess, reads
the URL it prints, and stops it with SIGINT (like Ctrl-C) on close. ``Writer`` runs the real
logger in another process, logging steps while a control file says so.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e["PYTHONUNBUFFERED"] = "1"
    return e


def http_request(host: str, port: int, path: str, method: str = "GET",
                 timeout: float = 10.0) -> tuple[int, bytes]:
    """``(status, body)`` of one request on its own connection."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def rss_kb(pid: int) -> int:
    """A process's resident memory in KiB (Linux ``/proc``)."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def crowd(host: str, port: int, n: int, path: str = "/index.html",
          timeout: float = 30.0) -> tuple[list[float], list[str]]:
    """``n`` GETs of ``path``, each on its own connection, sent at the same moment. Returns the
    seconds each answered request took (sorted) and a description of each failure."""
    start = threading.Barrier(n)
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one():
        start.wait()
        t = time.monotonic()
        try:
            status, _ = http_request(host, port, path, timeout=timeout)
            failure = None if status == 200 else f"HTTP {status}"
        except Exception as e:  # noqa: BLE001 - every failure is counted
            failure = repr(e)
        with lock:
            if failure is None:
                times.append(time.monotonic() - t)
            else:
                errors.append(failure)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * 3)
    return sorted(times), errors


class Serve:
    def __init__(self, runs, site, *args: str, cwd=None, timeout: float = 30.0):
        self.cmd = [sys.executable, "-m", "runpages.sitegen", "serve", str(runs), "-o", str(site), "--port", "0", *args]
        self.proc = subprocess.Popen(self.cmd, cwd=cwd or ROOT, env=env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._t = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
                   threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._t:
            t.start()
        self.url = self._wait_url(timeout)
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink.append(line)

    def _wait_url(self, timeout: float) -> str:
        end = time.time() + timeout
        while time.time() < end:
            for line in list(self.out):
                m = re.search(r"(http://[^\s]+/)", line)
                if m:
                    return m.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.close()
        raise AssertionError(f"serve printed no URL; stdout={''.join(self.out)!r} stderr={''.join(self.err)!r}")

    def request(self, path: str, method: str = "GET", timeout: float = 10.0):
        return http_request(self.host, self.port, path, method, timeout)

    def get(self, path: str) -> bytes:
        status, body = self.request(path)
        assert status == 200, (path, status, body[:200])
        return body

    def epoch(self, since: int = 0, wait: float = 0.0) -> dict:
        return json.loads(self.get(f"/_runpages/epoch?since={since}&wait={wait}"))

    def wait_changed(self, predicate, since: int = 0, timeout: float = 15.0) -> dict:
        """Long-poll until an answer's changed paths satisfy ``predicate``; returns that answer."""
        end = time.time() + timeout
        while time.time() < end:
            a = self.epoch(since, wait=min(5.0, max(0.1, end - time.time())))
            if a["epoch"] > since and predicate(a):
                return a
            since = max(since, a["epoch"]) if not a["full"] else since
        raise AssertionError(f"no matching change within {timeout}s; stderr={''.join(self.err)!r}")

    def stop(self, sig=signal.SIGINT, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for t in self._t:
            t.join(2)
        return self.proc.returncode

    close = stop


WRITER = r"""
import os, sys, time, math
import runpages
runs, run_id, stop_file, every = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
run = runpages.init(project="live", name="train", dir=runs, id=run_id, system_metrics=False,
                  capture_console=False)
step = 0
t_end = time.time() + 60
while not os.path.exists(stop_file) and time.time() < t_end:
    if os.path.exists(stop_file + ".pause"):
        time.sleep(0.02); continue
    run.log({"train/loss": 1.0 / (step + 1), "train/lr": 0.001 + (step % 7) * 1e-5})
    step += 1
    time.sleep(every)
run.finish()
print("steps", step, flush=True)
"""


class Writer:
    """The real logger in another process: logs a step every ``every`` s until ``stop()``."""

    def __init__(self, runs, run_id: str = "20261125-120000-train-live01", every: float = 0.02,
                 paused: bool = False):
        self.runs = Path(runs)
        self.run_id = run_id
        self.stop_file = self.runs.parent / f"stop-{run_id}"
        if paused:
            Path(str(self.stop_file) + ".pause").write_text("")
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, str(runs), run_id, str(self.stop_file), str(every)],
                                     cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @property
    def key(self) -> str:
        return f"live/{self.run_id}"

    @property
    def page(self) -> str:
        return f"p/live/r/{self.run_id}/index.html"

    @property
    def data(self) -> str:
        return f"data/runs/live/{self.run_id}.js"

    def resume(self) -> None:
        try:
            os.unlink(str(self.stop_file) + ".pause")
        except FileNotFoundError:
            pass

    def pause(self) -> None:
        Path(str(self.stop_file) + ".pause").write_text("")

    def stop(self, timeout: float = 10.0) -> str:
        self.stop_file.write_text("")
        self.resume()
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        assert self.proc.returncode == 0, err
        return out
