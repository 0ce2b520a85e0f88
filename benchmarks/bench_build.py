"""Build benchmark: cold build, no-change rebuild, one-run-grew rebuild, read speed, peak memory,
run page size, and the time a 1,000-run project page takes to become interactive.

    python benchmarks/bench_build.py                 # 100 runs x 10,000 steps x 8 metrics (+ system)
    python benchmarks/bench_build.py --large         # 1,000 runs x 2,000 steps, plus one run of 1,000,000 steps
    python benchmarks/bench_build.py --work /tmp/rpbench --keep   # reuse generated runs between invocations
    python benchmarks/bench_build.py --long          # one run of 10,000,000 steps (benchmarks/long_set.py)
    python benchmarks/bench_build.py --team [--team-runs N]      # the team-year set: benchmarks/team_set.py

Runs are written by the real logger (``runpages.init`` / ``run.log`` with a fake clock; system
samples every 10 simulated seconds are written per schema, since the sampler reads the real
machine). Each build runs in a fresh subprocess so its peak memory (max RSS) is its own.
The browser figure needs Debian's chromium + chromedriver and is skipped without them.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import long_set  # --long: benchmarks/long_set.py

ROOT = Path(__file__).resolve().parents[1]

T0 = 1764000000.0
METRICS = ["train/loss", "train/acc", "train/lr", "train/grad_norm", "val/loss", "val/acc", "perf/tokens_per_s", "epoch"]

TARGETS = {  # name: (limit, unit) -- from issue 5
    "cold build (100-run set)": (15.0, "s"),
    "no-change rebuild": (1.0, "s"),
    "one-run-grew rebuild": (1.0, "s"),
    "run page size (no BokehJS)": (400.0, "KB"),
    "1,000-run project page interactive": (1.5, "s"),
    "peak memory (--large build)": (2048.0, "MB"),
    "site size / runs size": (1.2, "x"),        # issue 18: no second full copy of the data
}


def _values(step: int, i: int, steps: int) -> dict:
    frac = step / max(1, steps)
    loss = 2.5 * math.exp(-4 * frac) + 0.05 * math.sin(step / 7.0 + i) + 0.1
    return {"train/loss": loss, "train/acc": 1 - loss / 3, "train/lr": 1e-3 * (1 - frac),
            "train/grad_norm": 1.0 + 0.3 * math.cos(step / 11.0), "val/loss": loss * 1.1,
            "val/acc": 0.9 - loss / 4, "perf/tokens_per_s": 5e4 + 1e3 * math.sin(step / 50.0),
            "epoch": step / 1000.0}


def write_with_logger(runs: Path, project: str, idx: int, steps: int) -> Path:
    import runpages

    clock = [T0 + idx * 3600.0]
    run = runpages.init(project=project, name=f"run-{idx:04d}", dir=str(runs), system_metrics=False,
                      capture_console=False, clock=lambda: clock[0],
                      config={"lr": 1e-3 * (1 + idx % 5), "batch_size": 32 * (1 + idx % 4), "seed": idx,
                              "model": {"depth": 4 + idx % 3, "width": 256}},
                      tags=["bench", f"group-{idx % 7}"])
    for s in range(steps):
        clock[0] += 0.1
        run.log(_values(s, idx, steps))
    run.finish()
    run_dir = Path(run.dir) if hasattr(run, "dir") else max((runs / project).iterdir(), key=os.path.getmtime)
    _write_system(run_dir, T0 + idx * 3600.0, steps * 0.1)
    return run_dir


def write_direct(runs: Path, project: str, idx: int, steps: int) -> Path:
    """Per schema without the logger (fast): for the 1,000-run and 1,000,000-step sets."""
    from runpages import schema

    rid = f"20251124-{idx:06d}-run-{idx:04d}-bench{idx % 10}"
    d = runs / project / rid
    d.mkdir(parents=True, exist_ok=True)
    t0 = T0 + idx * 3600.0
    with open(d / schema.METRICS_FILE, "w") as f:
        for s in range(steps):
            rec = {"_step": s, "_time": round(t0 + s * 0.1, 3)}
            rec.update(_values(s, idx, steps))
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
    last = _values(steps - 1, idx, steps)
    meta = {"format_version": schema.SCHEMA_VERSION, "id": rid, "name": f"run-{idx:04d}", "project": project,
            "group": "", "tags": ["bench"], "notes": "", "user": ["ana", "bo", "cy"][idx % 3], "host": "box",
            "command": ["python", "train.py"], "git": {"commit": "0" * 40, "branch": "main", "dirty": False},
            "started_at": t0, "ended_at": t0 + steps * 0.1, "status": "finished", "heartbeat_at": t0 + steps * 0.1}
    (d / schema.META_FILE).write_text(json.dumps(meta))
    (d / schema.CONFIG_FILE).write_text(json.dumps({"lr": 1e-3 * (1 + idx % 5), "seed": idx}))
    (d / schema.SUMMARY_FILE).write_text(json.dumps(last))
    _write_system(d, t0, steps * 0.1)
    return d


def _write_system(run_dir: Path, t0: float, duration: float) -> None:
    from runpages import schema

    n = max(1, int(duration / 10.0))
    with open(run_dir / schema.SYSTEM_FILE, "w") as f:
        for i in range(n):
            f.write(json.dumps({"_time": t0 + i * 10.0, "cpu/proc_pct": 95.0 + i % 5, "mem/proc_rss_gb": 3.2,
                                "gpu/0/util_pct": 97.0, "gpu/0/mem_used_gb": 40.1, "gpu/0/power_w": 300.0 + i % 9}) + "\n")


def generate(runs: Path, n_runs: int, steps: int, use_logger: bool, project: str = "bench") -> float:
    t = time.perf_counter()
    for i in range(n_runs):
        (write_with_logger if use_logger else write_direct)(runs, project, i, steps)
    return time.perf_counter() - t


def grow(run_dir: Path, steps: int) -> None:
    """Append steps the way a still-running training would (metrics.jsonl only)."""
    from runpages import schema

    path = run_dir / schema.METRICS_FILE
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 4096))
        last = json.loads(f.read().splitlines()[-1])
    s0, t0 = int(last["_step"]) + 1, float(last["_time"])
    with open(path, "a") as f:
        for s in range(s0, s0 + steps):
            rec = {"_step": s, "_time": t0 + (s - s0 + 1) * 0.1}
            rec.update(_values(s, 0, s0 + steps))
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")


BUILD_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
t_import = time.perf_counter()
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
import runpages.sitegen.reader, runpages.sitegen.charts, runpages.sitegen.render, runpages.sitegen.pages.run, runpages.sitegen.pages.index  # what a warm process has
t_import = time.perf_counter() - t_import
cfg = SiteConfig(runs_dirs=[sys.argv[2]], output=sys.argv[3])
t = time.perf_counter()
r = build_site(cfg)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "import_s": t_import, "pages": r.pages, "written": r.pages_written, "runs": r.runs,
                  "rebuilt": r.rebuilt_runs, "problems": len(r.problems),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(runs: Path, site: Path) -> dict:
    p = subprocess.run([sys.executable, "-c", BUILD_CHILD, str(ROOT), str(runs), str(site)],
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"build failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def tree_bytes(path: Path, names=("metrics.jsonl", "system.jsonl", "meta.json", "config.json", "summary.json")) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.name in names)


def site_size(site: Path, runs: Path) -> tuple[int, int, int]:
    """(runs bytes, site bytes as a host stores it, site bytes new on this disk): a site file that
    is a hard link to a run's file (same inode) costs no disk here, but a host gets its bytes."""
    run_files = [p.stat() for p in runs.rglob("*") if p.is_file() and p.name != ".complete"]
    inodes = {(st.st_dev, st.st_ino) for st in run_files}
    site_files = [p.stat() for p in site.rglob("*") if p.is_file()]
    new = sum(st.st_size for st in site_files if (st.st_dev, st.st_ino) not in inodes)
    return sum(st.st_size for st in run_files), sum(st.st_size for st in site_files), new


