"""Cost of the runpages logger next to floors measured in the same run, on the same machine.

    python benchmarks/bench_logger.py              # the full run (100,000 steps)
    python benchmarks/bench_logger.py --steps 20000

Rows: per-step cost of ``run.log()`` with 8 and with 100 float scalars (median and p99 of
per-call times), next to two floors timed the same way: ``json.dumps(record)`` + a buffered
``file.write`` (what any JSONL logger must at least do) and a bare ``list.append`` of the
record (Python's floor for "keep a value"). Also ``init()`` and ``finish()`` time, ``import
logger`` time in fresh interpreters, bytes per step, and how many ``write`` syscalls the
logger made during the 8-scalar loop (the promise: none per call, about one per second).
wandb / mlflow rows appear only when they are importable (the optional ``bench`` extra),
measured offline / against a local file store.

Targets (from issue 4): log() of 8 scalars within 2x the json floor; import < 50 ms;
finish < 200 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def percentiles(ns: list[int]) -> tuple[float, float]:
    ns = sorted(ns)
    return ns[len(ns) // 2] / 1000, ns[min(len(ns) - 1, int(len(ns) * 0.99))] / 1000


def timed_loop(fn, steps: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    out = [0] * steps
    for i in range(steps):
        t = clock()
        fn(i)
        out[i] = clock() - t
    return percentiles(out)


def values(n: int) -> dict[str, float]:
    return {f"train/metric_{k}": 0.1234567 * (k + 1) for k in range(n)}


def bench_json_floor(tmp: str, vals: dict, steps: int) -> tuple[float, float, float]:
    path = os.path.join(tmp, f"floor-{len(vals)}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        dumps, write, now = json.dumps, f.write, time.time

        def step(i):
            write(dumps({"_step": i, "_time": now(), **vals}) + "\n")
        med, p99 = timed_loop(step, steps)
    return med, p99, os.path.getsize(path) / steps


def bench_append_floor(vals: dict, steps: int) -> tuple[float, float]:
    kept: list = []
    append, now = kept.append, time.time

    def step(i):
        append({"_step": i, "_time": now(), **vals})
    return timed_loop(step, steps)


def bench_logger(tmp: str, vals: dict, steps: int) -> dict:
    import runpages
    from runpages import writer as writer_module
    calls = [0]
    real_write = writer_module.os.write

    def counting_write(fd, data):
        calls[0] += 1
        return real_write(fd, data)

    run = runpages.init(project="bench", dir=tmp, name=f"log-{len(vals)}",
                      system_metrics=False, capture_console=False)
    writer_module.os.write = counting_write
    try:
        started = time.perf_counter()
        med, p99 = timed_loop(lambda i: run.log(vals), steps)
        elapsed = time.perf_counter() - started
        run.finish()
    finally:
        writer_module.os.write = real_write
    size = os.path.getsize(os.path.join(run.dir, "metrics.jsonl"))
    return {"med": med, "p99": p99, "bytes": size / steps, "writes": calls[0],
            "seconds": elapsed}


def bench_init_finish(tmp: str, repeats: int = 15, steps_before_finish: int = 1000) -> tuple:
    import runpages
    inits, finishes = [], []
    vals = values(8)
    for k in range(repeats):
        t = time.perf_counter()
        # defaults: system sampler and console capture on
        run = runpages.init(project="bench-init", dir=tmp, name=f"init-{k}")
        inits.append(time.perf_counter() - t)
        for _ in range(steps_before_finish):
            run.log(vals)
        t = time.perf_counter()
        run.finish()
        finishes.append(time.perf_counter() - t)
    return statistics.median(inits) * 1000, statistics.median(finishes) * 1000, max(finishes) * 1000


def bench_import(repeats: int = 7) -> tuple[float, float]:
    code = "import time; t = time.perf_counter(); import runpages; print(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    with tempfile.TemporaryDirectory(prefix="runpages-pycache-") as cache:
        # bytecode cached outside the repo, as an installed package has it
        env.update(PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=cache)
        for _ in range(repeats + 1):  # the first run compiles bytecode: not counted
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env=env, cwd=str(REPO), check=True)
            times.append(float(out.stdout) * 1000)
    return statistics.median(times[1:]), min(times[1:])


def bench_wandb(tmp: str, vals: dict, steps: int) -> tuple[float, float] | None:
    try:
        import wandb
    except Exception:
        return None
    os.environ.setdefault("WANDB_SILENT", "true")
    run = wandb.init(project="bench", dir=tmp, mode="offline")
    try:
        return timed_loop(lambda i: run.log(vals), steps)
    finally:
        run.finish()


def bench_mlflow(tmp: str, vals: dict, steps: int) -> tuple[float, float] | None:
    try:
        import mlflow
    except Exception:
        return None
    mlflow.set_tracking_uri(Path(tmp, "mlruns").as_uri())
    with mlflow.start_run():
        return timed_loop(lambda i: mlflow.log_metrics(vals, step=i), steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--others-steps", type=int, default=2_000,
                        help="steps for wandb/mlflow rows (they are much slower)")
    args = parser.parse_args(argv)
    steps = args.steps
    rows: list[tuple[str, str, str, str]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="runpages-bench-") as tmp:
        v8, v100 = values(8), values(100)
        # warm up the interpreter's caches the same way for every contender
        bench_json_floor(tmp, v8, 2000)
        bench_logger(tmp, v8, 2000)

        j8 = bench_json_floor(tmp, v8, steps)
        a8 = bench_append_floor(v8, steps)
        l8 = bench_logger(tmp, v8, steps)
        j100 = bench_json_floor(tmp, v100, steps // 10)
        a100 = bench_append_floor(v100, steps // 10)
        l100 = bench_logger(tmp, v100, steps // 10)

        def row(name, med, p99, floor_json, floor_append, extra=""):
            rows.append((name, f"{med:8.2f} {p99:8.2f}",
                         f"{med / floor_json:5.2f}x  {med / floor_append:6.2f}x", extra))

        row("run.log() 8 scalars", l8["med"], l8["p99"], j8[0], a8[0],
            f"{l8['bytes']:.0f} B/step, {l8['writes']} write() in {l8['seconds']:.2f} s")
        row("  floor: json.dumps + file.write", j8[0], j8[1], j8[0], a8[0],
            f"{j8[2]:.0f} B/step")
        row("  floor: list.append", a8[0], a8[1], j8[0], a8[0])
        row(f"run.log() 100 scalars ({steps // 10} steps)", l100["med"], l100["p99"],
            j100[0], a100[0], f"{l100['bytes']:.0f} B/step")
        row("  floor: json.dumps + file.write", j100[0], j100[1], j100[0], a100[0],
            f"{j100[2]:.0f} B/step")
        row("  floor: list.append", a100[0], a100[1], j100[0], a100[0])
        for name, fn in (("wandb (offline)", bench_wandb), ("mlflow (file store)", bench_mlflow)):
            got = fn(tmp, v8, args.others_steps)
            if got is None:
                notes.append(f"{name}: not installed, row left out")
            else:
                row(f"{name} 8 scalars ({args.others_steps} steps)", got[0], got[1], j8[0], a8[0])
        init_ms, finish_ms, finish_max = bench_init_finish(tmp)
        import_med, import_min = bench_import()

    print(f"runpages logger benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{steps:,} steps")
    print(f"{'':44} {'median':>8} {'p99':>8}   {'vs json':>7} {'vs append':>8}")
    print(f"{'per step':44} {'(µs)':>8} {'(µs)':>8}")
    for name, times, ratios, extra in rows:
        print(f"{name:44} {times}   {ratios}   {extra}")
    print()
    print(f"{'init() with defaults (median of 15)':44} {init_ms:8.2f} ms")
    print(f"{'finish() after 1000 steps (median / max)':44} {finish_ms:8.2f} ms  "
          f"/ {finish_max:.2f} ms   target < 200 ms")
    print(f"{'import runpages, fresh process (median / min)':44} {import_med:8.2f} ms  "
          f"/ {import_min:.2f} ms   target < 50 ms")
    ratio = l8["med"] / j8[0]
    print()
    print(f"log() 8 scalars: {ratio:.2f}x the json floor (target <= 2x): "
          f"{'OK' if ratio <= 2 else 'MISSED'}; {l8['writes']} write() syscalls for "
          f"{steps:,} log() calls: {'OK' if l8['writes'] < steps / 100 else 'MISSED'}")
    print(f"import: {'OK' if import_med < 50 else 'MISSED'}; "
          f"finish: {'OK' if finish_ms < 200 else 'MISSED'}")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
