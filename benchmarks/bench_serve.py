"""How ``runpages serve`` holds a crowd on 127.0.0.1: heavier than the tests in tests/serve/.

    python benchmarks/bench_serve.py                     # 500, 1000, 2000 at once; 400 half-open
    python benchmarks/bench_serve.py --crowds 500 --half-open 200

Rows: N connections opened at the same moment, each one GET of the project index; answered,
errors, p50 / p99 / max seconds. Then H half-open connections (connected, silent) held while
one normal request a second is timed, and the server's RSS before and after. Loopback only;
the machine's other load shows in the figures, so compare rows of one run, not runs.
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.serve.live_helpers import Serve, crowd, http_request, rss_kb  # noqa: E402
from tests.site.runfolders import write_run  # noqa: E402


def half_open(serve: Serve, n: int, seconds: float) -> tuple[list[float], int, int]:
    socks = [socket.create_connection((serve.host, serve.port), timeout=5) for _ in range(n)]
    before = rss_kb(serve.proc.pid)
    took = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        http_request(serve.host, serve.port, "/index.html", timeout=30)
        took.append(time.monotonic() - t)
        time.sleep(1.0)
    after = rss_kb(serve.proc.pid)
    for s in socks:
        s.close()
    return sorted(took), before, after


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowds", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--half-open", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="runpages-bench-serve-") as tmp:
        runs = Path(tmp, "runs")
        write_run(runs, "mnist", "baseline", steps=200)
        serve = Serve(runs, Path(tmp, "site"))
        try:
            print(f"{'connections at once':>20} {'answered':>9} {'errors':>7} "
                  f"{'p50 s':>7} {'p99 s':>7} {'max s':>7}")
            for n in args.crowds:
                t, failures = crowd(serve.host, serve.port, n)
                ok, bad = len(t), len(failures)
                if t:
                    print(f"{n:>20} {ok:>9} {bad:>7} {t[len(t) // 2]:7.3f} "
                          f"{t[min(len(t) - 1, int(len(t) * 0.99))]:7.3f} {t[-1]:7.3f}")
                else:
                    print(f"{n:>20} {ok:>9} {bad:>7}")
            took, before, after = half_open(serve, args.half_open, args.seconds)
            print(f"{args.half_open} half-open connections for {args.seconds:g} s: a normal "
                  f"request took p50 {took[len(took) // 2]:.3f} s, max {took[-1]:.3f} s; "
                  f"server RSS {before} -> {after} KiB")
        finally:
            serve.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
