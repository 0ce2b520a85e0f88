"""The "team-year" set and its benchmark: many runs over many users and projects.

    python benchmarks/bench_build.py --team                          # 100,000 runs x 1,000 steps x 8 metrics
    python benchmarks/bench_build.py --team --team-runs 2000         # small, to profile
    python benchmarks/bench_build.py --team --work /tmp/rpteam --keep   # reuse the generated runs
    python benchmarks/bench_build.py --team --team-runs 10000 --team-projects 3   # 100,000's project size

Run ``i`` belongs to project ``i % 30`` and user ``i % 20``; it logs 1,000 steps (0.1 s apart
on a fake clock) of 8 metrics and a system sample every 10 simulated seconds. The runs are
written by ``write_run``, a generator that writes the same bytes the real logger writes for
the same inputs (``runpages.init(clock=..., meta=..., id=...)``, ``save_code=False``), only
without threads, locks and per-call checks: ``tests/site/test_team_set.py`` writes a few runs
both ways and compares every file byte for byte. It uses the logger's own encoder
(``runpages.encode.dumps``), so a change of format there changes both sides.

Each build runs in a fresh subprocess; its peak memory is the largest sum of the resident
sizes of the build process and its children (pool workers), sampled every 20 ms.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = 1764000000.0
USERS = [f"user{u:02d}" for u in range(20)]
# ``--team-projects N`` (through the environment, so the build children see it too): fewer,
# larger projects, e.g. 10,000 runs in 3 projects have the project size of 100,000 in 30.
PROJECTS = [f"team-{p:02d}" for p in range(int(os.environ.get("RUNPAGES_TEAM_PROJECTS") or 30))]
SYSTEM_EVERY_S = 10.0
STEP_S = 0.1

TARGETS = {  # name: (limit, unit) -- from issue 18
    "cold build": (300.0, "s"),
    "no-change rebuild": (2.0, "s"),
    "one run grew by 1,000 steps": (2.0, "s"),
    "peak memory (build + workers)": (2048.0, "MB"),
}


# ---- the runs --------------------------------------------------------------------------------
def spec(i: int, steps: int = 1000) -> dict:
    """Everything that decides run ``i``'s files: the inputs a training script would pass."""
    user = USERS[i % len(USERS)]
    return {
        "project": PROJECTS[i % len(PROJECTS)], "name": f"run-{i:06d}", "steps": steps, "i": i,
        "id": f"20251124-{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}-run-{i:06d}-t{i % 97:02d}",
        "t0": T0 + i * 600.0,
        "config": {"lr": 1e-3 * (1 + i % 5), "batch_size": 32 * (1 + i % 4), "seed": i,
                   "optimizer": ["adam", "sgd", "lion"][i % 3], "model": {"depth": 4 + i % 3, "width": 256}},
        "tags": ["team", f"group-{i % 7}"],
        "meta": {"user": user, "host": f"gpu-{i % 13:02d}", "os": "Linux 6.8.0 x86_64", "python": "3.11.7",
                 "command": ["python", "train.py", "--seed", str(i)], "cwd": f"/home/{user}/proj",
                 "cpu_count": 32, "memory_gb": 256.0,
                 "git": {"commit": f"{i * 2654435761 % 16**40:040x}", "branch": "main", "remote": None,
                         "dirty": bool(i % 2)},
                 "gpu": {"count": 1, "names": ["NVIDIA H100"]}},
    }


def values(step: int, i: int, steps: int) -> dict:
    """The 8 metrics of run ``i`` at ``step``."""
    frac = step / max(1, steps)
    loss = 2.5 * math.exp(-4 * frac) + 0.05 * math.sin(step / 7.0 + i) + 0.1 + (i % 11) * 0.01
    return {"train/loss": loss, "train/acc": 1 - loss / 3, "train/lr": 1e-3 * (1 - frac),
            "train/grad_norm": 1.0 + 0.3 * math.cos(step / 11.0), "val/loss": loss * 1.1,
            "val/acc": 0.9 - loss / 4, "perf/tokens_per_s": 5e4 + 1e3 * math.sin(step / 50.0),
            "epoch": step / 1000.0}


def system_sample(k: int) -> dict:
    return {"cpu/proc_pct": 95.0 + k % 5, "mem/proc_rss_gb": 3.2, "gpu/0/util_pct": 97.0 - k % 3,
            "gpu/0/mem_used_gb": 40.1, "gpu/0/power_w": 300.0 + k % 9}


def step_time(t0: float, s: int) -> float:
    return t0 + (s + 1) * STEP_S


def system_times(t0: float, steps: int) -> list[float]:
    return [t0 + k * SYSTEM_EVERY_S for k in range(max(1, int(steps * STEP_S / SYSTEM_EVERY_S)))]


