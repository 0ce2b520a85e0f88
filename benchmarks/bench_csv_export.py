"""The run page's CSV, made in the browser from metrics.jsonl (themes/default/static/csv-export.js,
run here under node, the same V8 as Chromium): time and memory per run size, against a floor
measured in the same run (JSON.parse of every line in node) and the Python reference
(``build.metrics_csv`` after ``read_run``). Checks the bytes are equal too.

    python benchmarks/bench_csv_export.py                 # 10,000 / 100,000 / 1,000,000 steps x 8 metrics
    python benchmarks/bench_csv_export.py 10000 50000     # other sizes
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

NODE_TIMER = r"""
const fs = require("node:fs");
const { loadScripts } = require(process.argv[1]);
const Csv = loadScripts("jsonl-line.js", "csv-export.js").RunpagesCsv;
const bytes = new Uint8Array(fs.readFileSync(process.argv[2]));
let t = process.hrtime.bigint();
const text = new TextDecoder().decode(bytes);
let n = 0;
for (const line of text.split("\n")) if (line) { JSON.parse(line); n++; }
const floor = Number(process.hrtime.bigint() - t) / 1e9;
t = process.hrtime.bigint();
const csv = Csv.fromJsonl(bytes, true, {});
const made = Number(process.hrtime.bigint() - t) / 1e9;
fs.writeFileSync(process.argv[3], csv);
process.stdout.write(JSON.stringify({ floor, made, rss_mb: process.memoryUsage().rss / 1e6, lines: n }));
"""


def main() -> int:
    from bench_build import write_direct

    from runpages.sitegen.build import metrics_csv
    from runpages.sitegen.reader import read_run

    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        sys.exit("node is needed (Debian: apt-get install nodejs)")
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    work = Path(tempfile.mkdtemp(prefix="rp-bench-csv-"))
    print(f"{'steps':>10} {'JSONL MB':>9} {'floor s':>8} {'browser s':>9} {'x floor':>8} {'MB RSS':>7}"
          f" {'python s':>9}  same bytes")
    try:
        for steps in sizes:
            run = write_direct(work / str(steps), "bench", 0, steps)
            jsonl = run / "metrics.jsonl"
            out = work / f"{steps}.csv"
            p = subprocess.run([node, "-e", NODE_TIMER, str(ROOT / "tests" / "js" / "load.js"), str(jsonl),
                                str(out)], capture_output=True, text=True)
            if p.returncode:
                sys.exit(p.stderr)
            js = json.loads(p.stdout)
            t = time.perf_counter()
            ref = metrics_csv(read_run(run)[0])
            py = time.perf_counter() - t
            same = out.read_bytes() == ref
            print(f"{steps:>10,} {jsonl.stat().st_size / 1e6:>9.1f} {js['floor']:>8.2f} {js['made']:>9.2f}"
                  f" {js['made'] / js['floor']:>8.2f} {js['rss_mb']:>7.0f} {py:>9.2f}  {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
