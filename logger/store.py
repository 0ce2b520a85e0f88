"""Runs on an object store: a background uploader from a local staging folder, and ``sync``.

``RUNPAGES_DIR=s3://bucket/prefix`` (any fsspec URL but ``file://``) makes ``init`` write the run
exactly as for a local folder, into ``<staging>/<project>/<run-id>/`` (``$RUNPAGES_STAGING``, else
the user cache dir), and start a ``RunUploader`` that pushes it to ``<url>/<project>/<run-id>/``
every ``sync_interval`` seconds and at ``finish()``.

Invariants (what the store holds reads as a valid run at every moment):
* An append-only file (``APPEND_FILES``) goes up as immutable segments
  ``<file>.parts/<start>-<end>`` holding its bytes ``[start, end)``, cut after the last newline,
  so a segment never holds a torn line; an upload costs the new bytes only. S3 PUTs are atomic:
  a half-uploaded segment is never visible.
* A finished run is compacted: each append-only file goes up whole under its own name, then
  meta.json (last, so the final status implies complete data), then its segments are deleted.
  A reader joins ``<file>`` (if present) and then the segments past its length, in order;
  overlapping segments hold the same bytes (the file only grows), so any mix reads right.
* Rewritten files (meta, config, summary) go up whole when they changed; meta.json is put
  after the data of the same pass. Media and artifacts go up once.
* A writer only touches ``<url>/<project>/<its run-id>/``; run ids carry a time and 6 random
  characters (36**6 per second and name), so machines that never talk do not collide.
* Nothing here raises into training: a failing store warns once, retries with backoff (doubling
  from ``sync_interval``, at most 8 intervals and ``MAX_BACKOFF_S``), and catches up later; the
  staging folder keeps everything. After a failure the store is opened afresh (a new client,
  so credentials renewed in the environment or ``~/.aws`` are read again); what is already
  uploaded is remembered, so the catch-up sends only what is missing.
* ``fsspec`` and the protocol's package are imported in the uploader thread on first use.
* A staged run names its store URL in ``STORE_MARK`` and, once compacted there, holds
  ``DONE_MARK`` (dot files: never uploaded). A job killed with -9 leaves a run without the
  second; the next ``init`` on that machine (its uploader thread, before its own first pass)
  uploads and compacts every such run whose writer is gone (its flock is free), so it reads
  in the store as the local folder does: ``running`` with a stale heartbeat, i.e. ``lost``.
* A staged run whose upload is confirmed complete (a fresh listing holds every file of the
  folder at its size, and no segment) is deleted from the staging folder, unless
  ``$RUNPAGES_KEEP_STAGED`` is set (then it holds ``DONE_MARK``); an unconfirmed or failed
  upload keeps it for ``runpages sync`` or the next ``init``. ``init(id=..., resume=...)``
  of a run that is in the store but not staged here first copies it back (``restore_run``),
  so the continued files grow from what the store holds; a store holding more of a file
  than the staged copy (a resume that could not restore) is never appended to.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from typing import Any, Callable

from . import schema
from .schema import is_store_url  # noqa: F401 (its home is the format; used here and by the CLI)

APPEND_FILES = (schema.METRICS_FILE, schema.SYSTEM_FILE, schema.CONSOLE_FILE,
                f"{schema.ARTIFACTS_DIR}/{schema.ARTIFACT_MANIFEST}")
REWRITTEN_FILES = (schema.CONFIG_FILE, schema.SUMMARY_FILE)      # meta.json goes last, apart
PARTS_SUFFIX = ".parts"
_PART = re.compile(r"^(\d{16})-(\d{16})$")
_TMP = re.compile(r"\.tmp\d+-\d+$")          # writer.atomic_write's temp names: never uploaded
STORE_MARK = ".store-url"      # in a staged run folder: the URL it is uploaded to
DONE_MARK = ".uploaded"        # in a staged run folder: the run is complete in the store
DEFAULT_SYNC_INTERVAL_S = 15.0
MAX_BACKOFF_S = 120.0
FINISH_TIMEOUT_S = float(os.environ.get("RUNPAGES_SYNC_TIMEOUT", "30"))
LIVE_HEARTBEAT_S = 90.0                       # a "running" run beating this recently is live
KEEP_ENV = "RUNPAGES_KEEP_STAGED"             # set: staged runs stay after a complete upload


def staging_root() -> str:
    """Where runs bound for a store are written first."""
    given = os.environ.get("RUNPAGES_STAGING")
    if given:
        return os.path.abspath(os.path.expanduser(given))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "runpages", "staging")


def part_name(start: int, end: int) -> str:
    return f"{start:016d}-{end:016d}"


def parse_part(name: str) -> tuple[int, int] | None:
    m = _PART.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


# ---- storage options ------------------------------------------------------------------------
_OPTION_KEYS = ("endpoint_url", "profile", "region", "anon")


def store_options(url: str, table: dict | None = None, cwd: str | None = None) -> dict:
    """fsspec keyword arguments for ``url``: ``[store]`` of ./runpages.toml (or ``table``), then
    ``$RUNPAGES_STORE_OPTIONS`` (JSON). Credentials stay in the store's own environment
    variables and files (``AWS_*``, ``~/.aws``): none is ever written anywhere by runpages."""
    opts: dict = {}
    if table is None:
        table = _toml_store_table(cwd or os.getcwd())
    opts.update({k: v for k, v in (table or {}).items() if k in _OPTION_KEYS})
    env = os.environ.get("RUNPAGES_STORE_OPTIONS")
    if env:
        try:
            extra = json.loads(env)
            if isinstance(extra, dict):
                opts.update(extra)
        except ValueError:
            pass
    return _fsspec_kwargs(url, opts)


def _toml_store_table(cwd: str) -> dict:
    path = os.path.join(cwd, "runpages.toml")
    try:
        import tomllib  # noqa: PLC0415
        with open(path, "rb") as f:
            table = tomllib.load(f).get("store")
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def _fsspec_kwargs(url: str, opts: dict) -> dict:
    if not url.lower().startswith(("s3://", "s3a://")):
        return dict(opts)
    out = {k: v for k, v in opts.items() if k not in ("region",)}
    if opts.get("region"):
        out.setdefault("client_kwargs", {})["region_name"] = opts["region"]
    return out


def open_store(url: str, options: dict | None = None, quick_fail: bool = False,
               fresh: bool = False):
    """``(filesystem, path)`` for ``url`` (imports fsspec and the protocol's package now);
    ``fresh``: a new client, not fsspec's cached one (credentials are read again)."""
    import fsspec  # noqa: PLC0415 (never at `import runpages`)
    opts = dict(store_options(url) if options is None else options)
    if fresh:
        opts["skip_instance_cache"] = True
    if quick_fail and url.lower().startswith(("s3://", "s3a://")):
        # The uploader has its own backoff: fail fast rather than hang the pass in retries.
        cfg = opts.setdefault("config_kwargs", {})
        cfg.setdefault("connect_timeout", 3)
        cfg.setdefault("read_timeout", 20)
        cfg.setdefault("retries", {"max_attempts": 1})
    fs, path = fsspec.core.url_to_fs(url, **opts)
    if quick_fail:
        _quick_azure(fs)
    return fs, path.rstrip("/")


def _quick_azure(fs: Any) -> None:
    """Azure's SDK retries a refused request 10 times from 15 s apart (minutes); adlfs takes
    no retry setting, so its client's one retry policy (shared by every blob client it makes)
    is told to try once more, soon: the uploader's own backoff does the rest."""
    policy = getattr(getattr(getattr(fs, "service_client", None), "_config", None),
                     "retry_policy", None)
    for name, value in (("total_retries", 1), ("connect_retries", 1), ("read_retries", 1),
                        ("initial_backoff", 0.5), ("increment_base", 1)):
        if policy is not None and hasattr(policy, name):
            setattr(policy, name, value)


# ---- one run: local folder -> store ---------------------------------------------------------
class DivergedError(RuntimeError):
    """The staged copy is not a continuation of what the store holds (never uploaded)."""


class RunSync:
    """What of one staged run folder is in the store, and the pass that uploads the rest."""

    def __init__(self, local_dir: str, fs: Any, path: str) -> None:
        self.local_dir, self.fs, self.path = local_dir, fs, path
        self.offsets: dict[str, int] = {}         # append-only file -> bytes in the store
        self.stamps: dict[str, tuple] = {}        # other file -> (size, mtime_ns) uploaded
        self.compacted: dict[str, int] = {}       # append-only file -> size of its whole copy
        self.parts: dict[str, list[str]] = {}     # append-only file -> segment paths
        self.bytes_put = 0
        self.puts = 0
        self.diverged: list[str] = []             # append-only files the store holds more of
        self._known = False

    def learn(self) -> None:
        """Read what the store already holds for this run (a resumed or half-synced run)."""
        try:
            listing = self.fs.find(self.path, detail=True)
        except FileNotFoundError:
            listing = {}
        sizes: dict[str, int] = {}
        for key, info in listing.items():
            rel = key[len(self.path):].lstrip("/")
            if not rel or info.get("type") == "directory":
                continue
            folder, _, name = rel.rpartition("/")
            if folder.endswith(PARTS_SUFFIX) and parse_part(name):
                base = folder[:-len(PARTS_SUFFIX)]
                start, end = parse_part(name)
                self.offsets[base] = max(self.offsets.get(base, 0), end)
                self.parts.setdefault(base, []).append(key)
            else:
                sizes[rel] = (int(info.get("size") or 0), _modified(info))
        for rel, (size, modified) in sizes.items():
            if rel in APPEND_FILES:
                self.offsets[rel] = max(self.offsets.get(rel, 0), size)
                self.compacted[rel] = size
                continue
            try:
                st = os.stat(os.path.join(self.local_dir, rel))
            except OSError:
                continue
            rewritten = rel in REWRITTEN_FILES or rel == schema.META_FILE
            # a rewritten file of the same size is current only if uploaded after its change
            if st.st_size == size and (not rewritten or modified >= st.st_mtime_ns / 1e9):
                self.stamps[rel] = (st.st_size, st.st_mtime_ns)
        for rel in APPEND_FILES:
            try:
                here = os.path.getsize(os.path.join(self.local_dir, rel))
            except OSError:
                here = 0
            if self.offsets.get(rel, 0) > here:
                # the store holds more than this copy: not its continuation (a resume that
                # could not restore); appending would splice other bytes onto the store's
                self.diverged.append(rel)
        self._known = True

    def _put(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.path}/{rel}", data)
        self.bytes_put += len(data)
        self.puts += 1

    def push(self, final: bool = False) -> None:
        """One pass: new segments, changed files, then meta.json; ``final`` also compacts."""
        if not self._known:
            self.learn()
        if self.diverged:
            raise DivergedError(f"the store holds more of {', '.join(self.diverged)} than "
                                f"{self.local_dir}; nothing of this copy is uploaded")
        for rel in APPEND_FILES:
            self._push_segment(rel, whole=final)
        for rel in self._other_files():
            self._push_if_changed(rel)
        for rel in REWRITTEN_FILES:
            self._push_if_changed(rel)
        if final:
            for rel in APPEND_FILES:
                self._compact(rel)
        self._push_if_changed(schema.META_FILE)
        if final:
            for rel in APPEND_FILES:
                for key in self.parts.pop(rel, []):
                    try:
                        self.fs.rm_file(key)
                    except FileNotFoundError:
                        pass

    def _push_segment(self, rel: str, whole: bool) -> None:
        local = os.path.join(self.local_dir, rel)
        start = self.offsets.get(rel, 0)
        try:
            with open(local, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size <= start:
                    return
                f.seek(start)
                data = f.read(size - start)
        except FileNotFoundError:
            return
        if not whole:
            cut = data.rfind(b"\n") + 1          # complete lines only
            data = data[:cut]
        if not data:
            return
        end = start + len(data)
        key = f"{self.path}/{rel}{PARTS_SUFFIX}/{part_name(start, end)}"
        self.fs.pipe_file(key, data)
        self.bytes_put += len(data)
        self.puts += 1
        self.parts.setdefault(rel, []).append(key)
        self.offsets[rel] = end

    def _compact(self, rel: str) -> None:
        local = os.path.join(self.local_dir, rel)
        try:
            with open(local, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return
        if self.compacted.get(rel) == len(data) and not self.parts.get(rel):
            return
        self._put(rel, data)
        self.compacted[rel] = len(data)

    def _push_if_changed(self, rel: str) -> None:
        local = os.path.join(self.local_dir, rel)
        try:
            st = os.stat(local)
            stamp = (st.st_size, st.st_mtime_ns)
            if self.stamps.get(rel) == stamp:
                return
            with open(local, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return
        self._put(rel, data)
        self.stamps[rel] = stamp

    def _other_files(self) -> list[str]:
        """Media, artifacts and anything else in the folder, as posix paths."""
        out = []
        skip = set(APPEND_FILES) | set(REWRITTEN_FILES) | {schema.META_FILE}
        for root, dirs, files in os.walk(self.local_dir):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, self.local_dir).replace(os.sep, "/")
                if rel in skip or _TMP.search(name) or os.path.islink(full) or name.startswith("."):
                    continue            # dot files (the writer's lock) are the writer's, not the run's
                out.append(rel)
        return out


def _modified(info: dict) -> float:
    """The object's last-modified time in Unix seconds (0 when the store does not say)."""
    value = info.get("LastModified") or info.get("mtime") or info.get("created")
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return float(value) if isinstance(value, (int, float)) else 0.0


def writer_gone(local_dir: str) -> bool | None:
    """True when the process that wrote the run is gone (its writer lock is free), False while
    it holds the lock, None when this cannot be told (no lock file, or no ``flock`` here)."""
    try:
        import fcntl  # noqa: PLC0415 (POSIX only)
        fd = os.open(os.path.join(local_dir, schema.WRITER_LOCK_FILE), os.O_RDWR)
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return None
    finally:
        os.close(fd)


def run_is_live(local_dir: str, now: float | None = None) -> bool:
    """A run still writing: sync must not compact it. The writer lock says so when it can
    (a killed job's lock is free at once); else status running with a recent heartbeat."""
    gone = writer_gone(local_dir)
    if gone is not None:
        return not gone
    try:
        with open(os.path.join(local_dir, schema.META_FILE), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict) or meta.get("status") != schema.RUNNING:
        return False
    beat = meta.get("heartbeat_at")
    now = time.time() if now is None else now
    return isinstance(beat, (int, float)) and now - beat < LIVE_HEARTBEAT_S


def confirm_complete(fs: Any, path: str, local_dir: str) -> bool:
    """A fresh listing of ``path`` holds every file of the staged run at its size, and no
    segment is left: the store's copy is the whole run."""
    fs.invalidate_cache(path)
    remote = {}
    for key, info in fs.find(path, detail=True).items():
        if info.get("type") != "directory":
            remote[key[len(path):].lstrip("/")] = int(info.get("size") or 0)
    if not remote or any(f"{PARTS_SUFFIX}/" in rel for rel in remote):
        return False
    for root, dirs, files in os.walk(local_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            full = os.path.join(root, name)
            if name.startswith(".") or _TMP.search(name) or os.path.islink(full):
                continue
            rel = os.path.relpath(full, local_dir).replace(os.sep, "/")
            if remote.get(rel) != os.path.getsize(full):
                return False
    return True


def settle(local_dir: str, url: str, fs: Any, path: str) -> bool:
    """After a final upload: delete the staged run once the store's copy is confirmed whole
    (kept, marked done, under ``$RUNPAGES_KEEP_STAGED``); an unconfirmed one is kept unmarked
    for the next try. True when the store's copy is confirmed."""
    try:
        whole = confirm_complete(fs, path, local_dir)
    except Exception:  # noqa: BLE001 (unconfirmed: kept for sync / the next init)
        return False
    if not whole:
        return False
    if os.environ.get(KEEP_ENV):
        _mark(local_dir, DONE_MARK, url)
        return True
    shutil.rmtree(local_dir, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(local_dir))      # the project folder, once empty
    except OSError:
        pass
    return True


def restore_run(url: str, local_dir: str) -> bool:
    """Copy the run at ``url`` into ``local_dir`` (which must not exist), segments joined
    after each file's whole copy; True when the store held it. Store errors propagate."""
    fs, path = open_store(url, quick_fail=True)
    try:
        listing = fs.find(path, detail=True)
    except FileNotFoundError:
        return False
    files: dict[str, dict] = {}
    for key, info in listing.items():
        rel = key[len(path):].lstrip("/")
        if not rel or info.get("type") == "directory" or ".." in rel.split("/"):
            continue
        folder, _, name = rel.rpartition("/")
        span = parse_part(name) if folder.endswith(PARTS_SUFFIX) else None
        entry = files.setdefault(folder[:-len(PARTS_SUFFIX)] if span else rel, {"parts": []})
        if span:
            entry["parts"].append((span[0], span[1], key))
        else:
            entry["base"] = key
    if schema.META_FILE not in files:
        return False
    tmp = f"{local_dir}.restoring"
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, entry in files.items():
        data = bytearray(fs.cat_file(entry["base"])) if "base" in entry else bytearray()
        for start, end, key in sorted(entry["parts"]):
            if start > len(data):
                break                              # a gap: what follows waits in the store
            if end > len(data):
                data += fs.cat_file(key)[len(data) - start:]
        target = os.path.join(tmp, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    os.makedirs(os.path.dirname(local_dir), exist_ok=True)
    os.replace(tmp, local_dir)
    return True


def restore_for_resume(store_url: str, staging: str, project_dir_name: str, run_id: Any,
                       warn: Callable[[str, str], None]) -> None:
    """The seam ``api.init`` uses before opening a resumed run: bring it back from the store
    when it is not staged here (deleted after its upload, or written on another machine)."""
    if not isinstance(run_id, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", run_id):
        return                       # the folder code refuses such an id with its own message
    local = os.path.join(staging, project_dir_name, run_id)
    if os.path.isdir(local):
        return
    url = f"{store_url.rstrip('/')}/{project_dir_name}/{run_id}"
    try:
        restore_run(url, local)
    except Exception as exc:  # noqa: BLE001 (never raise into training)
        warn("store-restore", f"runpages: cannot read run {run_id!r} back from {url} to continue "
                              f"it ({type(exc).__name__}: {str(exc)[:200]}); if the store holds it, "
                              "this process's records of it are kept here and not uploaded.")


# ---- the uploader thread --------------------------------------------------------------------
class RunUploader:
    """Pushes one staged run every ``interval`` seconds in a daemon thread; ``finish`` compacts."""

    def __init__(self, local_dir: str, url: str, interval: float,
                 warn: Callable[[str, str], None], options: dict | None = None) -> None:
        self.local_dir, self.url, self.interval = local_dir, url, float(interval)
        self._warn, self._options = warn, options
        self._sync: RunSync | None = None
        self._lock = threading.Lock()             # one pass at a time
        self._stop = threading.Event()
        self._failures = 0
        self._reopen = False                      # after a failure: a new client next pass
        self.leftovers: list[str] = []            # staged runs of dead jobs, uploaded first
        self._thread = threading.Thread(target=self._loop, name="runpages-upload", daemon=True)
        self._thread.start()

    def _pass(self, final: bool = False) -> bool:
        with self._lock:
            try:
                if self._sync is None or self._reopen:
                    fs, path = open_store(self.url, self._options, quick_fail=True,
                                          fresh=self._reopen)
                    if self._sync is None:
                        self._sync = RunSync(self.local_dir, fs, path)
                    self._sync.fs, self._reopen = fs, False   # offsets kept: send what is missing
                self._sync.push(final=final)
            except Exception as exc:  # noqa: BLE001 (any store error: warn once, retry)
                self._failures += 1
                self._reopen = True
                self._warn("store-upload",
                           f"runpages: cannot upload to {self.url} ({type(exc).__name__}: "
                           f"{str(exc)[:200]}); training goes on, the run is kept in "
                           f"{self.local_dir} and the upload is retried.")
                return False
            self._failures = 0
            return True

    def _loop(self) -> None:
        self.leftovers = upload_leftovers(os.path.dirname(os.path.dirname(self.local_dir)),
                                          self.local_dir, self._warn, self._stop)
        wait = self.interval
        while not self._stop.wait(wait):
            ok = self._pass()
            wait = self.interval if ok else min(MAX_BACKOFF_S, self.interval * 2 ** min(
                self._failures, 3))

    def finish(self, timeout: float | None = None) -> bool:
        """Stop the thread, then upload and compact, retrying until ``timeout`` seconds."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(5.0)
        deadline = time.monotonic() + (FINISH_TIMEOUT_S if timeout is None else timeout)
        delay = 0.5
        while True:
            if self._pass(final=True):
                settle(self.local_dir, self.url, self._sync.fs, self._sync.path)
                return True
            if time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        root = os.path.dirname(os.path.dirname(self.local_dir))
        self._warn("store-unfinished",
                   f"runpages: the run in {self.local_dir} is not fully uploaded to {self.url}; "
                   f"it is kept there: `runpages sync {root} {_parent(_parent(self.url))}` "
                   "uploads the rest.")
        return False

    @property
    def stats(self) -> tuple[int, int]:
        """(bytes put, objects put) so far."""
        s = self._sync
        return (s.bytes_put, s.puts) if s else (0, 0)


def _parent(url: str) -> str:
    return url.rstrip("/").rpartition("/")[0]


def _mark(local_dir: str, name: str, url: str) -> None:
    try:
        with open(os.path.join(local_dir, name), "w", encoding="utf-8") as f:
            f.write(url + "\n")
    except OSError:
        pass            # without the mark, `runpages sync` still completes the run


def start_uploader(run: Any, store_url: str, staging: str, interval: float) -> RunUploader:
    """The seam ``api.init`` uses: upload ``run`` (staged in ``staging``) to ``store_url``."""
    rel = os.path.relpath(run.dir, staging).replace(os.sep, "/")
    url = f"{store_url.rstrip('/')}/{rel}"
    _mark(run.dir, STORE_MARK, url)
    return RunUploader(run.dir, url, interval, run._warn)


def _marked(local_dir: str) -> str | None:
    try:
        with open(os.path.join(local_dir, STORE_MARK), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def left_behind(staging: str, skip: str | None = None) -> list[tuple[str, str]]:
    """``(run folder, store URL)`` of staged runs not complete in their store whose writer is
    gone: what a killed job left."""
    out = []
    try:
        runs = find_staged_runs(staging)
    except OSError:
        return out
    for rdir in runs:
        if rdir == skip or os.path.exists(os.path.join(rdir, DONE_MARK)):
            continue
        url = _marked(rdir)     # None: staged before marks existed; `runpages sync` uploads it
        if url and is_store_url(url) and not run_is_live(rdir):
            out.append((rdir, url))
    return out


def upload_leftovers(staging: str, skip: str | None, warn: Callable[[str, str], None],
                     stop: threading.Event | None = None) -> list[str]:
    """Upload and compact what killed jobs left in ``staging``; returns the URLs completed.
    Never raises: a store error warns once and leaves the run for the next try."""
    done = []
    for rdir, url in left_behind(staging, skip):
        if stop is not None and stop.is_set():
            break
        try:
            fs, path = open_store(url, quick_fail=True)
            RunSync(rdir, fs, path).push(final=True)
            settle(rdir, url, fs, path)
        except Exception as exc:  # noqa: BLE001 (the next init, or runpages sync, retries)
            warn("store-leftover", f"runpages: cannot upload the run a stopped job left in {rdir} "
                                   f"to {url} ({type(exc).__name__}: {str(exc)[:200]}); the next "
                                   f"init retries, or `runpages sync {staging} "
                                   f"{_parent(_parent(url))}`.")
            continue
        done.append(url)
    return done


# ---- runpages sync --------------------------------------------------------------------------
def find_staged_runs(root: str) -> list[str]:
    """Run folders (``<project>/<run-id>/`` holding meta.json) under ``root``, sorted."""
    out = []
    for project in sorted(os.listdir(root)):
        pdir = os.path.join(root, project)
        if not os.path.isdir(pdir) or project.startswith("."):
            continue
        for run_id in sorted(os.listdir(pdir)):
            rdir = os.path.join(pdir, run_id)
            if os.path.isfile(os.path.join(rdir, schema.META_FILE)):
                out.append(rdir)
    return out


def sync_folder(root: str, url: str, options: dict | None = None,
                now: float | None = None) -> list[dict]:
    """Upload every run under ``root`` to ``url``; finished or dead runs are compacted.

    Returns one dict per run: ``{"run", "url", "bytes", "objects", "compacted"}``. Store errors
    propagate (the CLI turns them into a message)."""
    fs, base = open_store(url, options)
    results = []
    for rdir in find_staged_runs(root):
        rel = os.path.relpath(rdir, root).replace(os.sep, "/")
        sync = RunSync(rdir, fs, f"{base}/{rel}")
        final = not run_is_live(rdir, now)
        sync.push(final=final)
        run_url = f"{url.rstrip('/')}/{rel}"
        if final and _marked(rdir) == run_url:
            # a staged run (the uploader's mark names this very URL; a user's own runs folder
            # never has one): deleted once whole in the store, as after a normal finish
            settle(rdir, run_url, fs, f"{base}/{rel}")
        results.append({"run": rel, "url": f"{url.rstrip('/')}/{rel}", "bytes": sync.bytes_put,
                        "objects": sync.puts, "compacted": final})
    return results
