"""GPU utilisation, energy and cost of runs, from the system samples the logger writes. No I/O.

Invariants (the tests in ``tests/utilisation/`` compute each by hand):

- Time is measured between consecutive samples of one GPU (or of the CPU columns). The usual
  sampling interval is the median gap between samples; a gap longer than ``GAP_FACTOR`` times
  it is not bridged (the run was paused, resumed, or the sampler stalled): that stretch counts
  for nothing, neither hours nor energy. A run still running is counted up to its last sample.
- Means are time-weighted by the trapezoid rule over the bridged gaps (the same rule as energy);
  an interval counts as idle when its mean utilisation (the mean of its two ends) is under
  ``idle_util_pct``. Medians are of the samples themselves.
- GPU-hours add every GPU's sampled time; a run's GPU utilisation is weighted by GPU time, so
  ``wasted_gpu_hours == gpu_hours * (1 - util_mean / 100)``.
- Energy: the NVML counter (``gpu/<i>/energy_j``) where a GPU has two readings or more; a fall
  of the counter is a reset (driver reload): that interval uses the integrated power when there
  is power on both ends, else the counter's new value (the energy since the reset). Without a
  counter, the integrated power (``gpu/<i>/power_w``). Neither: energy unknown (None).
- A run with system samples but no GPU utilisation is CPU-only: its GPU figures are None, never
  zero, and it is left out of GPU sums and means. A run without system samples is "no samples".
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import dataclasses
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from runpages import schema

GAP_FACTOR = 3.0                 # gaps longer than this many usual intervals are not bridged
DEFAULT_IDLE_UTIL_PCT = 10.0
INPUT_BOUND_CORE_PCT = 90.0      # busiest core at least this busy ...
INPUT_BOUND_UTIL_PCT = 50.0      # ... while the GPU is under this: input pipeline bound
SMALL_MEMORY_PCT = 25.0          # GPU memory at most this: the batch could grow
IDLE_SHARE_NOTE = 0.5            # GPU idle at least half the time
UNEVEN_GPU_POINTS = 30.0         # GPUs of one run this far apart in utilisation
WELL_USED_UTIL_PCT = 80.0

_GPU_COL = re.compile(r"^gpu/(\d+)/(util_pct|mem_pct|mem_used_gb|mem_total_gb|power_w|energy_j)$")
KIND_GPU, KIND_CPU_ONLY, KIND_NO_SAMPLES = "gpu", "cpu-only", "no samples"


# ---------------------------------------------------------------------------------------------
# Series arithmetic on (t, y) arrays

def usual_interval(t: np.ndarray) -> float | None:
    """The median positive gap between sample times (None with fewer than two samples)."""
    if len(t) < 2:
        return None
    gaps = np.diff(t)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if len(gaps) else None


def bridged(t: np.ndarray, interval: float | None = None) -> np.ndarray:
    """Per gap between consecutive samples: True when it is short enough to count."""
    if len(t) < 2:
        return np.zeros(0, dtype=bool)
    interval = usual_interval(t) if interval is None else interval
    gaps = np.diff(t)
    if interval is None:
        return np.zeros(len(gaps), dtype=bool)
    return (gaps > 0) & (gaps <= GAP_FACTOR * interval + 1e-9)


def _clean(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Samples where both time and value are finite, in time order."""
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if len(t) > 1 and np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t, y = t[order], y[order]
    return t, y


@dataclass
class Integral:
    seconds: float = 0.0          # bridged time
    area: float = 0.0             # trapezoid integral of y over bridged time
    below_seconds: float = 0.0    # bridged time whose interval mean is under the threshold

    @property
    def mean(self) -> float | None:
        return self.area / self.seconds if self.seconds > 0 else None


def integrate(t: np.ndarray, y: np.ndarray, threshold: float | None = None) -> Integral:
    """Trapezoid integral of y(t) over the bridged gaps (see the module docstring)."""
    t, y = _clean(np.asarray(t, float), np.asarray(y, float))
    ok = bridged(t)
    if not ok.any():
        return Integral()
    dt = np.diff(t)[ok]
    mid = ((y[:-1] + y[1:]) / 2.0)[ok]
    below = float(dt[mid < threshold].sum()) if threshold is not None else 0.0
    return Integral(float(dt.sum()), float((mid * dt).sum()), below)