def log_with_logger(root: Path, sp: dict) -> Path:
    """Write run ``sp`` through ``runpages.init`` / ``log`` / ``log_system`` / ``finish``."""
    import runpages

    clock = [sp["t0"]]
    run = runpages.init(project=sp["project"], name=sp["name"], id=sp["id"], dir=str(root),
                        config=sp["config"], tags=sp["tags"], meta=sp["meta"], clock=lambda: clock[0],
                        system_metrics=False, capture_console=False, save_code=False)
    for s in range(sp["steps"]):
        clock[0] = step_time(sp["t0"], s)
        run.log(values(s, sp["i"], sp["steps"]))
    for k, t in enumerate(system_times(sp["t0"], sp["steps"])):
        run.log_system(system_sample(k), time=t, source="simulated")
    clock[0] = step_time(sp["t0"], sp["steps"])
    run.finish()
    return Path(run.dir)


def write_run(root: Path, sp: dict) -> Path:
    """Write run ``sp`` as the logger would (see the module docstring), quickly."""
    from runpages import schema
    from runpages.encode import dumps, to_json_tree

    d = Path(root) / sp["project"] / sp["id"]
    d.mkdir(parents=True, exist_ok=True)
    t0, steps, i = sp["t0"], sp["steps"], sp["i"]
    last: dict = {}
    lines = []
    for s in range(steps):
        rec = {"_step": s, "_time": round(step_time(t0, s), 3)}
        rec.update(values(s, i, steps))
        lines.append(dumps(rec))
        last.update(rec)
    (d / schema.METRICS_FILE).write_text("\n".join(lines) + "\n" if lines else "")
    (d / schema.SYSTEM_FILE).write_text("".join(
        dumps({"_time": round(t, 3), **to_json_tree(system_sample(k))}) + "\n"
        for k, t in enumerate(system_times(t0, steps))))
    (d / schema.CONFIG_FILE).write_text(dumps(to_json_tree(sp["config"])) + "\n")
    summary = {k: v for k, v in last.items() if not k.startswith("_")}
    (d / schema.SUMMARY_FILE).write_text(dumps(to_json_tree(summary)) + "\n")
    m = sp["meta"]
    end = step_time(t0, steps)
    meta = {"format_version": schema.SCHEMA_VERSION, "id": sp["id"], "name": sp["name"],
            "project": sp["project"], "group": None, "tags": list(sp["tags"]), "notes": None,
            **{k: m[k] for k in ("user", "host", "os", "python", "command", "cwd", "cpu_count", "memory_gb")},
            "git": m["git"], "gpu": m["gpu"], "started_at": t0, "ended_at": end,
            "duration_s": round(max(0.0, end - t0), 3), "status": schema.FINISHED,
            "exit": {"reason": "finished", "traceback": None}, "heartbeat_at": end,
            "system_source": "simulated"}
    (d / schema.META_FILE).write_text(dumps(to_json_tree(meta)) + "\n")
    return d


def grow(run_dir: Path, sp: dict, more: int) -> None:
    """Append ``more`` steps to a finished run the way a resumed training would (metrics and
    summary; the pages must follow)."""
    from runpages import schema
    from runpages.encode import dumps, to_json_tree

    total = sp["steps"] + more
    last: dict = {}
    with open(run_dir / schema.METRICS_FILE, "a") as f:
        for s in range(sp["steps"], total):
            rec = {"_step": s, "_time": round(step_time(sp["t0"], s), 3)}
            rec.update(values(s, sp["i"], total))
            f.write(dumps(rec) + "\n")
            last = rec
    summary = {k: v for k, v in last.items() if not k.startswith("_")}
    (run_dir / schema.SUMMARY_FILE).write_text(dumps(to_json_tree(summary)) + "\n")


def _write_range(args) -> int:
    root, start, stop, steps = args
    for i in range(start, stop):
        write_run(Path(root), spec(i, steps))
    return stop - start


def generate(root: Path, n_runs: int, steps: int, jobs: int = 0) -> float:
    """Write runs 0..n_runs-1 under ``root`` with ``jobs`` processes (default: every core)."""
    from concurrent.futures import ProcessPoolExecutor

    t = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    chunk = max(1, min(500, n_runs // (jobs * 4) or 1))
    parts = [(str(root), a, min(n_runs, a + chunk), steps) for a in range(0, n_runs, chunk)]
    if jobs == 1 or len(parts) == 1:
        for p in parts:
            _write_range(p)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_write_range, parts))
    return time.perf_counter() - t


