"""The run folder format: the one contract between the logger and every reader.

A run lives in ``<dir>/<project>/<run-id>/``:

``meta.json``
    Who, where and what: ``format_version``, ``id``, ``name``, ``project``, ``group``, ``tags``,
    ``notes``, ``user``, ``host``, ``os``, ``python``, ``command`` (argv list), ``cwd``,
    ``git`` (``commit``, ``branch``, ``remote``, ``dirty``), ``gpu`` (``count``, ``names``),
    ``cpu_count``, ``memory_gb``, ``started_at``, ``ended_at``, ``duration_s``, ``status``,
    ``exit`` (``reason``, ``traceback``), ``heartbeat_at``, ``system_source``; a run made by an
    importer also has ``imported_from`` (``format``, ``path`` of the source, ``problems``: what
    could not be imported, one line each). Times are Unix seconds (float). Rewritten by temp
    name + rename, so a reader never sees half of it.
``config.json``
    The run's configuration as given (nested dicts kept), rewritten atomically on change.
``metrics.jsonl``
    One strict-JSON object per step: ``{"_step": 120, "_time": 1732291200.25, "train/loss": 0.41}``.
    Keys keep the user's spelling; ``/`` groups them; nested dicts are flattened with ``/``.
    Non-finite floats are written as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
    Strings are kept (shown in tables, not plotted). A last line without ``\\n`` is a record
    still being written.
``system.jsonl``
    Time-stamped samples: ``{"_time": ..., "cpu/proc_pct": 12.5, "gpu/0/util_pct": 97.0}``; names
    carry their unit (see ``SYSTEM_METRICS``).
``summary.json``
    Final or best values: explicit ``run.summary[...]`` entries, plus the last value of every
    metric not set explicitly. Rewritten atomically.
``artifacts/manifest.jsonl``
    One line per logged artifact: ``name``, ``type``, ``path`` (relative to ``artifacts/``),
    ``bytes``, ``sha256``, ``files`` (count; >1 for folders), ``step``, ``time``.
``console.log``
    stdout and stderr of the training process, as it was printed.

Run ids are ``<yyyymmdd-hhmmss>-<slug>-<6 random chars>``; the folder is created exclusively,
so two processes never share one. A run whose status is ``running`` and whose heartbeat is older
than ``LOST_AFTER_S`` is shown by readers as ``lost``.

This module holds constants only: ``sitegen`` may import it, and it imports nothing heavy.
"""

SCHEMA_VERSION = 1

META_FILE = "meta.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
SYSTEM_FILE = "system.jsonl"
SUMMARY_FILE = "summary.json"
ARTIFACTS_DIR = "artifacts"
ARTIFACT_MANIFEST = "manifest.jsonl"  # inside ARTIFACTS_DIR
CONSOLE_FILE = "console.log"
WRITER_LOCK_FILE = ".writer.lock"  # flock held by the process writing the run (logger/folder.py)

STEP_KEY = "_step"
TIME_KEY = "_time"

# Run states. LOST is never written: readers derive it from a stale heartbeat.
RUNNING = "running"
FINISHED = "finished"
CRASHED = "crashed"
KILLED = "killed"
LOST = "lost"
STATUSES = (RUNNING, FINISHED, CRASHED, KILLED, LOST)

HEARTBEAT_INTERVAL_S = 10.0
LOST_AFTER_S = 120.0
FLUSH_INTERVAL_S = 1.0
DEFAULT_SYSTEM_INTERVAL_S = 10.0

# Strict JSON has no NaN/inf: these strings stand for them in every file.
NONFINITE_TOKENS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

# System metric names; {i} is the GPU index as the process sees it (after CUDA_VISIBLE_DEVICES).
CPU_PROC_PCT = "cpu/proc_pct"          # this process, % of one core (may exceed 100)
CPU_HOST_PCT = "cpu/host_pct"          # whole host, % of all cores
CPU_MAX_CORE_PCT = "cpu/max_core_pct"  # busiest single core, % (spots input-pipeline bound runs)
MEM_PROC_RSS_GB = "mem/proc_rss_gb"
MEM_HOST_PCT = "mem/host_pct"
DISK_READ_MBPS = "disk/read_mbps"
DISK_WRITE_MBPS = "disk/write_mbps"
NET_RECV_MBPS = "net/recv_mbps"
NET_SENT_MBPS = "net/sent_mbps"
GPU_UTIL_PCT = "gpu/{i}/util_pct"
GPU_MEM_USED_GB = "gpu/{i}/mem_used_gb"
GPU_MEM_TOTAL_GB = "gpu/{i}/mem_total_gb"
GPU_MEM_PCT = "gpu/{i}/mem_pct"
GPU_POWER_W = "gpu/{i}/power_w"
GPU_ENERGY_J = "gpu/{i}/energy_j"      # NVML total energy counter since driver load
GPU_TEMP_C = "gpu/{i}/temp_c"

SYSTEM_METRICS = (
    CPU_PROC_PCT, CPU_HOST_PCT, CPU_MAX_CORE_PCT, MEM_PROC_RSS_GB, MEM_HOST_PCT,
    DISK_READ_MBPS, DISK_WRITE_MBPS, NET_RECV_MBPS, NET_SENT_MBPS,
    GPU_UTIL_PCT, GPU_MEM_USED_GB, GPU_MEM_TOTAL_GB, GPU_MEM_PCT, GPU_POWER_W, GPU_ENERGY_J,
    GPU_TEMP_C,
)

# Added with the logger: "GB" in system metric names means GiB (2**30 bytes), the unit
# nvidia-smi and torch report memory in (an "80 GB" H100 shows 79.6).
BYTES_PER_GB = 2 ** 30
# meta.json "system_source" values written by the built-in sampler; callers of
# Run.log_system(..., source=...) may write their own (the examples write "simulated").
SYSTEM_SOURCE_PSUTIL = "psutil"
SYSTEM_SOURCE_PSUTIL_NVML = "psutil+nvml"

# Notes added with the logger (the format above is unchanged):
# * Several metrics lines may share one _step (log(..., step=N) called twice, or a resumed
#   run repeating a step); readers merge them into one step, later keys winning.
# * meta.json may also hold "resumed_at": [Unix seconds, ...] for a run continued with
#   init(id=..., resume="allow"|"must"). "exit" is null while running, then
#   {"reason": "finished" | "ValueError: ..." | "SIGTERM" | ..., "traceback": str | null}.
#   "gpu" is null when system metrics were off (unknown), {"count": 0, "names": []} without
#   a GPU. "git" is null outside a repository; "dirty" null until `git status` answered.
# * A folder artifact's sha256 is the digest of the lines "<relative/posix/path>\0<sha256>\n"
#   of its files, sorted; its "type" defaults to "folder" (a file's to "file").
# * meta.json "resume_conflict": {"id", "holder", "at"} on a run started by init(id=X,
#   resume=...) while another process was writing run X: this run holds that process's
#   continuation instead (same name, steps continued); run X is left to its writer.