def counter_energy_j(t: np.ndarray, energy: np.ndarray, power: np.ndarray | None = None) -> float | None:
    """Joules from a cumulative energy counter over the bridged gaps, resets handled.

    ``power`` (same rows as ``energy``, NaN where missing) fills the interval of a reset.
    None with fewer than two counter readings.
    """
    t = np.asarray(t, float)
    energy = np.asarray(energy, float)
    power = np.full(len(t), np.nan) if power is None else np.asarray(power, float)
    ok = np.isfinite(t) & np.isfinite(energy)
    t, energy, power = t[ok], energy[ok], power[ok]
    if len(t) < 2:
        return None
    order = np.argsort(t, kind="stable")
    t, energy, power = t[order], energy[order], power[order]
    keep = bridged(t)
    inc = np.diff(energy)
    reset = inc < 0
    if reset.any():
        dt = np.diff(t)
        p_mid = (power[:-1] + power[1:]) / 2.0
        filled = np.where(np.isfinite(p_mid), p_mid * dt, energy[1:])
        inc = np.where(reset, filled, inc)
    return float(inc[keep].sum())


def percentile(values: Iterable[float], q: float = 50.0) -> float | None:
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    return float(np.percentile(arr, q)) if len(arr) else None


# ---------------------------------------------------------------------------------------------
# One run

@dataclass
class GpuUsage:
    index: int
    seconds: float
    util_mean: float | None
    util_median: float | None
    idle_seconds: float
    mem_pct_mean: float | None
    energy_j: float | None
    energy_source: str | None      # "counter", "power" or None


@dataclass
class RunUsage:
    key: str                       # the run's key (``<project>/<run-id>`` or the site's key)
    name: str
    project: str
    user: str
    status: str
    group: str
    started_at: float | None
    week: str                      # ISO week of the start, e.g. "2026-W47" ("" when unknown)
    kind: str                      # KIND_GPU, KIND_CPU_ONLY or KIND_NO_SAMPLES
    gpu_names: list[str] = field(default_factory=list)
    gpus: int = 0                  # GPUs with utilisation samples
    gpus_allocated: int = 0        # GPUs the process saw (meta "gpu.count"), at least ``gpus``
    sampled_hours: float = 0.0     # wall time covered by system samples
    gpu_hours: float | None = None
    util_mean: float | None = None       # %, GPU-time weighted over all GPUs
    util_median: float | None = None     # %, median of all GPU samples
    mem_pct_mean: float | None = None    # %, GPU memory used
    idle_share: float | None = None      # 0..1 of GPU time under the idle threshold
    cpu_proc_pct: float | None = None    # this process, % of one core
    cpu_max_core_pct: float | None = None
    cpu_host_pct: float | None = None
    energy_kwh: float | None = None
    energy_source: str | None = None     # "counter", "power", "counter+power" or None
    cost: float | None = None
    wasted_gpu_hours: float | None = None
    wasted_cost: float | None = None
    reasons: list[str] = field(default_factory=list)
    per_gpu: list[GpuUsage] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return self.reasons[0] if self.reasons else ""


def _column(frame, key: str) -> np.ndarray | None:
    if frame is None or key not in frame.columns:
        return None
    col = frame[key]
    if col.dtype.kind not in "fiub":
        import pandas as pd

        col = pd.to_numeric(col, errors="coerce")
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _gpu_indices(columns: Iterable[str]) -> list[int]:
    found = set()
    for c in columns:
        m = _GPU_COL.match(c)
        if m and m.group(2) == "util_pct":
            found.add(int(m.group(1)))
    return sorted(found)


def iso_week(t: float | None) -> str:
    if t is None or not math.isfinite(t):
        return ""
    try:
        y, w, _ = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isocalendar()
    except (OverflowError, OSError, ValueError):
        return ""
    return f"{y}-W{w:02d}"


def _mem_pct(frame, i: int) -> np.ndarray | None:
    pct = _column(frame, schema.GPU_MEM_PCT.format(i=i))
    used = _column(frame, schema.GPU_MEM_USED_GB.format(i=i))
    total = _column(frame, schema.GPU_MEM_TOTAL_GB.format(i=i))
    if used is not None and total is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            derived = np.where(total > 0, 100.0 * used / total, np.nan)
        pct = derived if pct is None else np.where(np.isfinite(pct), pct, derived)
    return pct


