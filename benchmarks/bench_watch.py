"""serve --watch benchmark: how soon a logged point reaches an open tab, and what one incremental
rebuild costs in a 100-run project, with file events and with ``--poll 1``.

    python benchmarks/bench_watch.py                  # ~2 minutes: 40 latency events, 100 runs x 1,000 steps
    python benchmarks/bench_watch.py --events 60 --runs 100 --steps 2000 --rounds 8

Figures:
1. log() -> visible: a real logger process logs one step every 0.3-0.5 s (jittered, so it does
   not lock onto the 1 s flush tick) into a run served by ``runpages serve --watch --port 0``;
   a "tab" (a thread doing what live.js does: long-poll /_runpages/epoch, then GET the changed
   data script) records when each step first appears. A third thread tails metrics.jsonl every
   5 ms to learn when each step reached the disk (the flush). Reported: log->visible and
   flush->visible, p50/p95. Logger flush interval FLUSH_INTERVAL_S (1 s); debounce 100 ms of
   quiet, at most 300 ms after the first event.
2. Incremental rebuild after 1,000 new steps in one run of a 100-run project (each run
   written by the real logger with a fake clock, 4 metrics): ``build_site(config, changed=...)``
   in-process (median of --rounds), then the same growth seen through ``serve --watch``:
   build time the server reports (``build_ms``) and append-done -> tab-sees-it, with file
   events and with ``--poll 1``.
Targets (issue 6): incremental rebuild <= 300 ms; flush->visible p95 <= 1.5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # the tests' live-serve helper, run as a script from anywhere

from tests.serve.live_helpers import Serve  # noqa: E402
from tests.site.data_scripts import read_data_script  # noqa: E402

T0 = 1764000000.0
METRICS = ["train/loss", "train/acc", "train/lr", "val/loss"]


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def steps_in(script: bytes, key: str = "mark") -> set[int]:
    series = read_data_script(script.decode("utf-8"))["metrics"].get(key)
    return set(int(s) for s in series["step"]) if series else {-1}


class Tab:
    """What live.js does, in a thread: long-poll, then fetch the changed data script."""

    def __init__(self, serve: Serve, data_path: str):
        self.serve, self.data_path = serve, data_path
        self.seen: dict[int, float] = {}
        self.builds: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        since = self.serve.epoch()["epoch"]
        while not self.stop.is_set():
            a = self.serve.epoch(since, wait=2.0)
            if a["epoch"] == since:
                continue
            since = a["epoch"]
            if self.data_path in a["changed"]:
                if a.get("build_ms") is not None:
                    self.builds.append(a["build_ms"])
                body = self.serve.get("/" + self.data_path)
                now = time.time()
                for s in steps_in(body):
                    self.seen.setdefault(s, now)


def tail_flushes(path: Path, out: dict[int, float], stop: threading.Event):
    """When each step's line reached the file (5 ms resolution)."""
    offset = 0
    buf = b""
    while not stop.is_set():
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            now = time.time()
            offset += len(chunk)
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                try:
                    out.setdefault(json.loads(line)["_step"], now)
                except (ValueError, KeyError):
                    pass
        time.sleep(0.005)


WRITER = r"""
import json, random, sys, time
import runpages
runs, run_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
run = runpages.init(project="live", name="bench", dir=runs, id=run_id, system_metrics=False, capture_console=False)
rng = random.Random(7)
for step in range(n):
    time.sleep(0.3 + 0.2 * rng.random())
    t = time.time()
    run.log({"mark": float(step)})
    print(json.dumps({"step": step, "t": t}), flush=True)
time.sleep(1.5)
run.finish()
"""


def latency(work: Path, events: int) -> dict:
    import subprocess

    from tests.serve.live_helpers import env
    from tests.site.runfolders import write_run

    runs = work / "lat-runs"
    write_run(runs, "other", "static", steps=50)
    serve = Serve(runs, work / "lat-site", "--watch")
    run_id = "20261125-120000-bench-lat001"
    data = f"data/runs/live/{run_id}.js"
    tab = Tab(serve, data)
    flushed: dict[int, float] = {}
    stop = threading.Event()
    tail = threading.Thread(target=tail_flushes, args=(runs / "live" / run_id / "metrics.jsonl", flushed, stop), daemon=True)
    tail.start()
    w = subprocess.run([sys.executable, "-c", WRITER, str(runs), run_id, str(events)], cwd=ROOT, env=env(),
                       capture_output=True, text=True, timeout=events * 2 + 60)
    time.sleep(1.0)
    stop.set()
    tab.stop.set()
    tab.thread.join(5)
    serve.stop()
    logged = {d["step"]: d["t"] for d in map(json.loads, w.stdout.splitlines())}
    log_vis = [tab.seen[s] - logged[s] for s in logged if s in tab.seen]
    flush_vis = [tab.seen[s] - flushed[s] for s in logged if s in tab.seen and s in flushed]
    return {"events": len(logged), "seen": len(log_vis), "log_vis": log_vis, "flush_vis": flush_vis,
            "builds": tab.builds}


