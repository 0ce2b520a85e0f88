"""``bench_build.py --long``: one run of 10,000,000 steps x 8 metrics (``--long-steps N`` for
fewer), built cold, unchanged and after it grew by 1,000 steps, against a json-decode floor of
the same file measured in the same invocation.

    python benchmarks/bench_build.py --long                      # 10,000,000 steps (~3 GB of JSONL)
    python benchmarks/bench_build.py --long --long-steps 1000000 # a quicker look
    python benchmarks/bench_build.py --long --work /tmp/rplong --keep   # keep the run between invocations

Last, headless Chromium opens the run page from file:// and zooms into a 1,000-step window in
the middle of the run: the detail must hold all 1,000 points with the values written.

The run is written per schema by ``write_long_run``: the logger's exact line format
(``logger/encode.py``: ``json`` with ``separators=(",", ":")``, ``_step`` then ``_time`` rounded
to 3 decimals, then the values in ``bench_build.METRICS`` order, floats as ``repr``), in numpy
blocks, because ``run.log`` would take ~10 minutes for 10M steps. Each build runs in a fresh
subprocess (``bench_build.build``), so its peak RSS is its own; the build cache is in the work
folder (``XDG_CACHE_HOME``), emptied before the cold build.

Floors (the fastest plain decode of the same bytes, no frames, no pages): ``json.loads`` per
line (stdlib, one core) and pyarrow's JSON reader over the file in 32 MB blocks (the parser
the build uses, both cores). The ratio is against the faster of the two.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
T0 = 1764000000.0
BLOCK = 100_000
TARGET_RATIO, TARGET_RSS_MB = 1.2, 1024.0


def _values(s: np.ndarray, steps: int) -> list[np.ndarray]:
    """``bench_build._values`` for run 0, vectorised (same formulas, same key order)."""
    frac = s / max(1, steps)
    loss = 2.5 * np.exp(-4 * frac) + 0.05 * np.sin(s / 7.0) + 0.1
    return [loss, 1 - loss / 3, 1e-3 * (1 - frac), 1.0 + 0.3 * np.cos(s / 11.0), loss * 1.1,
            0.9 - loss / 4, 5e4 + 1e3 * np.sin(s / 50.0), s / 1000.0]


def write_long_run(runs: Path, steps: int) -> Path:
    """One finished run of ``steps`` steps x 8 metrics under ``runs/bench-long/``."""
    from runpages import schema

    from bench_build import METRICS

    d = runs / "bench-long" / "20251124-000000-long-run"
    d.mkdir(parents=True, exist_ok=True)
    keys = ",".join(f'{json.dumps(k)}:%r' for k in METRICS)
    fmt = '{"_step":%d,"_time":%r,' + keys + "}\n"
    with open(d / schema.METRICS_FILE, "w") as f:
        for start in range(0, steps, BLOCK):
            s = np.arange(start, min(steps, start + BLOCK), dtype=np.int64)
            t = np.round(T0 + (s + 1) * 0.1, 3)
            cols = [s.tolist(), t.tolist()] + [v.tolist() for v in _values(s.astype(np.float64), steps)]
            f.write((fmt * len(s)) % tuple(x for row in zip(*cols) for x in row))
    last = {k: float(v[-1]) for k, v in zip(METRICS, _values(np.array([steps - 1.0]), steps))}
    end = T0 + steps * 0.1
    meta = {"format_version": schema.SCHEMA_VERSION, "id": d.name, "name": "long-run", "project": "bench-long",
            "user": "ana", "host": "box", "command": ["python", "train.py"], "tags": ["bench"],
            "started_at": T0, "ended_at": end, "heartbeat_at": end, "status": "finished"}
    (d / schema.META_FILE).write_text(json.dumps(meta))
    (d / schema.CONFIG_FILE).write_text(json.dumps({"lr": 1e-3, "seed": 0}))
    (d / schema.SUMMARY_FILE).write_text(json.dumps(last))
    return d


# A build in a fresh process: wall seconds, CPU seconds (all threads) and peak RSS.
BUILD_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
import runpages.sitegen.reader, runpages.sitegen.charts, runpages.sitegen.render, runpages.sitegen.pages.run
import runpages.sitegen.longread as longread
longread.LONG_RUN_BYTES = min(longread.LONG_RUN_BYTES, int(sys.argv[4]))   # a small --long-steps run too
cfg = SiteConfig(runs_dirs=[sys.argv[2]], output=sys.argv[3])
t, c = time.perf_counter(), time.process_time()
r = build_site(cfg)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_s": time.process_time() - c, "pages": r.pages,
                  "runs": r.runs, "rebuilt": r.rebuilt_runs, "problems": len(r.problems),
                  "written": len(r.written),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(runs: Path, site: Path, chunked_above: int) -> dict:
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", BUILD_CHILD, str(ROOT), str(runs), str(site), str(chunked_above)],
                       capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"build failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def floor_json_loads(path: Path) -> tuple[float, float]:
    """(wall s, CPU s) of ``json.loads`` on every line."""
    t, c = time.perf_counter(), time.process_time()
    loads = json.loads
    with open(path, "rb") as f:
        for line in f:
            loads(line)
    return time.perf_counter() - t, time.process_time() - c


def floor_pyarrow(path: Path, block: int = 16 * 1024 * 1024) -> tuple[float, float]:
    """(wall s, CPU s) of pyarrow's JSON reader over the file, block by block (as the build reads)."""
    import pyarrow as pa
    import pyarrow.json as pajson

    t, c = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        rest = b""
        while True:
            data = f.read(block)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            pajson.read_json(pa.BufferReader(data[:cut]))
    return time.perf_counter() - t, time.process_time() - c