def _gpu_usage(frame, t: np.ndarray, i: int, idle_pct: float) -> GpuUsage | None:
    util = _column(frame, schema.GPU_UTIL_PCT.format(i=i))
    if util is None or not np.isfinite(util).any():
        return None
    u = integrate(t, util, threshold=idle_pct)
    mem = _mem_pct(frame, i)
    mem_mean = None
    if mem is not None and np.isfinite(mem).any():
        m = integrate(t, mem)
        mem_mean = m.mean if m.mean is not None else float(np.nanmean(mem))
    energy_j, source = None, None
    counter = _column(frame, schema.GPU_ENERGY_J.format(i=i))
    power = _column(frame, schema.GPU_POWER_W.format(i=i))
    if counter is not None and np.isfinite(counter).sum() >= 2:
        energy_j, source = counter_energy_j(t, counter, power), "counter"
    elif power is not None and np.isfinite(power).sum() >= 2:
        energy_j, source = integrate(t, power).area, "power"
    finite = util[np.isfinite(util)]
    return GpuUsage(index=i, seconds=u.seconds, util_mean=u.mean,
                    util_median=float(np.median(finite)), idle_seconds=u.below_seconds,
                    mem_pct_mean=mem_mean, energy_j=energy_j, energy_source=source)


def _time_mean(t: np.ndarray, frame, key: str) -> float | None:
    y = _column(frame, key)
    if y is None or not np.isfinite(y).any():
        return None
    m = integrate(t, y).mean
    return m if m is not None else float(np.nanmean(y))


def run_usage(run, config=None, key: str | None = None) -> RunUsage:
    """Every figure of one run (see the module docstring for the rules)."""
    idle_pct = float(getattr(config, "idle_util_pct", DEFAULT_IDLE_UTIL_PCT) or 0.0)
    gpu_meta = run.meta.get("gpu") if isinstance(run.meta.get("gpu"), dict) else {}
    names = gpu_meta.get("names") if isinstance(gpu_meta.get("names"), list) else []
    count = gpu_meta.get("count")
    started = run.started_at
    frame = run.system
    usage = RunUsage(key=key or run.key, name=run.name or run.id, project=run.project,
                     user=run.user, status=run.status, group=run.group, started_at=started,
                     week="", kind=KIND_NO_SAMPLES, gpu_names=[str(n) for n in names])
    t = _column(frame, schema.TIME_KEY)
    if t is None or not len(t) or not np.isfinite(t).any():
        usage.week = iso_week(started)
        return usage
    first = float(np.nanmin(t))
    usage.week = iso_week(started if started is not None else first)
    covered = integrate(t, np.zeros(len(t)))
    usage.sampled_hours = covered.seconds / 3600.0
    usage.cpu_proc_pct = _time_mean(t, frame, schema.CPU_PROC_PCT)
    usage.cpu_max_core_pct = _time_mean(t, frame, schema.CPU_MAX_CORE_PCT)
    usage.cpu_host_pct = _time_mean(t, frame, schema.CPU_HOST_PCT)

    gpus = [g for g in (_gpu_usage(frame, t, i, idle_pct) for i in _gpu_indices(frame.columns))
            if g is not None]
    usage.per_gpu = gpus
    if not gpus:
        usage.kind = KIND_CPU_ONLY
        usage.reasons = reasons(usage)
        return usage
    usage.kind = KIND_GPU
    usage.gpus = len(gpus)
    usage.gpus_allocated = max(len(gpus), int(count) if isinstance(count, int) and not isinstance(count, bool) else 0)
    seconds = sum(g.seconds for g in gpus)
    usage.gpu_hours = seconds / 3600.0
    if seconds > 0:
        usage.util_mean = sum(g.util_mean * g.seconds for g in gpus if g.util_mean is not None) / seconds
        usage.idle_share = sum(g.idle_seconds for g in gpus) / seconds
        usage.wasted_gpu_hours = usage.gpu_hours * (1.0 - min(100.0, max(0.0, usage.util_mean)) / 100.0)
    else:
        # One sample each: no time to weigh by, but the level is still worth showing.
        usage.util_mean = float(np.mean([g.util_median for g in gpus]))
        usage.wasted_gpu_hours = 0.0
    all_util = np.concatenate([
        u[np.isfinite(u)] for u in (_column(frame, schema.GPU_UTIL_PCT.format(i=g.index)) for g in gpus)])
    usage.util_median = float(np.median(all_util)) if len(all_util) else None
    mems = [(g.mem_pct_mean, g.seconds or 1.0) for g in gpus if g.mem_pct_mean is not None]
    if mems:
        usage.mem_pct_mean = sum(m * w for m, w in mems) / sum(w for _, w in mems)
    energies = [g for g in gpus if g.energy_j is not None]
    if energies:
        usage.energy_kwh = sum(g.energy_j for g in energies) / 3.6e6
        usage.energy_source = "+".join(sorted({g.energy_source for g in energies}))
    usage.cost = cost(usage.gpu_hours, usage.energy_kwh, config)
    gpu_cost = getattr(config, "gpu_hour_cost", None)
    if gpu_cost is not None and usage.wasted_gpu_hours is not None:
        usage.wasted_cost = usage.wasted_gpu_hours * gpu_cost
    usage.reasons = reasons(usage, idle_pct)
    return usage


