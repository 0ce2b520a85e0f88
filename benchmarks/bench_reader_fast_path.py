"""Fast path vs line-by-line parser on a 1,000,000-line metrics.jsonl (not a test; run by hand):

    python benchmarks/bench_reader_fast_path.py [LINES]

Prints seconds and MB/s for: pyarrow.json (the fast path), pandas read_json(engine="pyarrow"),
the line-by-line json.loads parser, the blockwise fallback with one bad line, and the whole
``read_run`` cold and after 1,000 more lines with a ReadCache.
"""
from __future__ import annotations

import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path


import pandas as pd  # noqa: E402

from runpages.sitegen import reader  # noqa: E402


def make_lines(n: int, start: int = 0) -> bytes:
    rnd = random.Random(0)
    out = []
    for s in range(start, start + n):
        rec = {"_step": s, "_time": 1764000000.0 + s * 0.05, "train/loss": rnd.random(),
               "train/acc": rnd.random(), "lr": 3e-4, "grad_norm": rnd.random() * 10,
               "tokens": s * 4096, "epoch": s // 10000}
        if s % 100 == 0:
            rec["val/loss"] = rnd.random()
            rec["val/acc"] = rnd.random()
        out.append(json.dumps(rec))
    return ("\n".join(out) + "\n").encode()


def timed(label: str, nbytes: int, fn, repeat: int = 1):
    best = float("inf")
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<48} {best:7.2f} s  {nbytes / best / 1e6:7.1f} MB/s")
    return result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    data = make_lines(n)
    mb = len(data) / 1e6
    print(f"{n:,} lines, {mb:.1f} MB")
    fast = timed("fast path: pyarrow.json -> float64 frame", len(data),
                 lambda: reader.parse_chunk_fast(data, "m", 1, "_step"), repeat=2)
    timed("pandas read_json(lines, engine=pyarrow)", len(data),
          lambda: pd.read_json(io.BytesIO(data), lines=True, engine="pyarrow"))
    slow = timed("slow path: json.loads line by line", len(data),
                 lambda: reader.parse_lines_slow(data, "m", 1, "_step"))
    assert fast.frame.equals(slow.frame), "fast and slow paths disagree"
    bad = data.replace(b"\n", b"\n{broken\n", 1)
    part = timed("one bad line: blockwise fallback", len(bad),
                 lambda: reader.parse_chunk(bad, "m", 1, "_step"))
    assert [p.line for p in part.problems] == [2] and len(part.frame) == n
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "p" / "r"
        run_dir.mkdir(parents=True)
        (run_dir / "metrics.jsonl").write_bytes(data)
        cache = reader.ReadCache()
        run, _ = timed("read_run cold (fast path + frame assembly)", len(data),
                       lambda: reader.read_run(run_dir, cache))
        more = make_lines(1000, start=n)
        with open(run_dir / "metrics.jsonl", "ab") as f:
            f.write(more)
        t = time.perf_counter()
        run, _ = reader.read_run(run_dir, cache)
        print(f"{'read_run after +1,000 lines (cache)':<48} {time.perf_counter() - t:7.3f} s"
              f"  ({cache.parsed_bytes - len(data):,} new bytes parsed)")
        t = time.perf_counter()
        reader.read_run(run_dir, cache)
        print(f"{'read_run unchanged (cache)':<48} {time.perf_counter() - t:7.3f} s")
        assert len(run.metrics) == n + 1000


if __name__ == "__main__":
    main()
