"""Background sampler of system metrics: a daemon thread that never blocks ``log()``.

Invariants:
* The first sample comes ``FIRST_SAMPLE_S`` after start, then one every ``interval`` seconds,
  and ``stop()`` takes a last one: a run shorter than the interval still has a sample near its
  start and one at its end.
* CPU and memory come from psutil, imported in the sampler thread (not at ``import runpages``);
  GPUs from ``gpu.GpuReader``. Rates (disk, network) are deltas between samples in MB/s
  (10**6 bytes); percentages of CPU are psutil's: ``cpu/proc_pct`` is % of one core.
* A reading that fails warns once and is left out; the sampler keeps going. Nothing raises.
* Samples are handed to ``emit(sample: dict)``; the run stamps and writes them.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from . import schema
from .gpu import GpuReader

Warn = Callable[[str, str], None]
FIRST_SAMPLE_S = 0.25     # long enough for psutil's CPU percentages to mean something


class SystemSampler:
    def __init__(self, emit: Callable[[dict], None], warn: Warn, interval: float,
                 gpu: GpuReader | None = None, read_host: Callable[[], dict] | None = None,
                 first_after: float = FIRST_SAMPLE_S) -> None:
        self._emit = emit
        self._warn = warn
        self.interval = max(0.05, float(interval))
        self._first_after = min(first_after, self.interval)
        self.gpu = gpu if gpu is not None else GpuReader(warn)
        self._read_host = read_host   # tests pass a fake; default reads psutil
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._psutil: Any = None
        self._proc: Any = None
        self._last_io: tuple[float, Any, Any] | None = None
        self.on_describe: Callable[[dict], None] | None = None
        self._primed = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="runpages-system", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 0.5, last_sample: bool = True) -> None:
        """Stop the thread, then take the last sample here (only if the thread really ended)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if last_sample and not self._thread.is_alive() and self._primed:
                self.sample_once()
        try:
            self.gpu.close()
        except Exception:
            pass

    # ---- thread ---------------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._prime()
            self._primed = True
            if self.on_describe is not None:
                self.on_describe({"gpu": self.gpu.describe()})
        except Exception as exc:
            self._warn("sampler-start", f"runpages: system sampler could not start ({exc}); "
                                        "training continues without system metrics.")
        wait = self._first_after
        while not self._stop.wait(wait):
            t0 = time.monotonic()
            self.sample_once()
            wait = max(0.0, self.interval - (time.monotonic() - t0))

    def sample_once(self) -> None:
        sample: dict[str, float] = {}
        try:
            sample.update(self._read_host() if self._read_host else self._host())
        except Exception as exc:
            self._warn("host-sample", f"runpages: reading CPU/memory failed ({exc}); "
                                      "those system metrics are left out.")
        try:
            sample.update(self.gpu.read())
        except Exception as exc:
            self._warn("gpu-sample", f"runpages: reading the GPUs failed ({exc}); "
                                     "system metrics continue without them.")
        if sample:
            try:
                self._emit(sample)
            except Exception as exc:
                self._warn("system-emit", f"runpages: could not record a system sample ({exc}).")

    # ---- psutil ---------------------------------------------------------------------------
    def _prime(self) -> None:
        if self._read_host is not None:
            return
        try:
            import psutil  # noqa: PLC0415 (in the sampler thread: keeps import runpages light)
        except Exception:
            self._warn("no-psutil", "runpages: psutil is not installed; CPU and memory "
                                    "metrics are left out.")
            return
        self._psutil = psutil
        self._proc = psutil.Process()
        self._proc.cpu_percent(None)
        psutil.cpu_percent(None)
        psutil.cpu_percent(None, percpu=True)
        self._last_io = (time.monotonic(), self._safe(psutil.disk_io_counters),
                         self._safe(psutil.net_io_counters))

    @staticmethod
    def _safe(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception:
            return None

    def _host(self) -> dict[str, float]:
        ps = self._psutil
        if ps is None:
            return {}
        out: dict[str, float] = {}
        readings: list[tuple[str, Callable[[], float]]] = [
            (schema.CPU_PROC_PCT, lambda: self._proc.cpu_percent(None)),
            (schema.CPU_HOST_PCT, lambda: ps.cpu_percent(None)),
            (schema.CPU_MAX_CORE_PCT, lambda: max(ps.cpu_percent(None, percpu=True))),
            (schema.MEM_PROC_RSS_GB, lambda: self._proc.memory_info().rss / schema.BYTES_PER_GB),
            (schema.MEM_HOST_PCT, lambda: ps.virtual_memory().percent),
        ]
        for key, read in readings:
            try:
                out[key] = round(float(read()), 3)
            except Exception as exc:
                self._warn("psutil:" + key, f"runpages: reading {key} failed ({exc}); "
                                            "it is left out.")
        now = time.monotonic()
        disk, net = self._safe(ps.disk_io_counters), self._safe(ps.net_io_counters)
        if self._last_io is not None:
            t0, disk0, net0 = self._last_io
            dt = now - t0
            if dt > 0:
                pairs = ((schema.DISK_READ_MBPS, disk, disk0, "read_bytes"),
                         (schema.DISK_WRITE_MBPS, disk, disk0, "write_bytes"),
                         (schema.NET_RECV_MBPS, net, net0, "bytes_recv"),
                         (schema.NET_SENT_MBPS, net, net0, "bytes_sent"))
                for key, new, old, field in pairs:
                    if new is not None and old is not None:
                        delta = getattr(new, field) - getattr(old, field)
                        out[key] = round(max(0, delta) / dt / 1e6, 3)
        self._last_io = (now, disk, net)
        return out