def cost(gpu_hours: float | None, energy_kwh: float | None, config) -> float | None:
    """``gpu_hour_cost`` x GPU-hours + ``kwh_cost`` x kWh, each part where both are known."""
    parts = []
    gpu_cost = getattr(config, "gpu_hour_cost", None)
    kwh_cost = getattr(config, "kwh_cost", None)
    if gpu_cost is not None and gpu_hours is not None:
        parts.append(gpu_hours * gpu_cost)
    if kwh_cost is not None and energy_kwh is not None:
        parts.append(energy_kwh * kwh_cost)
    return sum(parts) if parts else None


def reasons(u: RunUsage, idle_pct: float = DEFAULT_IDLE_UTIL_PCT) -> list[str]:
    """Short explanations the samples support, most telling first."""
    if u.kind == KIND_CPU_ONLY:
        return ["CPU-only: no GPU samples"]
    if u.kind != KIND_GPU or u.util_mean is None:
        return []
    out = []
    util, core = u.util_mean, u.cpu_max_core_pct
    if util < INPUT_BOUND_UTIL_PCT and core is not None and core >= INPUT_BOUND_CORE_PCT:
        out.append(f"input pipeline bound: GPU busy {util:.0f}% while one CPU core is at "
                   f"{core:.0f}% (more data-loader workers?)")
    idle_gpus = [g for g in u.per_gpu if g.util_mean is not None and g.util_mean < idle_pct]
    if u.gpus > 1 and idle_gpus and len(idle_gpus) < u.gpus:
        out.append(f"{len(idle_gpus)} of {u.gpus} GPUs idle (" +
                   ", ".join(f"GPU {g.index}" for g in idle_gpus) + ")")
    elif u.gpus_allocated > u.gpus and u.gpus:
        out.append(f"{u.gpus_allocated - u.gpus} of {u.gpus_allocated} visible GPUs never sampled")
    busy = [g.util_mean for g in u.per_gpu if g.util_mean is not None]
    if len(busy) > 1 and max(busy) - min(busy) >= UNEVEN_GPU_POINTS and not idle_gpus:
        out.append(f"GPUs unevenly used: {min(busy):.0f}% to {max(busy):.0f}%")
    if u.idle_share is not None and u.idle_share >= IDLE_SHARE_NOTE and not out:
        out.append(f"GPU idle {100 * u.idle_share:.0f}% of the time (under {idle_pct:g}%)")
    # Memory of the GPUs doing the work: an idle GPU's empty memory says nothing about the batch.
    working = [g for g in u.per_gpu if g not in idle_gpus and g.mem_pct_mean is not None] or \
        [g for g in u.per_gpu if g.mem_pct_mean is not None]
    if working:
        weight = sum(g.seconds or 1.0 for g in working)
        mem = sum(g.mem_pct_mean * (g.seconds or 1.0) for g in working) / weight
        if mem <= SMALL_MEMORY_PCT:
            out.append(f"batch could grow: GPU memory at {mem:.0f}%")
    if not out and util < WELL_USED_UTIL_PCT:
        out.append(f"GPU busy {util:.0f}% on average")
    return out


# ---------------------------------------------------------------------------------------------
# Many runs