# ---- floors ----------------------------------------------------------------------------------
def scandir_floor(root: Path) -> tuple[float, int]:
    """A bare ``os.scandir`` walk of <runs>/<project>/<run>/ with one stat per file."""
    t = time.perf_counter()
    n = 0
    with os.scandir(root) as projects:
        for p in projects:
            if not p.is_dir() or p.name.startswith("."):
                continue
            with os.scandir(p.path) as runs:
                for r in runs:
                    with os.scandir(r.path) as files:
                        for f in files:
                            f.stat()
                    n += 1
    return time.perf_counter() - t, n


def _decode_files(paths: list[str]) -> int:
    loads, n = json.loads, 0
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    loads(line)
                    n += 1
    return n


def json_floor(root: Path, jobs: int) -> float:
    """``json.loads`` of every line of every JSONL file, over ``jobs`` processes: the least any
    reader of these logs must do on this many cores."""
    from concurrent.futures import ProcessPoolExecutor

    paths = [str(p) for p in Path(root).glob("*/*/*.jsonl")]
    t = time.perf_counter()
    if jobs <= 1:
        _decode_files(paths)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_decode_files, [paths[k::jobs * 8] for k in range(jobs * 8)]))
    return time.perf_counter() - t


# ---- builds ----------------------------------------------------------------------------------
BUILD_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
import runpages.sitegen.reader, runpages.sitegen.charts, runpages.sitegen.render, runpages.sitegen.pages.run  # a warm process
cfg = SiteConfig(runs_dirs=[sys.argv[2]], output=sys.argv[3], cache_dir=sys.argv[4])
t = time.perf_counter()
r = build_site(cfg)
dt = time.perf_counter() - t
html = sorted(p for p in r.written if p.endswith(".html"))
print(json.dumps({"seconds": dt, "pages": r.pages, "written": r.pages_written, "runs": r.runs,
                  "rebuilt": r.rebuilt_runs, "problems": len(r.problems), "files": r.files,
                  "html": html[:20], "n_html": len(html), "kept": r.kept_projects, "phases": r.phases}))
"""


WARM_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/benchmarks")
import team_set
from pathlib import Path
from runpages.sitegen.build import build_site
from runpages.sitegen.config import SiteConfig
cfg = SiteConfig(runs_dirs=[sys.argv[2]], output=sys.argv[3], cache_dir=sys.argv[4])
other = sorted(Path(sys.argv[2]).glob("*/*"))[-1]  # as serve --watch after one change: the process stays up
build_site(cfg, changed={str(other.resolve())})
team_set.grow(Path(sys.argv[5]), team_set.spec(int(sys.argv[6]), int(sys.argv[7])), 1000)
t = time.perf_counter()
r = build_site(cfg, changed={str(Path(sys.argv[5]).resolve())}, events=True)   # as watch's file events name it
dt = time.perf_counter() - t
html = sorted(p for p in r.written if p.endswith(".html"))
print(json.dumps({"seconds": dt, "rebuilt": r.rebuilt_runs, "n_html": len(html), "html": html[:20],
                  "kept": r.kept_projects}))
"""