def run_page_kb(site: Path) -> tuple[float, str]:
    """Largest run page with what it loads, BokehJS excluded (HTML + data script + CSS + JS)."""
    statics = ["runpages.css", "site.js", "charts.js", "run.js"]
    static_b = sum((site / "_static" / s).stat().st_size for s in statics if (site / "_static" / s).exists())
    best = (0, "")
    for page in (site / "p").glob("*/r/*/index.html"):
        proj, rid = page.parts[-4], page.parts[-2]
        data = site / "data" / "runs" / proj / f"{rid}.js"
        size = page.stat().st_size + (data.stat().st_size if data.exists() else 0) + static_b
        best = max(best, (size, f"{proj}/{rid}"))
    return best[0] / 1024, best[1]


def project_tti(site: Path, project: str) -> float | None:
    """Seconds from navigation start until the project page's table shows its rows and the page
    answers (a script turn after load), in headless Chromium, served over HTTP."""
    import headless

    if not headless.available():
        return None
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    driver = headless.start()
    driver.set_script_timeout(90)
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/p/{project}/index.html"
        times = []
        for _ in range(3):
            driver.get("about:blank")
            driver.get(url)
            end = time.time() + 60
            while time.time() < end:
                ok = driver.execute_script(
                    "return document.readyState === 'complete' && "
                    "document.querySelectorAll('tbody tr').length >= 50")
                if ok:
                    break
                time.sleep(0.02)
            # A promise resolved on the next macrotask: the main thread is free to answer input.
            t = driver.execute_async_script(
                "var cb = arguments[arguments.length - 1];"
                "setTimeout(function () { cb(performance.now()); }, 0);")
            times.append(t / 1000.0)
        # Then the overlay charts of every run (opened on demand on the project page).
        charts = driver.execute_async_script("""
            var cb = arguments[arguments.length - 1], box = document.getElementById('rp-charts');
            if (!box) { cb(null); return; }
            var t0 = performance.now(); box.open = true; box.dispatchEvent(new Event('toggle'));
            (function poll() {
              if (document.querySelector('#rp-project-charts[data-ready]')) cb((performance.now() - t0) / 1000);
              else if (performance.now() - t0 > 60000) cb(null); else setTimeout(poll, 20);
            })();""")
        return min(times), charts
    finally:
        headless.stop(driver)
        srv.shutdown()