def write_project(runs: Path, n_runs: int, steps: int) -> list[str]:
    import runpages

    ids = []
    for i in range(n_runs):
        now = [T0 + i * 3600]
        run = runpages.init(project="big", name=f"r{i}", dir=runs, id=f"20241119-{i:06d}-r{i}-b{i:05d}",
                          clock=lambda now=now: now[0], system_metrics=False, capture_console=False)
        for s in range(steps):
            now[0] += 0.25
            run.log({k: (1.0 + i) / (s + 1) + j for j, k in enumerate(METRICS)})
        now[0] += 1
        run.finish()
        ids.append(run.id)
    return ids


def grow(runs: Path, run_id: str, steps: int, start: int) -> None:
    import runpages

    now = [T0 + 10 ** 7 + start]
    run = runpages.init(project="big", dir=runs, id=run_id, resume="must", clock=lambda: now[0],
                      system_metrics=False, capture_console=False)
    for s in range(start, start + steps):
        now[0] += 0.25
        run.log({k: 1.0 / (s + 1) + j for j, k in enumerate(METRICS)}, step=s)
    run.finish()


def rebuilds(work: Path, n_runs: int, steps: int, rounds: int) -> dict:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    runs = work / "big-runs"
    t = time.perf_counter()
    ids = write_project(runs, n_runs, steps)
    print(f"  wrote {n_runs} runs x {steps} steps in {time.perf_counter() - t:.1f}s", flush=True)
    site = work / "big-site"
    config = SiteConfig(runs_dirs=[runs], output=site)
    t = time.perf_counter()
    build_site(config)
    cold = time.perf_counter() - t
    target = ids[len(ids) // 2]
    run_dir = str((runs / "big" / target).resolve())
    step = steps
    inproc = []
    for _ in range(rounds):
        grow(runs, target, 1000, step)
        step += 1000
        t = time.perf_counter()
        build_site(config, changed={run_dir})
        inproc.append(time.perf_counter() - t)
    out = {"cold": cold, "inproc": inproc}
    data = f"data/runs/big/{target}.js"
    for label, extra in (("events", []), ("poll 1", ["--poll", "1"])):
        serve = Serve(runs, site, "--watch", *extra)
        lat, builds = [], []
        try:
            since = serve.epoch()["epoch"]
            for _ in range(rounds):
                time.sleep(0.3)
                grow(runs, target, 1000, step)
                step += 1000
                done = time.time()
                while True:
                    a = serve.epoch(since, wait=5.0)
                    since = a["epoch"]
                    if data in a["changed"] and max(steps_in(serve.get("/" + data), "train/loss")) == step - 1:
                        lat.append(time.time() - done)
                        builds.append(a["build_ms"] / 1000)
                        break
                    if time.time() - done > 20:
                        raise RuntimeError(f"{label}: no rebuild within 20 s")
        finally:
            serve.stop()
        out[label] = {"lat": lat, "build": builds}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=40, help="logged steps for the latency figure (>= 20)")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000, help="steps per run in the 100-run project")
    ap.add_argument("--rounds", type=int, default=5, help="1,000-step growths measured per mode")
    ap.add_argument("--work", default=None, help="folder for runs and sites (default: a temp folder, removed)")
    args = ap.parse_args()
    from runpages import schema

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="rp-bench-watch-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"logger flush interval {schema.FLUSH_INTERVAL_S:g} s; debounce 100 ms quiet, max 300 ms; "
              f"{os.cpu_count()} CPUs", flush=True)
        print(f"1. log() -> visible in an open tab ({args.events} steps, one every 0.3-0.5 s) ...", flush=True)
        lat = latency(work, args.events)
        ms = lambda xs, q: pct(xs, q) * 1000
        print(f"  steps seen by the tab: {lat['seen']}/{lat['events']}")
        print(f"  log -> visible    p50 {ms(lat['log_vis'], .5):6.0f} ms   p95 {ms(lat['log_vis'], .95):6.0f} ms"
              f"   (target <= 2500 ms)")
        print(f"  flush -> visible  p50 {ms(lat['flush_vis'], .5):6.0f} ms   p95 {ms(lat['flush_vis'], .95):6.0f} ms"
              f"   (target <= 1500 ms)")
        if lat["builds"]:
            print(f"  rebuild of that small site: median {statistics.median(lat['builds']):.0f} ms")
        print(f"2. {args.runs}-run project, {args.steps} steps each; one run grows by 1,000 steps ...", flush=True)
        rb = rebuilds(work, args.runs, args.steps, args.rounds)
        print(f"  cold build {rb['cold']:.1f} s")
        print(f"  incremental build_site(changed=run), in-process: median {statistics.median(rb['inproc']) * 1000:.0f} ms, "
              f"max {max(rb['inproc']) * 1000:.0f} ms   (target <= 300 ms)")
        for label in ("events", "poll 1"):
            r = rb[label]
            print(f"  serve --watch ({label:6s}): rebuild median {statistics.median(r['build']) * 1000:.0f} ms "
                  f"(max {max(r['build']) * 1000:.0f}); growth written -> tab sees it median "
                  f"{statistics.median(r['lat']) * 1000:.0f} ms (max {max(r['lat']) * 1000:.0f})")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
