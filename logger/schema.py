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
    A key logged as NaN at a step is not the same as a key absent from that step's line (or
    ``null``): readers keep the two apart (a gap with a mark, versus no point at all). A bare
    ``NaN`` literal, which other tools write, is read as a logged NaN too. Strings are kept (shown in tables, not plotted). A last line without ``\\n`` is a record
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
``media.jsonl`` and ``media/``
    One line per media file: ``step``, ``time``, ``key`` (as logged), ``kind`` (one of
    ``MEDIA_KINDS``), ``file`` (relative to the run folder: ``media/<key>/<step>-<hash>.<ext>``),
    ``caption`` (or null), ``bytes``, ``sha256``; optional ``shape`` (list), ``index`` (position
    in a list logged at one step), ``thumb`` (a smaller JPEG, or PNG, of an image at most 256 px), ``fps``,
    ``sample_rate``, ``duration_s``. A table file is JSON ``{"columns": [...], "data": [[...]]}``;
    a histogram file is JSON ``{"counts": [...], "edges": [...]}`` (len(edges) = len(counts)+1).
    A file lands whole before its line is written; a torn last line is ignored.
``code/reproduce.json``, ``code/``, ``env/``
    With ``init(save_code=True)`` (the default): ``code/diff.patch`` (``git diff HEAD`` when the
    tree is dirty and the diff is under the cap), ``code/untracked.txt`` (untracked files git does
    not ignore), ``code/<entry script>``, ``env/requirements.txt`` (installed distributions as
    ``name==version``), and ``code/reproduce.json`` written last: ``commit``, ``command``,
    ``diff``, ``diff_bytes``, ``untracked`` (count), ``script``, ``requirements``, ``notes``.

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
MEDIA_DIR = "media"                  # media/<key parts>/<step>-<sha256[:12]>.<ext>
MEDIA_INDEX = "media.jsonl"
MEDIA_KINDS = ("image", "video", "audio", "table", "histogram")
DEFAULT_MAX_MEDIA_MB = 1024.0
CODE_DIR = "code"                    # reproducibility: code/diff.patch, code/untracked.txt, code/<script>
ENV_DIR = "env"                      # env/requirements.txt
REPRODUCE_FILE = "code/reproduce.json"
WRITER_LOCK_FILE = ".writer.lock"  # flock held by the process writing the run (logger/folder.py)

STEP_KEY = "_step"
# The largest _step: every reader holds steps as float64, exact only up to 2**53.
MAX_STEP = 2 ** 53
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


def is_store_url(value: object) -> bool:
    """``s3://...``, ``gs://...``, ``memory://...``: a runs location on an object store (a URL
    with a scheme other than ``file``), written through ``store.py`` and read through a mirror."""
    import os
    import re

    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        return False
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]+)://", text)
    return bool(m) and m.group(1).lower() != "file"
