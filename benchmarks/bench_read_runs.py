"""read_runs over many runs: cold, unchanged with a saved cache, one run grown (by hand):

    python benchmarks/bench_read_runs.py [RUNS] [STEPS]
"""
from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path


from runpages.sitegen.reader import ReadCache, read_runs  # noqa: E402

KEYS = ["train/loss", "train/acc", "val/loss", "val/acc", "lr", "grad_norm", "tokens", "epoch"]


def lines(start: int, n: int, rnd: random.Random) -> str:
    return "".join(json.dumps({"_step": s, "_time": 1764000000.0 + s,
                               **{k: rnd.random() for k in KEYS}}) + "\n"
                   for s in range(start, start + n))


def main() -> None:
    n_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    n_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rnd = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        total = 0
        for i in range(n_runs):
            d = root / f"proj{i % 3}" / f"20261125-1900{i:02d}-run-{i:06d}"
            d.mkdir(parents=True)
            (d / "meta.json").write_text(json.dumps({
                "format_version": 1, "id": d.name, "name": f"run {i}", "user": "ana",
                "status": "finished", "started_at": 1764000000.0 + i,
                "ended_at": 1764000000.0 + i + n_steps}))
            (d / "config.json").write_text(json.dumps({"lr": 1e-3, "seed": i}))
            (d / "metrics.jsonl").write_text(lines(0, n_steps, rnd))
            (d / "system.jsonl").write_text("".join(json.dumps(
                {"_time": 1764000000.0 + 10 * t, "cpu/proc_pct": 50.0, "gpu/0/util_pct": 90.0})
                + "\n" for t in range(n_steps // 10)))
            total += (d / "metrics.jsonl").stat().st_size + (d / "system.jsonl").stat().st_size
        print(f"{n_runs} runs x {n_steps:,} steps, {total / 1e6:.0f} MB of JSONL")
        cache_path = Path(tmp) / "cache"

        t = time.perf_counter()
        cache = ReadCache()
        projects, _ = read_runs([root], cache)
        cache.save(cache_path)
        cold = time.perf_counter() - t
        print(f"cold read + cache save      {cold:6.2f} s  {total / cold / 1e6:6.0f} MB/s  "
              f"(cache folder {sum(f.stat().st_size for f in cache_path.iterdir()) / 1e6:.1f} MB)")

        t = time.perf_counter()
        cache = ReadCache.load(cache_path)
        loaded = time.perf_counter() - t
        projects, _ = read_runs([root], cache)
        print(f"unchanged, new process      {time.perf_counter() - t:6.2f} s  "
              f"(cache load {loaded:.2f} s, {cache.parsed_bytes} bytes parsed)")

        t = time.perf_counter()
        projects, _ = read_runs([root], cache)
        print(f"unchanged, same process     {time.perf_counter() - t:6.2f} s")

        grown = projects[0].runs[0]
        with open(Path(grown.dir) / "metrics.jsonl", "a") as f:
            f.write(lines(n_steps, 1000, rnd))
        before = cache.parsed_bytes
        t = time.perf_counter()
        projects, _ = read_runs([root], cache)
        print(f"one run grew by 1,000 steps {time.perf_counter() - t:6.2f} s  "
              f"({cache.parsed_bytes - before:,} bytes parsed)")


if __name__ == "__main__":
    main()
