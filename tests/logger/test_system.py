"""System metrics: the sampler on fake readings, the GPU path on a fake NVML module."""
from __future__ import annotations

import sys
import time
import types

import pytest

from runpages import schema
from runpages.gpu import GpuReader, visible_devices
from runpages.system import SystemSampler
from tests.logger.conftest import wait_until


class NVMLError(Exception):
    def __init__(self, value):
        super().__init__(f"NVML error {value}")
        self.value = value


def fake_nvml(names=("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"), *, init_error=None,
              power_unsupported=False):
    """A module with the pynvml functions the reader uses; devices answer until .lost."""
    m = types.ModuleType("pynvml")
    m.NVMLError = NVMLError
    m.NVML_TEMPERATURE_GPU = 0
    m.lost = set()
    m.calls = []
    handles = [f"h{i}" for i in range(len(names))]

    def check(h):
        if h in m.lost:
            raise NVMLError(999)

    def init():
        m.calls.append("init")
        if init_error is not None:
            raise NVMLError(init_error)

    def power(h):
        check(h)
        if power_unsupported:
            raise NVMLError(3)
        return 350_000  # mW

    m.nvmlInit = init
    m.nvmlShutdown = lambda: m.calls.append("shutdown")
    m.nvmlDeviceGetCount = lambda: len(names)
    m.nvmlDeviceGetHandleByIndex = lambda i: handles[i]
    m.nvmlDeviceGetHandleByUUID = lambda u: handles[int(u.split("-")[-1])]
    m.nvmlDeviceGetName = lambda h: names[handles.index(h)]
    m.nvmlDeviceGetUtilizationRates = lambda h: (check(h),
                                                 types.SimpleNamespace(gpu=97, memory=40))[1]
    m.nvmlDeviceGetMemoryInfo = lambda h: (check(h), types.SimpleNamespace(
        used=40 * 2 ** 30, total=80 * 2 ** 30, free=40 * 2 ** 30))[1]
    m.nvmlDeviceGetPowerUsage = power
    m.nvmlDeviceGetTotalEnergyConsumption = lambda h: (check(h), 5_000_000)[1]  # mJ
    m.nvmlDeviceGetTemperature = lambda h, kind: (check(h), 61)[1]
    return m


def quiet(cause, message):
    raise AssertionError(f"unexpected warning: {message}")


def test_gpu_readings_have_units_in_their_names():
    reader = GpuReader(quiet, nvml=fake_nvml(), env=None, use_env=False)
    assert reader.describe() == {"count": 2, "names": ["NVIDIA H100 80GB HBM3"] * 2}
    r = reader.read()
    assert r["gpu/0/util_pct"] == 97.0 and r["gpu/1/util_pct"] == 97.0
    assert r["gpu/0/mem_used_gb"] == 40.0 and r["gpu/0/mem_total_gb"] == 80.0
    assert r["gpu/0/mem_pct"] == 50.0 and r["gpu/0/power_w"] == 350.0
    assert r["gpu/0/energy_j"] == 5000.0 and r["gpu/0/temp_c"] == 61.0
    for key in r:
        assert any(key == name.format(i=key.split("/")[1]) for name in schema.SYSTEM_METRICS), key


def test_cuda_visible_devices_picks_and_renumbers_gpus():
    nvml = fake_nvml(names=("A", "B", "C"))
    reader = GpuReader(quiet, nvml=nvml, env="2,0")
    assert reader.describe() == {"count": 2, "names": ["C", "A"]}
    assert set(k.split("/")[1] for k in reader.read()) == {"0", "1"}


def test_cuda_visible_devices_empty_means_no_gpu():
    reader = GpuReader(quiet, nvml=fake_nvml(), env="")
    assert reader.read() == {} and reader.describe() == {"count": 0, "names": []}


def test_cuda_visible_devices_by_uuid():
    reader = GpuReader(quiet, nvml=fake_nvml(names=("A", "B")), env="GPU-uuid-1")
    assert reader.describe()["names"] == ["B"]


@pytest.mark.parametrize("env, expected", [(None, None), ("", []), ("0,1", ["0", "1"]),
                                           ("1,-1,2", ["1"]), (" 3 ", ["3"])])
def test_visible_devices_parsing(env, expected):
    assert visible_devices(env) == expected


def test_no_driver_is_a_quiet_empty_reading():
    reader = GpuReader(quiet, nvml=fake_nvml(init_error=9), env=None, use_env=False)
    assert reader.read() == {} and reader.describe() == {"count": 0, "names": []}