def _tree(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``, each inode once (hard links are not counted twice)."""
    seen, total, n = set(), 0, 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            n += 1
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total, n


def _tiles(site: Path) -> tuple[int, int, int]:
    """(tile files, levels, tile bytes) in the site."""
    files, levels, size = 0, set(), 0
    for p in (site / "data" / "runs").rglob("z/*/*.js"):
        files += 1
        levels.add(p.parent.name)
        size += p.stat().st_size
    return files, len(levels), size


def run_long(work: Path, steps: int, grow, row) -> list[str]:
    """The --long table (``grow``, ``row`` from bench_build)."""
    runs = work / "runs-long"
    mark = runs / f".complete-{steps}"
    if not mark.exists():
        shutil.rmtree(runs, ignore_errors=True)
        t = time.perf_counter()
        write_long_run(runs, steps)
        mark.write_text("ok")
        print(f"wrote 1 run x {steps:,} steps x 8 metrics in {time.perf_counter() - t:.1f}s", flush=True)
    run_dir = next((runs / "bench-long").iterdir())
    metrics = run_dir / "metrics.jsonl"
    size_mb = metrics.stat().st_size / 1e6
    cache, site = work / "cache-long", work / "site-long"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(site, ignore_errors=True)
    os.environ["XDG_CACHE_HOME"] = str(cache)          # the build's cache: in the work folder

    f_arrow, c_arrow = floor_pyarrow(metrics)
    f_loads, c_loads = floor_json_loads(metrics)
    floor, floor_cpu = min((f_arrow, c_arrow), (f_loads, c_loads))
    # The product reads a file in chunks past longread.LONG_RUN_BYTES (256 MB); a smaller
    # --long-steps run is read in chunks too, so the same path is measured.
    chunked_above = metrics.stat().st_size // 2
    cold = build(runs, site, chunked_above)
    same = build(runs, site, chunked_above)
    grow(run_dir, 1000)
    grew = build(runs, site, chunked_above)
    site_b, site_files = _tree(site)
    tiles, levels, tile_b = _tiles(site)
    runs_b, _ = _tree(runs)
    ratio, ratio_cpu = cold["seconds"] / floor, cold["cpu_s"] / floor_cpu
    verdict = "ok  " if ratio <= TARGET_RATIO else "MISS"
    lines = [
        f"one run: {steps:,} steps x 8 metrics, metrics.jsonl {size_mb:,.0f} MB; seconds are wall (CPU)",
        row("floor: pyarrow JSON reader", f_arrow, "s", f"({c_arrow:.2f} s CPU) 16 MB blocks, both cores"),
        row("floor: json.loads per line", f_loads, "s", f"({c_loads:.2f} s CPU) stdlib, one core"),
        row("cold build (--long)", cold["seconds"], "s",
            f"({cold['cpu_s']:.2f} s CPU) {cold['pages']} pages, {cold['problems']} problems"),
        f"{'cold build / floor':<40} {ratio:>10.2f} x    {verdict} (target <= {TARGET_RATIO}; "
        f"CPU {ratio_cpu:.2f}x; floor = the faster one above)",
        f"{'peak RSS (cold build)':<40} {cold['max_rss_mb']:>10.0f} MB   "
        f"{'ok  ' if cold['max_rss_mb'] <= TARGET_RSS_MB else 'MISS'} (target <= {TARGET_RSS_MB:g} MB)",
        row("no-change rebuild (--long)", same["seconds"], "s", f"{same['rebuilt']} runs redone"),
        row("grew-by-1,000-steps rebuild", grew["seconds"], "s",
            f"({grew['cpu_s']:.2f} s CPU) {grew['rebuilt']} run redone, {grew['written']} site files written, "
            f"peak RSS {grew['max_rss_mb']:.0f} MB"),
        f"{'site size':<40} {site_b / 1e6:>10.0f} MB   {site_files:,} files; "
        f"{site_b / runs_b:.2f}x the run's files (hard links counted once)",
        f"{'levels / tiles':<40} {levels:>10d}      {tiles:,} tile files, {tile_b / 1e6:,.0f} MB",
    ]
    zoom = zoom_check(site, steps)
    if zoom is None:
        lines.append(f"{'zoom to 1,000 steps (Chromium)':<40} {'n/a':>10}      no chromium/chromedriver")
    else:
        lines.append(f"{'zoom to 1,000 steps (Chromium)':<40} {zoom[1]:>10.2f} s    "
                     f"{'all 1,000 points, exact values' if zoom[2] else 'MISSING points or values'}; "
                     f"page ready in {zoom[0]:.2f} s, from file://")
    return lines


ZOOM_JS = """
var plot = window.runpagesCharts.plots[arguments[0]], r = plot.figure.x_range;
r.setv({start: arguments[1], end: arguments[2]});
if ('have_updated_interactively' in r) r.have_updated_interactively = true;
"""
WINDOW_JS = """
var plot = window.runpagesCharts.plots[arguments[0]], lo = arguments[1], hi = arguments[2];
var rs = plot.renderers[Object.keys(plot.renderers)[0]], d = rs[rs.length - 1].data_source.data;
var step = [], raw = [];
for (var i = 0; i < d.step.length; i++) if (d.step[i] >= lo && d.step[i] <= hi) { step.push(d.step[i]); raw.push(d.raw[i]); }
return {level: plot.zoomLevel, step: step, raw: raw, n: d.step.length};
"""


def zoom_check(site: Path, steps: int) -> tuple[float, float, bool] | None:
    """Open the run page from file:// in headless Chromium, zoom train/loss into a 1,000-step
    window in the middle of the run: (seconds to the page ready, seconds to the detail, whether
    all 1,000 points arrived with the values written). None without Chromium."""
    import headless

    driver = headless.start()
    if driver is None:
        return None
    try:
        page = next((site / "p" / "bench-long" / "r").iterdir()) / "index.html"
        t = time.perf_counter()
        driver.get(page.as_uri())
        ready = _poll(driver, "return !!document.querySelector('#run-charts[data-ready]')")
        t_ready = time.perf_counter() - t
        lo = (steps // 2 // 1000) * 1000 + 123
        hi = lo + 999
        t = time.perf_counter()
        driver.execute_script(ZOOM_JS, "train/loss", lo, hi)
        ok = ready and _poll(driver, "return window.runpagesCharts.plots['train/loss'].zoomLevel === 0")
        t_detail = time.perf_counter() - t
        got = driver.execute_script(WINDOW_JS, "train/loss", lo, hi)
        want = _values(np.arange(lo, hi + 1, dtype=np.float64), steps)[0].tolist()
        exact = bool(ok) and got["step"] == list(range(lo, hi + 1)) and got["raw"] == want
        return t_ready, t_detail, exact
    finally:
        headless.stop(driver)


def _poll(driver, js: str, timeout: float = 60.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if driver.execute_script(js):
            return True
        time.sleep(0.02)
    return False


def add_arguments(ap) -> None:
    ap.add_argument("--long", action="store_true",
                    help="one run of 10,000,000 steps x 8 metrics (benchmarks/long_set.py)")
    ap.add_argument("--long-steps", type=int, default=10_000_000, help="steps of the --long run")


def main(args, grow, row) -> int:
    """``bench_build.py --long``: run the set, print the table."""
    import tempfile

    work = args.work or Path(tempfile.mkdtemp(prefix="rp-bench-long-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        lines = run_long(work, args.long_steps, grow, row)
        print()
        print("\n".join(lines))
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0
