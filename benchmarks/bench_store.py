"""Store benchmark, against moto's S3 server on 127.0.0.1 (HTTP, through s3fs), in one run:

* ``log()`` cost with the uploader on (RUNPAGES_DIR=s3://...) vs off (a local folder);
* bytes uploaded per synced step vs the bytes of the step (segments: new data only);
* cold build from the store vs from the local copy of the same runs;
* rebuild after one run grew: time, and GET requests the mirror made;
* publish of an unchanged site (uploads: 0);
* many runs in one prefix (``--many N``; 10,000 in the issue): list time, and a rebuild when nothing
  changed (mirror listing + build; GETs: 0).

Store timings also give the CPU seconds of this process (client) and of the S3 server process:
moto is pure Python on the same cores, so the server's share is not runpages' cost. The cold
build is compared with a floor measured in the same run (one listing and a bare GET of every
object, nothing written): local build + floor is what a perfect mirror would cost.

The S3 server runs in its own process (``python -m moto.server``), as a real store is never
inside the process that builds: in-process, its request handling competes with the build for
the interpreter lock and the ratio measures that instead (``--in-process`` shows it).

    python benchmarks/bench_store.py                   # 30 runs x 2,000 steps (quick)
    python benchmarks/bench_store.py --runs 100 --steps 10000 --many 0     # the issue's figures
    python benchmarks/bench_store.py --many 10000 --skip-main               # 10,000 runs (slow on moto)

Needs the ``store`` extra (fsspec, s3fs, moto[server]).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
T0 = 1764000000.0


class _Process:
    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                      "-p", str(port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    def cpu(self) -> float:
        """CPU seconds the server process has used (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")


class Split:
    """``with Split(server) as s:`` then ``str(s)``: wall time, and CPU seconds spent by this
    process (the client: runpages, s3fs, botocore) and by the S3 server's process."""

    def __init__(self, server) -> None:
        self.server = server if hasattr(server, "cpu") else None

    def __enter__(self) -> "Split":
        self.t, self.c = time.perf_counter(), time.process_time()
        self.s = self.server.cpu() if self.server else float("nan")
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t
        self.client = time.process_time() - self.c
        self.srv = (self.server.cpu() if self.server else float("nan")) - self.s

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU: client {self.client:.2f} s, S3 server {self.srv:.2f} s)"


def start_server(in_process: bool = False):
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if in_process:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
        server.start()
    else:
        server = _Process(port)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint,
                      RUNPAGES_STORE_OPTIONS='{"endpoint_url": "%s"}' % endpoint)
    time.sleep(0.3)
    import s3fs
    fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
    fs.mkdir("bench")
    return server, fs


def write_runs(root: Path, runs: int, steps: int) -> None:
    import runpages

    for r in range(runs):
        now = [T0 + r * 10_000]
        run = runpages.init(project="bench", name=f"run-{r}", dir=str(root), clock=lambda: now[0],
                            system_metrics=False, capture_console=False,
                            id=f"20251124-000000-run-{r}-{r:06d}")
        for i in range(steps):
            now[0] += 0.5
            run.log({"train/loss": 1.0 / (i + 1), "train/acc": i / steps, "lr": 3e-4})
        run.finish()