def test_no_pynvml_module_is_a_quiet_empty_reading(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    assert GpuReader(quiet, env=None, use_env=False).read() == {}


def test_nvml_failure_warns_once_and_readings_are_empty():
    seen = []
    reader = GpuReader(lambda c, m: seen.append(m), nvml=fake_nvml(init_error=1), use_env=False)
    assert reader.read() == {} and reader.read() == {}
    assert len(seen) == 1 and "NVML did not start" in seen[0]


def test_a_gpu_that_stops_answering_is_dropped_with_one_warning():
    nvml = fake_nvml()
    seen = []
    reader = GpuReader(lambda c, m: seen.append(m), nvml=nvml, use_env=False)
    assert "gpu/1/util_pct" in reader.read()
    nvml.lost.add("h1")
    r = reader.read()
    assert "gpu/0/util_pct" in r and not any(k.startswith("gpu/1/") for k in r)
    reader.read()
    assert len(seen) == 1 and "GPU 1 stopped answering (NVML error 999" in seen[0]


def test_unsupported_fields_are_left_out_silently():
    reader = GpuReader(quiet, nvml=fake_nvml(power_unsupported=True), use_env=False)
    r = reader.read()
    assert "gpu/0/power_w" not in r and "gpu/0/util_pct" in r


def test_fake_pynvml_module_is_used_on_first_use(monkeypatch):
    nvml = fake_nvml(names=("X",))
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    reader = GpuReader(quiet, env=None, use_env=False)
    assert nvml.calls == []          # nothing loaded before the first reading
    assert reader.read()["gpu/0/util_pct"] == 97.0
    assert nvml.calls == ["init"]


def test_run_writes_system_samples_early_with_gpu_from_fake_nvml(live_run, files):
    nvml = fake_nvml(names=("NVIDIA A100-SXM4-40GB",))
    run = live_run(system_metrics=True, system_interval=0.2,
                   _gpu=GpuReader(quiet, nvml=nvml, use_env=False),
                   _read_host=lambda: {schema.CPU_HOST_PCT: 12.5})
    assert wait_until(lambda: len(run._files.system._buf) + run._files.system.bytes_written > 0)
    run.finish()
    rows = files.system(run.dir)
    assert rows and rows[0]["cpu/host_pct"] == 12.5 and rows[0]["gpu/0/util_pct"] == 97.0
    meta = files.meta(run.dir)
    assert meta["gpu"] == {"count": 1, "names": ["NVIDIA A100-SXM4-40GB"]}
    assert meta["system_source"] == schema.SYSTEM_SOURCE_PSUTIL_NVML
    assert nvml.calls[-1] == "shutdown"


def test_real_psutil_sample_has_cpu_and_memory(live_run, files):
    pytest.importorskip("psutil")
    run = live_run(system_metrics=True, system_interval=0.3,
                   _gpu=GpuReader(quiet, nvml=fake_nvml(names=()), use_env=False))
    assert wait_until(lambda: len(run._files.system._buf) > 0, timeout=5)
    run.finish()
    row = files.system(run.dir)[0]
    for key in (schema.CPU_PROC_PCT, schema.CPU_HOST_PCT, schema.MEM_PROC_RSS_GB,
                schema.MEM_HOST_PCT):
        assert isinstance(row[key], float), key
    assert files.meta(run.dir)["system_source"] == schema.SYSTEM_SOURCE_PSUTIL


def test_sensor_error_warns_once_and_sampling_goes_on():
    samples, seen = [], []
    calls = [0]

    def host():
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("sensor exploded")
        return {"cpu/host_pct": 1.0}

    sampler = SystemSampler(samples.append, lambda c, m: seen.append(m), 0.05,
                            gpu=GpuReader(quiet, nvml=fake_nvml(names=()), use_env=False),
                            read_host=host, first_after=0.01)
    sampler.start()
    assert wait_until(lambda: len(samples) >= 3)
    sampler.stop()
    assert len(seen) == 1 and "sensor exploded" in seen[0]


def test_system_metrics_off_writes_no_samples(live_run, files):
    run = live_run(system_metrics=False)
    time.sleep(0.1)
    run.finish()
    assert files.system(run.dir) == [] and files.meta(run.dir)["system_source"] is None


def test_log_system_rejects_a_non_dict(live_run):
    with pytest.raises(TypeError, match="log_system"):
        live_run().log_system(5.0)


@pytest.mark.gpu
def test_real_nvml_reads_every_visible_gpu():
    seen = []
    reader = GpuReader(lambda c, m: seen.append(m))
    info = reader.describe()
    if not info["count"]:
        pytest.skip(f"no GPU answered through NVML ({seen[0] if seen else 'no driver'})")
    r = reader.read()
    for i in range(info["count"]):
        assert 0 <= r[f"gpu/{i}/util_pct"] <= 100
        assert 0 < r[f"gpu/{i}/mem_total_gb"] and r[f"gpu/{i}/mem_used_gb"] >= 0
    print("real NVML:", info, r)
    reader.close()


def test_a_run_shorter_than_the_interval_has_a_sample_near_its_start_and_one_at_its_end(live_run, files):
    run = live_run(system_metrics=True, system_interval=60)
    time.sleep(0.6)
    run.log({"loss": 1.0})
    run.finish()
    samples = files.system(run.dir)
    meta = files.meta(run.dir)
    assert len(samples) >= 2, samples
    assert samples[0]["_time"] - meta["started_at"] < 0.6
    assert abs(samples[-1]["_time"] - meta["ended_at"]) < 0.5
    assert "cpu/proc_pct" in samples[-1] and "mem/proc_rss_gb" in samples[-1]