@dataclass
class Aggregate:
    name: str                      # the user, or the ISO week
    runs: int = 0
    gpu_runs: int = 0
    cpu_only_runs: int = 0
    gpu_hours: float = 0.0
    wasted_gpu_hours: float = 0.0
    energy_kwh: float | None = None
    cost: float | None = None
    worst: RunUsage | None = None  # the run with the most wasted GPU-hours

    @property
    def util_mean(self) -> float | None:
        """GPU-hour weighted mean utilisation, % (None without GPU time)."""
        if self.gpu_hours <= 0:
            return None
        return 100.0 * (1.0 - self.wasted_gpu_hours / self.gpu_hours)

    @property
    def wasted_share(self) -> float | None:
        return self.wasted_gpu_hours / self.gpu_hours if self.gpu_hours > 0 else None


def _add(total: float | None, value: float | None) -> float | None:
    if value is None:
        return total
    return value if total is None else total + value


def aggregate(usages: Iterable[RunUsage], by: str) -> list[Aggregate]:
    """Sums per ``by`` ("user" or "week"), most wasted GPU-hours first."""
    groups: dict[str, Aggregate] = {}
    for u in usages:
        name = getattr(u, by) or "(unknown)"
        a = groups.setdefault(name, Aggregate(name))
        a.runs += 1
        if u.kind == KIND_CPU_ONLY:
            a.cpu_only_runs += 1
        if u.kind != KIND_GPU:
            continue
        a.gpu_runs += 1
        a.gpu_hours += u.gpu_hours or 0.0
        a.wasted_gpu_hours += u.wasted_gpu_hours or 0.0
        a.energy_kwh = _add(a.energy_kwh, u.energy_kwh)
        a.cost = _add(a.cost, u.cost)
        if u.wasted_gpu_hours is not None and (a.worst is None or u.wasted_gpu_hours > (a.worst.wasted_gpu_hours or 0)):
            a.worst = u
    return sorted(groups.values(), key=lambda a: (-a.wasted_gpu_hours, -a.gpu_hours, a.name))


def worst_first(usages: Iterable[RunUsage]) -> list[RunUsage]:
    """GPU runs by wasted GPU-hours (most first), then CPU-only runs, then runs without samples."""
    rank = {KIND_GPU: 0, KIND_CPU_ONLY: 1, KIND_NO_SAMPLES: 2}
    return sorted(usages, key=lambda u: (rank.get(u.kind, 3), -(u.wasted_gpu_hours or 0.0),
                                         -(u.gpu_hours or 0.0), u.key))


def totals(usages: Iterable[RunUsage]) -> Aggregate:
    summed = merged([[dataclasses.replace(a, name="all") for a in aggregate(usages, "project")]])
    return summed[0] if summed else Aggregate("all")


def merged(groups: Iterable[Iterable[Aggregate]]) -> list[Aggregate]:
    """Aggregates of disjoint sets of runs (one list per project, in project order), summed
    per name and sorted like ``aggregate``: the site's figures from its projects' own."""
    out: dict[str, Aggregate] = {}
    for group in groups:
        for a in group:
            t = out.get(a.name)
            if t is None:
                out[a.name] = dataclasses.replace(a)
                continue
            t.runs += a.runs
            t.gpu_runs += a.gpu_runs
            t.cpu_only_runs += a.cpu_only_runs
            t.gpu_hours += a.gpu_hours
            t.wasted_gpu_hours += a.wasted_gpu_hours
            t.energy_kwh = _add(t.energy_kwh, a.energy_kwh)
            t.cost = _add(t.cost, a.cost)
            w = a.worst
            if w is not None and w.wasted_gpu_hours is not None and (
                    t.worst is None or w.wasted_gpu_hours > (t.worst.wasted_gpu_hours or 0)):
                t.worst = w
    return sorted(out.values(), key=lambda a: (-a.wasted_gpu_hours, -a.gpu_hours, a.name))


def usage_from_json(record: dict) -> RunUsage:
    """A ``RunUsage`` from ``dataclasses.asdict`` of one (kept in the build cache); raises
    TypeError or ValueError for a record of another shape."""
    rec = dict(record)
    rec["per_gpu"] = [GpuUsage(**g) for g in rec.get("per_gpu") or []]
    return RunUsage(**rec)


def aggregate_from_json(record: dict) -> Aggregate:
    rec = dict(record)
    if rec.get("worst") is not None:
        rec["worst"] = usage_from_json(rec["worst"])
    return Aggregate(**rec)