def warm_grew(runs: Path, site: Path, cache: Path, run_dir: Path, i: int, steps: int) -> dict:
    """One run grew, rebuilt by a process that built a moment ago (``serve --watch``)."""
    p = subprocess.run([sys.executable, "-c", WARM_CHILD, str(ROOT), str(runs), str(site), str(cache),
                        str(run_dir), str(i), str(steps)], capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"build failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def build(runs: Path, site: Path, cache: Path) -> dict:
    """One build in a fresh process: its figures, wall time and the peak RSS of its tree."""
    import psutil

    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", BUILD_CHILD, str(ROOT), str(runs), str(site), str(cache)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0
    me = psutil.Process(p.pid)
    while p.poll() is None:
        try:
            procs = [me] + me.children(recursive=True)
            peak = max(peak, sum(q.memory_info().rss for q in procs if q.is_running()))
            peak_pss = max(peak_pss, sum(_pss(q.pid) for q in procs))
        except psutil.Error:
            pass
        time.sleep(0.02)
    out, err = p.communicate()
    if p.returncode:
        sys.exit(f"build failed:\n{err}")
    res = json.loads(out.strip().splitlines()[-1])
    res["wall_s"] = time.perf_counter() - t
    res["peak_mb"] = peak / 2**20
    res["peak_pss_mb"] = peak_pss / 2**20
    return res


def _pss(pid: int) -> int:
    """Proportional set size (bytes): forked workers share their parent's pages, which a sum
    of RSS counts once per process; PSS splits each shared page between its sharers."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def steps_row(res: dict, per_run: bool = False) -> str:
    """Where a build's time went (``BuildResult.phases``); ``per_run``: also per redone run for
    the steps that do each run (a cold build's)."""
    each = {"parse", "run pages"} if per_run else set()
    parts = [f"{name} {sec:.1f}s" + (f" ({1000 * sec / max(1, res['rebuilt']):.2f} ms/run)" if name in each else "")
             for name, sec in res.get("phases", {}).items()]
    return f"{'  ... its steps':<34} {'':>10}      " + ", ".join(parts)


def row(name: str, value: float | None, unit: str, note: str = "") -> str:
    target = TARGETS.get(name)
    if value is None:
        return f"{name:<34} {'n/a':>10}       {note}"
    verdict = ""
    if target:
        verdict = ("ok  " if value <= target[0] else "MISS") + f" (target <= {target[0]:g} {target[1]})"
    return f"{name:<34} {value:>10.2f} {unit:<4} {verdict} {note}".rstrip()


def main(args) -> int:
    """``bench_build.py --team``: generate (or reuse) the set, build cold, rebuild, grow one run."""
    n_runs, steps = args.team_runs, args.team_steps
    work = args.work or Path(tempfile.mkdtemp(prefix="rp-team-"))
    work.mkdir(parents=True, exist_ok=True)
    runs, site, cache = work / "runs", work / "site", work / "cache"
    mark = runs / f".complete-{n_runs}x{steps}x{len(PROJECTS)}"
    jobs = os.cpu_count() or 1
    try:
        if not mark.exists():
            shutil.rmtree(runs, ignore_errors=True)
            gen = generate(runs, n_runs, steps)
            mark.write_text("ok")
            print(f"generated {n_runs:,} runs x {steps:,} steps x 8 metrics over {len(USERS)} users and "
                  f"{len(PROJECTS)} projects in {gen:.1f}s ({jobs} processes)", flush=True)
        shutil.rmtree(site, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        data_gb = sum(p.stat().st_size for p in runs.glob("*/*/*")) / 1e9
        walk, n_found = scandir_floor(runs)
        floor = json_floor(runs, jobs)
        lines = ["", f"team set: {n_found:,} runs x {steps:,} steps, {data_gb:.2f} GB of run files; "
                 f"{jobs} cores (measured under whatever load the machine has)"
                 + ("" if n_runs == 100_000 else f"; the targets are for 100,000 runs, this set is {n_runs:,}"), "",
                 row("floor: os.scandir walk + stat", walk, "s", f"{n_found:,} run folders"),
                 row("floor: json.loads every line", floor, "s", f"{jobs} processes")]
        print("\n".join(lines), file=sys.stderr, flush=True)   # progress; the table comes at the end
        cold = build(runs, site, cache)
        lines.append(row("cold build", cold["wall_s"], "s",
                         f"{cold['pages']:,} pages, {cold['runs']:,} runs, {cold['problems']} problems; "
                         f"{cold['wall_s'] / floor:.2f}x the json floor; "
                         f"{1000 * cold['wall_s'] / max(1, cold['runs']):.1f} ms/run"))
        lines.append(steps_row(cold, per_run=True))
        print("\n".join(lines[-2:]), file=sys.stderr, flush=True)
        same = build(runs, site, cache)
        lines.append(row("no-change rebuild", same["wall_s"], "s",
                         f"{same['rebuilt']} runs redone, {same['n_html']} pages rewritten; "
                         f"{same['seconds']:.2f}s in build_site, the rest is a new process's imports; "
                         f"{same['wall_s'] / walk:.1f}x the scandir floor"))
        print(lines[-1], file=sys.stderr, flush=True)
        grown = sorted((runs / PROJECTS[0]).iterdir())[0]
        grow(grown, spec(0, steps), 1000)
        grew = build(runs, site, cache)
        lines.append(row("one run grew by 1,000 steps", grew["wall_s"], "s",
                         f"{grew['rebuilt']} run redone, {grew['n_html']} pages rewritten: "
                         + ", ".join(grew["html"][:6])
                         + f"; {grew['kept']} of {len(PROJECTS)} projects kept unread; "
                         f"{grew['seconds']:.2f}s in build_site"))
        lines.append(steps_row(grew))
        print("\n".join(lines[-2:]), file=sys.stderr, flush=True)
        warm = warm_grew(runs, site, cache, sorted((runs / PROJECTS[1]).iterdir())[0], 1, steps)
        lines.append(row("  ... in a warm process (serve)", warm["seconds"], "s",
                         f"{warm['rebuilt']} run redone, {warm['n_html']} pages rewritten, {warm['kept']} "
                         "projects kept unread; read cache in memory"))
        print(lines[-1], file=sys.stderr, flush=True)
        lines.append(row("peak memory (build + workers)", max(cold["peak_mb"], same["peak_mb"], grew["peak_mb"]),
                         "MB", f"sum of RSS: cold {cold['peak_mb']:.0f}, no-change {same['peak_mb']:.0f}, "
                         f"grew {grew['peak_mb']:.0f}; sum of PSS (shared pages once): cold {cold['peak_pss_mb']:.0f}"))
        print("\n" + "\n".join(lines))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0
