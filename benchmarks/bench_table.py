"""Large-project benchmark: a project of N runs (default 100,000) opens, filters and sorts in
headless Chromium; page and data sizes.

    python benchmarks/bench_table.py                          # 100,000 runs, table-only build
    python benchmarks/bench_table.py --runs 10000             # a smaller set
    python benchmarks/bench_table.py --work /tmp/rptable --keep   # reuse the generated runs
    python benchmarks/bench_table.py --full-build             # the real build_site (every run page too)
    python benchmarks/bench_table.py --runs 20000 --tile 5    # 20,000 real runs, the browser at 100,000 rows

``--tile K`` repeats the built rows K times in the rows script (run ids suffixed ``-t<k>``) so the
browser figures can be taken at N x K rows where reading N x K runs would take too long (the
reader costs ~20 ms a run on a busy 2-core machine: 100,000 runs are half an hour before the
first page); build figures are always those of the N real runs.

Runs are written per schema by ``bench_build.write_direct`` (20 steps each by default: the
table reads summaries and configs, not series). The default build renders what the project page
loads -- the page (``pages.project.build_project``), its rows script (``pages.project_rows``),
its chart data (the overlay's runs, ``pages.project.chart_runs``) and the theme's static files --
from ``load_logbook``, so the figure is the page's, not the 100,000 run pages' (that is
``bench_build.py --team``); ``--full-build`` runs ``build_site`` instead.

Browser figures (Debian chromium + chromedriver; skipped without them), served over HTTP:
time to interactive (navigation start until the table's first rows are laid out and the main
thread answers a script turn; best of 3), against a floor measured in the same run: a blank page
that loads only the rows script (the parse cost no table can avoid); filter and sort times
(``RunpagesTable.lastFilterMs`` / ``lastSortMs`` and the wall time including layout, median of 3).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_build import write_direct  # noqa: E402  (the one generator of bench runs)
import headless  # noqa: E402

PROJECT = "bench"
TARGETS = {  # name: (limit, unit) -- from issue 18, "Large projects"
    "time to interactive": (2.0, "s"),
    "filter (lr < 2e-3 user = ana)": (200.0, "ms"),
    "filter (word: run-09)": (200.0, "ms"),
    "sort (val/loss, numeric)": (200.0, "ms"),
    "sort (name, text)": (200.0, "ms"),
}


def _write_one(args):
    runs, i, steps = args
    write_direct(Path(runs), PROJECT, i, steps)


def generate(runs: Path, n: int, steps: int) -> float:
    t = time.perf_counter()
    with Pool(os.cpu_count() or 2) as pool:
        pool.map(_write_one, [(str(runs), i, steps) for i in range(n)], chunksize=500)
    return time.perf_counter() - t


def _tile(payload: dict, k: int) -> dict:
    """The rows ``k`` times over, ids suffixed, for browser figures beyond the runs read."""
    from runpages.sitegen.pages.project_rows import _pack

    def unpack(a):
        return [a["d"][i] for i in a["i"]] if isinstance(a, dict) else a
    ids = payload["ids"] + [f"{rid}-t{j}" for j in range(1, k) for rid in payload["ids"]]
    out = {"n": payload["n"] * k, "ids": ids, "url": payload["url"], "columns": []}
    for col in payload["columns"]:
        out["columns"].append({name: _pack(unpack(arr) * k) for name, arr in col.items()})
    return out


def build_table_only(runs: Path, out: Path, tile: int = 1) -> dict:
    """The project page and what it loads, from the real page builders."""
    from runpages.sitegen import charts
    from runpages.sitegen.assets import copy_assets
    from runpages.sitegen.atomic import write_atomic
    from runpages.sitegen.build import _renderer
    from runpages.sitegen.config import SiteConfig
    from runpages.sitegen.logbook import load_logbook
    from runpages.sitegen.pages.project import build_project, chart_runs, is_large
    from runpages.sitegen.pages.project_rows import rows_script
    from runpages.sitegen.render import _theme_dirs

    config = SiteConfig(runs_dirs=[runs], output=out)
    times = {}
    t = time.perf_counter()
    book = load_logbook(config)
    times["load_logbook"] = time.perf_counter() - t
    project = next(p for p in book.projects if p.name == PROJECT)
    site = book.site
    t = time.perf_counter()
    page = build_project(project, book)
    html = _renderer(config, book).render(page)
    times["project page"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = rows_script(project, site) if is_large(project) else ""
    times["rows script"] = time.perf_counter() - t
    if tile > 1:                # not a build step: rows for the browser figures only
        t = time.perf_counter()
        from runpages.sitegen.charts import js_json
        from runpages.sitegen.pages.project_rows import rows_payload

        rows = ("(window.RunpagesRows = window.RunpagesRows || {})[" + js_json(site.project_slug(PROJECT)) + "] = "
                + js_json(_tile(rows_payload(project, site), tile)) + ";\n")
        times[f"(not build) rows tiled {tile}x"] = time.perf_counter() - t
    t = time.perf_counter()
    data = charts.project_script(project, site, None, chart_runs(project) if is_large(project) else None)
    times["chart data"] = time.perf_counter() - t
    write_atomic(out / page.path, html.encode())
    if rows:
        write_atomic(out / site.project_rows(project), rows.encode())
    write_atomic(out / site.project_data(project), data.encode())
    copy_assets(_theme_dirs(config.theme), out)
    return times


def build_full(runs: Path, out: Path) -> dict:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    t = time.perf_counter()
    build_site(SiteConfig(runs_dirs=[runs], output=out))
    return {"build_site": time.perf_counter() - t}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def browser_figures(site: Path, rows_rel: str, repeat: int = 3) -> dict | None:
    if not headless.available():
        return None
    (site / "_floor.html").write_text(f'<!doctype html><meta charset="utf-8"><script src="{rows_rel}"></script>')
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/"
    driver = headless.start(timeout=120)
    turn = ("var cb = arguments[arguments.length - 1];"
            "setTimeout(function () { cb(performance.now()); }, 0);")
    try:
        tti, floor = [], []
        for _ in range(repeat):
            driver.get("about:blank")
            driver.get(base + "_floor.html")          # returns after onload: the rows script ran
            floor.append(driver.execute_async_script(turn) / 1000.0)
            driver.get("about:blank")
            driver.get(base + f"p/{PROJECT}/index.html")
            end = time.time() + 120
            while time.time() < end and not driver.execute_script(
                    "return !!(window.RunpagesTable && RunpagesTable.ready) && "
                    "document.querySelectorAll('#rp-runs tbody tr[data-key]').length > 0"):
                time.sleep(0.01)
            tti.append(driver.execute_async_script(turn) / 1000.0)
        out = {"time to interactive": min(tti), "floor": min(floor),
               "ready (table.js)": driver.execute_script("return RunpagesTable.readyMs") / 1000.0,
               "rows laid out": driver.execute_script(
                   "return document.querySelectorAll('#rp-runs tbody tr[data-key]').length"),
               "heap MB": driver.execute_script(
                   "return performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null")}
        timed = """
            const t = RunpagesTable, what = arguments[0], arg = arguments[1], desc = arguments[2];
            const a = performance.now();
            if (what === 'query') t.query(arg); else t.sortBy(arg, desc);
            document.body.offsetHeight;
            const wall = performance.now() - a;
            return [wall, what === 'query' ? t.lastFilterMs : t.lastSortMs, t.visibleKeys().length];"""
        for name, what, arg, desc in [("filter (lr < 2e-3 user = ana)", "query", "lr < 2e-3 user = ana", False),
                                      ("filter (word: run-09)", "query", "run-09", False),
                                      ("sort (val/loss, numeric)", "sort", "val/loss", False),
                                      ("sort (name, text)", "sort", "name", True)]:
            walls, own, shown = [], [], 0
            for i in range(repeat):
                if what == "query":
                    driver.execute_script("RunpagesTable.query('')")
                else:
                    driver.execute_script("RunpagesTable.query(''); RunpagesTable.sortBy('start', !!arguments[0])", i % 2)
                w, j, shown = driver.execute_script(timed, what, arg, desc)
                walls.append(w)
                own.append(j)
            out[name] = statistics.median(walls)
            out[name + " (js)"] = statistics.median(own)
            out[name + " rows"] = shown
        driver.execute_script("RunpagesTable.query('')")
        out["scroll to the end, rows laid out"] = driver.execute_async_script("""
            var cb = arguments[arguments.length - 1], wrap = document.querySelector('.rp-table-wrap');
            wrap.scrollTop = wrap.scrollHeight;
            requestAnimationFrame(function () { requestAnimationFrame(function () {
              cb(document.querySelectorAll('#rp-runs tbody tr[data-key]').length); }); });""")
        return out
    finally:
        headless.stop(driver)
        srv.shutdown()


def line(name: str, value, unit: str, note: str = "") -> str:
    if value is None:
        return f"{name:<40} {'n/a':>10}       {note}".rstrip()
    target = TARGETS.get(name)
    verdict = ""
    if target:
        verdict = ("ok  " if value <= target[0] else "MISS") + f" (target <= {target[0]:g} {target[1]})"
    return f"{name:<40} {value:>10.2f} {unit:<4} {verdict} {note}".rstrip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100_000, help="runs in the project (default 100,000)")
    ap.add_argument("--steps", type=int, default=20, help="steps per run (default 20)")
    ap.add_argument("--work", type=Path, help="work folder (default: a new temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (and reuse its runs)")
    ap.add_argument("--full-build", action="store_true", help="build the whole site with build_site")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium measurements")
    ap.add_argument("--tile", type=int, default=1, help="repeat the rows K times in the rows script (browser figures at N x K rows)")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="rp-bench-table-"))
    runs, site = work / f"runs-{args.runs}x{args.steps}", work / "site"
    try:
        if not (runs / PROJECT).is_dir() or len(os.listdir(runs / PROJECT)) != args.runs:
            shutil.rmtree(runs, ignore_errors=True)
            print(f"writing {args.runs:,} runs x {args.steps} steps ...", flush=True)
            print(f"  written in {generate(runs, args.runs, args.steps):.1f}s", flush=True)
        shutil.rmtree(site, ignore_errors=True)
        print("building ...", flush=True)
        times = build_full(runs, site) if args.full_build else build_table_only(runs, site, args.tile)
        rows_rel = f"data/projects/{PROJECT}.rows.js"
        html = site / "p" / PROJECT / "index.html"
        rows = site / rows_rel
        data = site / "data" / "projects" / f"{PROJECT}.js"
        figures = None if args.no_browser else browser_figures(site, rows_rel)

        shown = args.runs * (1 if args.full_build else args.tile)
        print(f"\nLarge project: {args.runs:,} runs ({'build_site' if args.full_build else 'table-only build'})"
              + (f", browser at {shown:,} rows (the rows tiled {args.tile}x)" if shown != args.runs else ""))
        for k, v in times.items():
            print(line(f"build: {k}", v, "s"))
        print(line("project page HTML", html.stat().st_size / 1024, "KB"))
        print(line("rows script", rows.stat().st_size / 1048576 if rows.exists() else None, "MB",
                   f"{rows.stat().st_size / max(1, shown):.0f} B/run" if rows.exists() else ""))
        print(line("chart data script", data.stat().st_size / 1024, "KB"))
        if figures is None:
            print("browser figures skipped (no chromium/chromedriver, or --no-browser)")
            return 0
        tti, floor = figures["time to interactive"], figures["floor"]
        print(line("time to interactive", tti, "s", f"({tti / floor:.1f}x the floor)" if floor else ""))
        print(line("floor: blank page + rows script", floor, "s"))
        print(line("table.js ready (in script)", figures["ready (table.js)"], "s"))
        print(line("rows laid out at first", figures["rows laid out"], ""))
        for name in ("filter (lr < 2e-3 user = ana)", "filter (word: run-09)", "sort (val/loss, numeric)",
                     "sort (name, text)"):
            print(line(name, figures[name], "ms", f"(js {figures[name + ' (js)']:.0f} ms; "
                                                  f"{figures[name + ' rows']:,} rows match)"))
        print(line("rows laid out after scrolling to the end", figures["scroll to the end, rows laid out"], ""))
        print(line("JS heap", figures["heap MB"], "MB"))
        return 0
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
