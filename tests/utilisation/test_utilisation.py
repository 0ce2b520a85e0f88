"""Every utilisation figure against a hand computation (sitegen/utilisation.py states the rules).

Samples are 10 s apart unless said otherwise; a gap over 3 intervals is not bridged; means and
energy use the trapezoid rule; an interval is idle when the mean of its two ends is under 10%.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import pytest

from runpages.sitegen import utilisation as U
from runpages.sitegen.model import Run

NAN = float("nan")
T0 = 1_795_086_000.0          # 2026-11-19 (a Thursday), ISO week 2026-W47


@dataclass
class Cfg:
    idle_util_pct: float = 10.0
    gpu_hour_cost: float | None = None
    kwh_cost: float | None = None


def model_run(samples: dict[str, list], *, user: str = "ana", status: str = "finished",
             name: str = "r", gpu_count: int | None = None, started_at: float = T0) -> Run:
    frame = pd.DataFrame({k: pd.Series(v, dtype="float64") for k, v in samples.items()})
    if "_time" in frame:
        frame["_time"] = frame["_time"] + T0
    meta = {"user": user, "started_at": started_at, "status": status,
            "gpu": {"count": gpu_count, "names": ["Test GPU"] * (gpu_count or 0)} if gpu_count else None}
    return Run(id=f"20261119-000000-{name}-abcdef", project="p", name=name, dir=f"/runs/p/{name}",
               meta=meta, config={}, summary={}, metrics=pd.DataFrame({"_step": [], "_time": []}),
               system=frame, status=status)


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-12)


# ---- GPU-hours, means, idle share -----------------------------------------------------------

def test_one_gpu_hours_mean_median_idle_and_waste_match_hand_computation():
    run = model_run({"_time": [0, 10, 20, 30], "gpu/0/util_pct": [100, 100, 0, 0]})
    u = U.run_usage(run, Cfg())
    # Intervals: [0,10] mean 100, [10,20] mean 50, [20,30] mean 0 -> 30 s, area 1500.
    assert u.kind == "gpu" and u.gpus == 1
    assert u.gpu_hours == approx(30 / 3600)
    assert u.util_mean == approx(50.0)
    assert u.util_median == approx(50.0)            # median of 100, 100, 0, 0
    assert u.idle_share == approx(1 / 3)            # only [20,30] is under 10%
    assert u.wasted_gpu_hours == approx(30 / 3600 * 0.5)


def test_idle_threshold_comes_from_the_settings():
    run = model_run({"_time": [0, 10, 20, 30], "gpu/0/util_pct": [100, 100, 0, 0]})
    assert U.run_usage(run, Cfg(idle_util_pct=60)).idle_share == approx(2 / 3)   # 50 and 0 < 60


def test_two_gpus_add_hours_and_weight_utilisation_by_gpu_time():
    t = [0, 10, 20, 30, 40, 50, 60]
    run = model_run({"_time": t, "gpu/0/util_pct": [80] * 7, "gpu/1/util_pct": [20] * 7,
                    "gpu/0/mem_pct": [50] * 7, "gpu/1/mem_pct": [50] * 7})
    u = U.run_usage(run, Cfg())
    assert u.gpus == 2
    assert u.gpu_hours == approx(120 / 3600)
    assert u.util_mean == approx(50.0)
    assert u.wasted_gpu_hours == approx(120 / 3600 * 0.5)
    assert u.reasons == ["GPUs unevenly used: 20% to 80%"]


def test_a_gpu_left_idle_is_named():
    t = [0, 10, 20]
    run = model_run({"_time": t, "gpu/0/util_pct": [90, 90, 90], "gpu/1/util_pct": [0, 0, 0],
                    "gpu/0/mem_pct": [60] * 3, "gpu/1/mem_pct": [60] * 3})
    u = U.run_usage(run, Cfg())
    assert u.util_mean == approx(45.0)
    assert u.reason == "1 of 2 GPUs idle (GPU 1)"


def test_an_idle_gpus_empty_memory_does_not_say_the_batch_could_grow():
    run = model_run({"_time": [0, 10, 20], "gpu/0/util_pct": [90] * 3, "gpu/1/util_pct": [0] * 3,
                    "gpu/0/mem_pct": [40] * 3, "gpu/1/mem_pct": [1] * 3})
    u = U.run_usage(run, Cfg())
    assert u.mem_pct_mean == approx(20.5)           # both GPUs, as measured
    assert u.reasons == ["1 of 2 GPUs idle (GPU 1)"]


def test_missing_samples_leave_a_gap_that_is_not_bridged():
    # Usual interval 10 s; 20 -> 70 is 50 s (> 3 x 10): not counted. The NaN row is a sample
    # without a GPU reading (the row stays, the reading is skipped).
    run = model_run({"_time": [0, 10, 20, 25, 70, 80],
                    "gpu/0/util_pct": [40, 40, 40, NAN, 60, 60]})
    u = U.run_usage(run, Cfg())
    assert u.gpu_hours == approx(30 / 3600)         # 0-10, 10-20, 70-80
    assert u.util_mean == approx((40 * 20 + 60 * 10) / 30)
    assert u.util_median == approx(40.0)


def test_samples_out_of_order_are_sorted_first():
    run = model_run({"_time": [20, 0, 10], "gpu/0/util_pct": [0, 100, 100]})
    u = U.run_usage(run, Cfg())
    assert u.util_mean == approx(75.0)              # (100*10 + 50*10) / 20


def test_a_running_run_counts_up_to_its_last_sample():
    run = model_run({"_time": [0, 10, 20, 30, 40, 50], "gpu/0/util_pct": [70] * 6},
                   status="running")
    run.meta["ended_at"] = None
    u = U.run_usage(run, Cfg())
    assert u.status == "running"
    assert u.gpu_hours == approx(50 / 3600)
    from runpages.sitegen.pages.utilisation import run_card

    card = run_card(run, Cfg())
    assert card["running"] and ("GPU-hours", "0.014") in card["items"]


def test_a_single_sample_has_no_hours_but_keeps_its_level():
    u = U.run_usage(model_run({"_time": [0], "gpu/0/util_pct": [42]}), Cfg())
    assert u.kind == "gpu" and u.gpu_hours == 0 and u.util_mean == approx(42) and u.wasted_gpu_hours == 0


# ---- energy ---------------------------------------------------------------------------------

def test_energy_from_the_counter_with_a_reset_filled_by_power():
    # Counter 1000 -> 3000 (+2000), falls to 500 (reset: 200 W x 10 s = 2000), -> 2500 (+2000).
    run = model_run({"_time": [0, 10, 20, 30], "gpu/0/util_pct": [90] * 4,
                    "gpu/0/energy_j": [1000, 3000, 500, 2500], "gpu/0/power_w": [200] * 4})
    u = U.run_usage(run, Cfg())
    assert u.energy_source == "counter"
    assert u.energy_kwh == approx(6000 / 3.6e6)


def test_energy_counter_reset_without_power_counts_the_new_reading():
    run = model_run({"_time": [0, 10, 20, 30], "gpu/0/util_pct": [90] * 4,
                    "gpu/0/energy_j": [1000, 3000, 500, 2500]})
    assert U.run_usage(run, Cfg()).energy_kwh == approx((2000 + 500 + 2000) / 3.6e6)


def test_energy_counter_across_an_unbridged_gap_is_not_counted():
    run = model_run({"_time": [0, 10, 20, 100, 110], "gpu/0/util_pct": [90] * 5,
                    "gpu/0/energy_j": [0, 1000, 2000, 50000, 51000]})
    assert U.run_usage(run, Cfg()).energy_kwh == approx(3000 / 3.6e6)


def test_energy_integrates_power_without_a_counter():
    run = model_run({"_time": [0, 10, 20], "gpu/0/util_pct": [90] * 3,
                    "gpu/0/power_w": [100, 200, 300]})
    u = U.run_usage(run, Cfg())
    assert u.energy_source == "power"
    assert u.energy_kwh == approx((1500 + 2500) / 3.6e6)


def test_energy_is_unknown_without_counter_or_power():
    u = U.run_usage(model_run({"_time": [0, 10], "gpu/0/util_pct": [90, 90]}), Cfg())
    assert u.energy_kwh is None and u.energy_source is None


def test_counter_energy_helper_handles_two_resets():
    t = [0, 10, 20, 30, 40]
    assert U.counter_energy_j(t, [5, 15, 3, 13, 2]) == approx(10 + 3 + 10 + 2)


# ---- cost -----------------------------------------------------------------------------------

def test_cost_adds_gpu_hours_and_energy_prices():
    run = model_run({"_time": [0, 1800, 3600], "gpu/0/util_pct": [50] * 3, "gpu/0/power_w": [400] * 3})
    u = U.run_usage(run, Cfg(gpu_hour_cost=2.0, kwh_cost=0.5))
    assert u.gpu_hours == approx(1.0)
    assert u.energy_kwh == approx(0.4)
    assert u.cost == approx(2.0 + 0.2)
    assert u.wasted_cost == approx(1.0)


def test_no_prices_no_cost():
    run = model_run({"_time": [0, 10], "gpu/0/util_pct": [50] * 2, "gpu/0/power_w": [400] * 2})
    assert U.run_usage(run, Cfg()).cost is None


# ---- CPU-only, no samples, reasons ----------------------------------------------------------

def test_cpu_only_run_is_not_zero_utilisation():
    run = model_run({"_time": [0, 10, 20], "cpu/proc_pct": [100, 200, 300],
                    "cpu/max_core_pct": [50, 50, 50]})
    u = U.run_usage(run, Cfg(gpu_hour_cost=3.0))
    assert u.kind == "cpu-only"
    assert u.gpu_hours is None and u.util_mean is None and u.wasted_gpu_hours is None and u.cost is None
    assert u.cpu_proc_pct == approx(200.0)
    assert u.sampled_hours == approx(20 / 3600)
    assert u.reasons == ["CPU-only: no GPU samples"]


def test_run_without_system_samples():
    u = U.run_usage(model_run({}), Cfg())
    assert u.kind == "no samples" and u.gpu_hours is None and u.reasons == []
    assert u.week == "2026-W47"


def test_input_pipeline_bound_and_small_batch_are_explained():
    n = 6
    run = model_run({"_time": [10 * i for i in range(n)], "gpu/0/util_pct": [14] * n,
                    "gpu/0/mem_used_gb": [8] * n, "gpu/0/mem_total_gb": [40] * n,
                    "cpu/max_core_pct": [99] * n})
    u = U.run_usage(run, Cfg())
    assert u.mem_pct_mean == approx(20.0)           # from used / total when mem_pct is absent
    assert u.reasons[0].startswith("input pipeline bound: GPU busy 14% while one CPU core is at 99%")
    assert u.reasons[1] == "batch could grow: GPU memory at 20%"


def test_idle_gpu_without_cpu_pressure_says_idle():
    run = model_run({"_time": [0, 10, 20, 30], "gpu/0/util_pct": [0, 0, 0, 100],
                    "gpu/0/mem_pct": [60] * 4, "cpu/max_core_pct": [20] * 4})
    u = U.run_usage(run, Cfg())
    assert u.idle_share == approx(2 / 3)
    assert u.reason == "GPU idle 67% of the time (under 10%)"


def test_well_used_gpu_has_no_reason():
    run = model_run({"_time": [0, 10], "gpu/0/util_pct": [95, 95], "gpu/0/mem_pct": [70, 70]})
    assert U.run_usage(run, Cfg()).reasons == []


def test_allocated_gpus_never_sampled_are_named():
    run = model_run({"_time": [0, 10], "gpu/0/util_pct": [95, 95], "gpu/0/mem_pct": [70, 70]},
                   gpu_count=4)
    u = U.run_usage(run, Cfg())
    assert u.gpus_allocated == 4 and u.reason == "3 of 4 visible GPUs never sampled"


# ---- many runs ------------------------------------------------------------------------------

def _team():
    hour = [0, 1800, 3600]
    return [
        U.run_usage(model_run({"_time": hour, "gpu/0/util_pct": [20] * 3}, user="chen", name="slow"), Cfg(gpu_hour_cost=1.0)),
        U.run_usage(model_run({"_time": hour, "gpu/0/util_pct": [90] * 3}, user="ana", name="good"), Cfg(gpu_hour_cost=1.0)),
        U.run_usage(model_run({"_time": hour, "gpu/0/util_pct": [60] * 3}, user="ana", name="mid",
                             started_at=T0 + 7 * 86400), Cfg(gpu_hour_cost=1.0)),
        U.run_usage(model_run({"_time": hour, "cpu/proc_pct": [100] * 3}, user="chen", name="cpu"), Cfg(gpu_hour_cost=1.0)),
    ]


def test_worst_offenders_first_cpu_only_after_gpu_runs():
    assert [u.name for u in U.worst_first(_team())] == ["slow", "mid", "good", "cpu"]


def test_per_user_sums_and_weighted_utilisation():
    users = {a.name: a for a in U.aggregate(_team(), "user")}
    assert list(users) == ["chen", "ana"]           # most wasted first: 0.8 vs 0.1 + 0.4
    chen, ana = users["chen"], users["ana"]
    assert chen.runs == 2 and chen.gpu_runs == 1 and chen.cpu_only_runs == 1
    assert chen.gpu_hours == approx(1.0) and chen.wasted_gpu_hours == approx(0.8)
    assert chen.util_mean == approx(20.0) and chen.worst.name == "slow"
    assert ana.gpu_hours == approx(2.0) and ana.wasted_gpu_hours == approx(0.5)
    assert ana.util_mean == approx(75.0) and ana.cost == approx(2.0)


def test_per_week_uses_the_iso_week_of_the_start():
    weeks = {a.name: a for a in U.aggregate(_team(), "week")}
    assert set(weeks) == {"2026-W47", "2026-W48"}
    assert weeks["2026-W48"].gpu_hours == approx(1.0) and weeks["2026-W47"].runs == 3


def test_totals():
    t = U.totals(_team())
    assert t.runs == 4 and t.gpu_hours == approx(3.0) and t.wasted_gpu_hours == approx(1.3)
    assert t.worst.name == "slow"


def test_iso_week_edges():
    assert U.iso_week(None) == "" and U.iso_week(math.nan) == ""
    # 2027-01-01 is a Friday: still ISO week 53 of 2026.
    assert U.iso_week(1_798_761_600.0) == "2026-W53"