def row(name: str, value: float | None, unit: str, note: str = "") -> str:
    target = TARGETS.get(name)
    if value is None:
        return f"{name:<40} {'n/a':>10}       {note}"
    verdict = ""
    if target:
        verdict = ("ok  " if value <= target[0] else "MISS") + f" (target <= {target[0]:g} {target[1]})"
    return f"{name:<40} {value:>10.2f} {unit:<4} {verdict} {note}".rstrip()


def json_floor(runs: Path) -> float:
    """Baseline measured in the same run: read every JSONL file and ``json.loads`` each line,
    the least any reader of these logs must do (no frames, no pages)."""
    t = time.perf_counter()
    loads = json.loads
    for path in runs.rglob("*.jsonl"):
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    loads(line)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="1,000 runs + one 1,000,000-step run")
    ap.add_argument("--work", type=Path, help="work folder (default: a new temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (and reuse its runs)")
    ap.add_argument("--no-logger", action="store_true", help="write files per schema instead of the logger")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    long_set.add_arguments(ap)
    ap.add_argument("--team", action="store_true", help="the team-year set (benchmarks/team_set.py)")
    ap.add_argument("--team-runs", type=int, default=100_000, help="--team: number of runs")
    ap.add_argument("--team-steps", type=int, default=1000, help="--team: steps per run")
    ap.add_argument("--team-projects", type=int, default=30, help="--team: number of projects")
    args = ap.parse_args()
    if args.long:
        return long_set.main(args, grow, row)
    if args.team:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        os.environ["RUNPAGES_TEAM_PROJECTS"] = str(args.team_projects)     # read by team_set on import
        import team_set

        return team_set.main(args)

    work = args.work or Path(tempfile.mkdtemp(prefix="rp-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    runs, big_runs = work / "runs", work / "runs-1000"
    lines = []
    try:
        use_logger = not args.no_logger
        if use_logger:
            try:
                import runpages  # noqa: F401
                runpages.init  # noqa: B018
            except (ImportError, AttributeError):
                use_logger = False
        if args.large:
            n_runs, steps = 1000, 2000
        else:
            n_runs, steps = 100, 10_000
        if not (runs / ".complete").exists():
            shutil.rmtree(runs, ignore_errors=True)
            gen = generate(runs, n_runs, steps, use_logger and not args.large)
            if args.large:
                write_direct(runs, "bench-huge", 999_999, 1_000_000)
            (runs / ".complete").write_text("ok")
            print(f"generated {n_runs} runs x {steps} steps x {len(METRICS)} metrics"
                  f"{' + 1 run x 1,000,000 steps' if args.large else ''} in {gen:.1f}s"
                  f" ({'logger' if use_logger and not args.large else 'files per schema'})", flush=True)
        site = work / "site"
        shutil.rmtree(site, ignore_errors=True)
        data_mb = tree_bytes(runs) / 1e6

        floor = json_floor(runs)
        cold = build(runs, site)
        runs_b, site_b, site_new = site_size(site, runs)
        lines.append(row("floor: json.loads every line", floor, "s", "same files, stdlib, in-process"))
        lines.append(row("cold build (100-run set)" if not args.large else "cold build (--large set)",
                         cold["seconds"], "s", f"{cold['pages']} pages, {cold['runs']} runs; "
                         f"{cold['seconds'] / floor:.2f}x the json.loads floor"))
        lines.append(row("read speed (cold build)", data_mb / cold["seconds"], "MB/s", f"{data_mb:.0f} MB of run files"))
        lines.append(row("peak memory (--large build)" if args.large else "peak memory (cold build)",
                         cold["max_rss_mb"], "MB"))
        same = build(runs, site)
        tag = " (--large)" if args.large else ""
        lines.append(row("no-change rebuild" + tag, same["seconds"], "s",
                         f"{same['rebuilt']} runs redone; + {same['import_s']:.2f}s imports in a new process"))
        first = sorted((runs / "bench").iterdir())[0]
        grow(first, 1000)
        grew = build(runs, site)
        lines.append(row("one-run-grew rebuild" + tag, grew["seconds"], "s", f"{grew['rebuilt']} run redone"))
        kb, which = run_page_kb(site)
        lines.append(row("run page size (no BokehJS)", kb, "KB", which))
        lines.append(row("site size / runs size", site_b / runs_b, "x",
                         f"{site_b / 1e6:.0f} MB site as a host stores it, {runs_b / 1e6:.0f} MB runs; "
                         f"{site_new / runs_b:.2f}x new on this disk (hard links)"))
        if args.large:
            huge = site / "data/runs/bench-huge"
            lines.append(row("1,000,000-step run data script", sum(p.stat().st_size for p in huge.glob("*.js")) / 1024, "KB"))

        if not args.no_browser:
            if not args.large:
                if not (big_runs / ".complete").exists():
                    shutil.rmtree(big_runs, ignore_errors=True)
                    generate(big_runs, 1000, 200, False, project="bench")
                    (big_runs / ".complete").write_text("ok")
                big_site = work / "site-1000"
                build(big_runs, big_site)
            else:
                big_site = site
            tti, charts_s = (project_tti(big_site, "bench") or (None, None)) \
                if (big_site / "p/bench/index.html").exists() else (None, None)
            lines.append(row("1,000-run project page interactive", tti, "s",
                             "" if tti is not None else "(no project page or no Chromium)"))
            lines.append(row("1,000-run overlay charts drawn", charts_s, "s", "after opening the charts section"))
        print()
        print("\n".join(lines))
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