def log_cost(url_or_dir: str, n: int) -> float:
    import runpages

    run = runpages.init(project="cost", dir=url_or_dir, sync_interval=0.5, system_metrics=False,
                        capture_console=False)
    t = time.perf_counter()
    for i in range(n):
        run.log({"loss": 1.0 / (i + 1), "acc": 0.5})
        if i % 2000 == 0:
            time.sleep(0.05)        # let the uploader run during the loop
    spent = (time.perf_counter() - t) - 0.05 * (n // 2000 + 1)
    run.finish()
    return spent / n * 1e9


def bytes_per_synced_step(url: str, steps: int) -> tuple[float, float]:
    import runpages

    run = runpages.init(project="bytes", dir=url, sync_interval=0.2, system_metrics=False,
                        capture_console=False)
    for i in range(steps):
        run.log({"train/loss": 1.0 / (i + 1), "train/acc": i / steps})
        time.sleep(0.002)
    time.sleep(0.5)
    put, _objs = run.uploader.stats
    meta_like = sum(os.path.getsize(os.path.join(run.dir, f))
                    for f in ("meta.json", "summary.json", "config.json"))
    size = os.path.getsize(os.path.join(run.dir, "metrics.jsonl"))
    run.finish()
    return size / steps, put / steps, meta_like


def build(dirs, out: Path) -> float:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import load_config

    config, _ = load_config(None, {"runs_dirs": dirs, "output": str(out)})
    t = time.perf_counter()
    build_site(config)
    return time.perf_counter() - t


def fetch_floor(url: str) -> tuple[float, int, int]:
    """The least a cold build from ``url`` can spend on the store: one listing, then one GET of
    every non-empty object, FETCH_WORKERS at a time, held in memory (nothing written). A new
    client, as the build opens."""
    from concurrent.futures import ThreadPoolExecutor

    from runpages.sitegen.storemirror import FETCH_WORKERS
    from runpages.store import open_store

    t = time.perf_counter()
    fs, base = open_store(url, fresh=True)
    keys = [k for k, v in fs.find(base, detail=True).items()
            if v.get("type") != "directory" and v.get("size")]
    with ThreadPoolExecutor(FETCH_WORKERS) as pool:
        got = sum(map(len, pool.map(lambda k: fs.cat_file(k, max_concurrency=1), keys)))
    return time.perf_counter() - t, len(keys), got


def many_runs(server, fs, url: str, n: int, work: Path) -> None:
    """``n`` small finished runs in one prefix (meta.json + metrics.jsonl each, PUT in
    parallel), then: listing time, the first mirror + build, and a rebuild with no change."""
    from concurrent.futures import ThreadPoolExecutor

    from runpages.sitegen.storemirror import mirror, mirror_dir

    bucket_path = url.split("://", 1)[1]

    def put(i: int) -> None:
        rid = f"20251124-000000-r{i}-{i:06d}"
        meta = {"format_version": 1, "id": rid, "name": f"r{i}", "project": "many",
                "status": "finished", "created_at": T0 + i, "heartbeat_at": T0 + i + 60,
                "finished_at": T0 + i + 60}
        fs.pipe_file(f"{bucket_path}/many/{rid}/meta.json", json.dumps(meta).encode())
        fs.pipe_file(f"{bucket_path}/many/{rid}/metrics.jsonl", b"".join(
            b'{"_step": %d, "_time": %.1f, "loss": %.3f}\n' % (s, T0 + i + s, 1 / (s + 1))
            for s in range(10)))
    t = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(n)))
    print(f"{n:,} runs in one prefix: written in {time.perf_counter() - t:.1f} s")
    with Split(server) as listing:
        fs.invalidate_cache()
        listed = len(fs.find(bucket_path, detail=False))
    print(f"  list: {listing} ({listed:,} objects)")
    t_cold = build([url], work / "site-many")
    with Split(server) as alone:
        stats = mirror(url, mirror_dir(url))
    with Split(server) as same:
        build([url], work / "site-many")
    print(f"  first build {t_cold:.1f} s; no-change rebuild {same} (its one listing included); "
          f"a mirror pass alone {alone}, {stats.fetched} GETs of {stats.listed:,} objects listed")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--many", type=int, default=0, help="runs in one prefix (0: skip, the default)")
    ap.add_argument("--in-process", action="store_true", help="moto in this process (see above)")
    ap.add_argument("--skip-main", action="store_true", help="only the --many measurement")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rp-bench-store-"))
    os.environ["RUNPAGES_STAGING"] = str(work / "staging")
    os.environ["RUNPAGES_CACHE_DIR"] = str(work / "cache")
    server, fs = start_server(args.in_process)
    try:
        from runpages import store
        from runpages.sitegen.publish_store import publish_to_store
        from runpages.sitegen.storemirror import mirror, mirror_dir

        url = "s3://bench/runs"
        if args.many:
            many_runs(server, fs, "s3://bench/many-prefix", args.many, work)
        if args.skip_main:
            return
        n = 20_000
        # alternate, best of 3: the machine is shared, the minimum is the cost itself
        off = min(log_cost(str(work / "local-cost"), n) for _ in range(3))
        scratch = "s3://bench/scratch"      # apart from the runs the builds compare
        on = min(log_cost(scratch, n) for _ in range(3))
        print(f"log() cost: uploader off {off:,.0f} ns, on {on:,.0f} ns  ({on / off:.2f}x)")
        step_b, put_b, meta_b = bytes_per_synced_step(scratch, 1000)
        print(f"bytes per step: {step_b:.0f} B in metrics.jsonl, {put_b:.0f} B uploaded per step "
              f"({put_b / step_b:.2f}x; includes meta/summary rewrites, {meta_b} B per pass)")

        local = work / "runs"
        write_runs(local, args.runs, args.steps)
        t = time.perf_counter()
        store.sync_folder(str(local), url)
        print(f"{args.runs} runs x {args.steps} steps: synced to the store in "
              f"{time.perf_counter() - t:.2f} s")
        build([str(local)], work / "site-warm")          # imports and templates warm for both
        with Split(server) as floor:
            _t, n_get, n_bytes = fetch_floor(url)
        t_floor = floor.wall
        with Split(server) as local_build:
            build([str(local)], work / "site-local")
        t_local = local_build.wall
        with Split(server) as cold:
            build([url], work / "site-store")
        t_store = cold.wall
        print(f"cold build: local {t_local:.2f} s, from the store {t_store:.2f} s "
              f"({t_store / t_local:.2f}x; includes listing + fetching every object)")
        print(f"  the local build: {local_build}")
        print(f"  the store build: {cold}")
        print(f"  in CPU seconds of this process (less disturbed by other load): store "
              f"{cold.client:.2f} / local {local_build.client:.2f} = "
              f"{cold.client / local_build.client:.2f}x")
        print(f"  floor: list + a bare GET of every object ({n_get} GETs, {n_bytes / 1e6:.1f} MB, "
              f"nothing written) {floor}; local build + floor = {t_local + t_floor:.2f} s "
              f"({(t_local + t_floor) / t_local:.2f}x): the store build is "
              f"{t_store - t_local - t_floor:+.2f} s from it")

        # one run grew: append steps to its local copy and sync the new segment
        grown = sorted((local / "bench").iterdir())[0]
        with open(grown / "metrics.jsonl", "a") as f:
            for i in range(100):
                f.write('{"_step": %d, "_time": %.1f, "train/loss": 0.01}\n'
                        % (args.steps + i, T0 + args.steps + i))
        for rdir in [grown]:
            sync = store.RunSync(str(rdir), *store.open_store(f"{url}/bench/{rdir.name}"))
            sync.push(final=False)
        t = time.perf_counter()
        stats = mirror(url, mirror_dir(url))
        t_mirror = time.perf_counter() - t
        t_re = build([url], work / "site-store")
        print(f"rebuild after one run grew: mirror {t_mirror:.2f} s ({stats.fetched} GETs of "
              f"{stats.listed} objects listed), build {t_re:.2f} s")

        site = work / "site-store"
        first = publish_to_store(site, "s3://bench/site")
        t = time.perf_counter()
        again = publish_to_store(site, "s3://bench/site")
        print(f"publish: first {first['uploaded']} files, unchanged site {again['uploaded']} "
              f"uploads in {time.perf_counter() - t:.2f} s")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
