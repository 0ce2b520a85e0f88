"""GPU readings through NVML (``nvidia-ml-py``, imported as ``pynvml`` on first use only).

Invariants:
* "No GPU" is a value, not an error: no ``pynvml`` module, no driver, no device, or an NVML
  failure all give ``{}`` readings and ``{"count": 0, "names": []}``; a real NVML failure
  warns once, a machine without NVIDIA hardware stays silent.
* Devices are the ones this process sees: ``CUDA_VISIBLE_DEVICES`` (indices or ``GPU-``
  UUIDs) is honoured and index ``i`` in ``gpu/{i}/...`` is the position in that list, as
  ``torch.cuda`` numbers them. (CUDA numbers devices fastest-first unless
  ``CUDA_DEVICE_ORDER=PCI_BUS_ID``; NVML uses PCI order. On the usual machine with identical
  GPUs the two agree.) ``MIG-`` entries are not sampled.
* A device that stops answering (``GPU is lost``, error 999) is dropped with one warning;
  a field the device does not support (power on some boards) is left out silently.
* Memory is in GiB (``schema.BYTES_PER_GB``), power in W, energy in J since driver load.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from . import schema

Warn = Callable[[str, str], None]

# NVML return codes that mean "this machine has no usable NVIDIA GPU" (not worth a warning)
_NO_GPU_CODES = {9, 12, 13}  # DRIVER_NOT_LOADED, LIBRARY_NOT_FOUND, FUNCTION_NOT_FOUND
_NOT_SUPPORTED = 3


def _nvml_code(exc: BaseException) -> int | None:
    return getattr(exc, "value", None)


def visible_devices(env: str | None) -> list[str] | None:
    """``CUDA_VISIBLE_DEVICES`` → list of entries; None when unset (every device)."""
    if env is None:
        return None
    out = []
    for part in env.split(","):
        part = part.strip()
        if not part:
            break
        if part.lstrip("-").isdigit() and int(part) < 0:
            break  # CUDA stops at the first invalid index
        out.append(part)
    return out


class GpuReader:
    """Reads every visible GPU; ``read()`` returns ``{}`` when there is none."""

    def __init__(self, warn: Warn, nvml: Any = None, env: str | None = None,
                 use_env: bool = True) -> None:
        self._warn = warn
        self._nvml = nvml           # a fake module in tests; else imported on first use
        self._env = os.environ.get("CUDA_VISIBLE_DEVICES") if use_env and env is None else env
        self._handles: list[tuple[int, Any]] | None = None
        self._names: list[str] = []
        self._unsupported: set[tuple[int, str]] = set()
        self.available = False
        self._inited = False

    # ---- setup ----------------------------------------------------------------------------
    def _start(self) -> None:
        if self._handles is not None:
            return
        self._handles = []
        nvml = self._nvml
        if nvml is None:
            try:
                import pynvml as nvml  # noqa: PLC0415 (first use only, keeps import light)
            except Exception:
                return  # nvidia-ml-py not installed: a machine without GPUs
            self._nvml = nvml
        try:
            nvml.nvmlInit()
            self._inited = True
        except Exception as exc:
            if _nvml_code(exc) not in _NO_GPU_CODES:
                self._warn("nvml-init", f"runpages: NVML did not start ({exc}); "
                                        "system metrics continue without GPU readings.")
            return
        try:
            count = nvml.nvmlDeviceGetCount()
            wanted = visible_devices(self._env)
            if wanted is None:
                handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            else:
                handles = []
                for entry in wanted:
                    if entry.startswith("MIG-"):
                        continue
                    if entry.startswith("GPU-"):
                        handles.append(nvml.nvmlDeviceGetHandleByUUID(entry))
                    elif entry.isdigit() and int(entry) < count:
                        handles.append(nvml.nvmlDeviceGetHandleByIndex(int(entry)))
            for i, h in enumerate(handles):
                name = nvml.nvmlDeviceGetName(h)
                self._names.append(name.decode() if isinstance(name, bytes) else str(name))
                self._handles.append((i, h))
        except Exception as exc:
            self._warn("nvml-devices", f"runpages: NVML could not list the GPUs ({exc}); "
                                       "system metrics continue without GPU readings.")
            self._handles = []
            self._names = []
        self.available = bool(self._handles)

    def describe(self) -> dict[str, Any]:
        self._start()
        return {"count": len(self._names), "names": list(self._names)}

    # ---- readings -------------------------------------------------------------------------
    def read(self) -> dict[str, float]:
        self._start()
        if not self._handles:
            return {}
        nvml = self._nvml
        out: dict[str, float] = {}
        lost = []
        gb = schema.BYTES_PER_GB
        for i, h in self._handles:
            fields: list[tuple[str, Callable[[], Any]]] = [
                (schema.GPU_UTIL_PCT, lambda: float(nvml.nvmlDeviceGetUtilizationRates(h).gpu)),
                ("mem", lambda: nvml.nvmlDeviceGetMemoryInfo(h)),
                (schema.GPU_POWER_W, lambda: nvml.nvmlDeviceGetPowerUsage(h) / 1000.0),
                (schema.GPU_ENERGY_J,
                 lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(h) / 1000.0),
                (schema.GPU_TEMP_C, lambda: float(nvml.nvmlDeviceGetTemperature(
                    h, getattr(nvml, "NVML_TEMPERATURE_GPU", 0)))),
            ]
            for key, read in fields:
                if (i, key) in self._unsupported:
                    continue
                try:
                    value = read()
                except Exception as exc:
                    code = _nvml_code(exc)
                    if code == _NOT_SUPPORTED:
                        self._unsupported.add((i, key))
                        continue
                    if key == schema.GPU_UTIL_PCT:  # the device itself is gone
                        self._warn(f"gpu-lost:{i}",
                                   f"runpages: GPU {i} stopped answering (NVML error {code}: "
                                   f"{exc}); system metrics continue without it.")
                        lost.append(i)
                        break
                    self._warn(f"gpu-field:{i}:{key}",
                               f"runpages: GPU {i}: reading {key.format(i=i)} failed ({exc}); "
                               "it is left out from now on.")
                    self._unsupported.add((i, key))
                    continue
                if key == "mem":
                    used, total = value.used / gb, value.total / gb
                    out[schema.GPU_MEM_USED_GB.format(i=i)] = round(used, 3)
                    out[schema.GPU_MEM_TOTAL_GB.format(i=i)] = round(total, 3)
                    if value.total:
                        out[schema.GPU_MEM_PCT.format(i=i)] = round(
                            100.0 * value.used / value.total, 2)
                else:
                    out[key.format(i=i)] = round(float(value), 3)
        if lost:
            self._handles = [(i, h) for i, h in self._handles if i not in lost]
        return out

    def close(self) -> None:
        if self._inited:
            self._inited = False
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
        self._handles = []
