"""Run: one training run written as a folder of plain files (the format is ``schema.py``).

Invariants:
* ``init`` is the last call that raises for anything but wrong use: after it, a failed write,
  a deleted folder, a dead sensor or a value that cannot be encoded warns once per cause
  (``warn.Warner``) and training goes on. Wrong use fails fast at the call: ``log("loss")``
  is a TypeError, ``log_artifact`` of a missing path a FileNotFoundError.
* ``log()`` encodes and serialises in the calling thread into an in-memory list (no syscall);
  the ticker thread writes that list every ``FLUSH_INTERVAL_S`` and rewrites ``meta.json``
  (``heartbeat_at``) and ``summary.json`` every ``HEARTBEAT_INTERVAL_S``. ``finish()`` writes
  everything, so a run killed with ``kill -9`` loses at most the last second of records.
* Steps: ``log(values)`` writes one line at the next step. ``commit=False`` keeps the values
  open so the next ``log`` adds to the same step. An explicit ``step`` may repeat (several
  lines with one ``_step``: readers merge them into one step) and should not go backwards
  (warned once; the record is kept with the step it was given). After an explicit step the
  automatic counter continues from the highest step written plus one.
* Files that are rewritten (meta, config, summary) land by temp name + rename.

Writing runs with times in the past (example logbooks, imports from another tracker)
-------------------------------------------------------------------------------------
Every timestamp a run writes comes from its ``clock`` (a zero-argument callable returning Unix
seconds, default ``time.time``): ``started_at`` and the date in the run id, each record's
``_time``, ``heartbeat_at``, artifact times, ``ended_at``. Pass a clock you advance yourself, turn
the real sampler off, and supply system samples with ``log_system``::

    now = [1732000000.0]                       # 2024-11-19 07:06:40 UTC
    run = runpages.init(project="mnist", name="lr-3e-4", clock=lambda: now[0],
                      system_metrics=False, capture_console=False)
    for step in range(1000):
        now[0] += 0.25                         # this step took 250 ms
        run.log({"train/loss": loss_at(step)})
        if step % 40 == 0:
            run.log_system({"gpu/0/util_pct": 97.0, "gpu/0/mem_used_gb": 31.2},
                           source="simulated")  # meta.json system_source = "simulated"
    now[0] += 5
    run.finish()                               # or finish(status="crashed", reason="...")

``log_system(sample, time=None, source=None)`` is the documented way to write system samples
that did not come from the built-in sampler; ``time`` defaults to the clock. Where the run
"ran" can be given too: ``init(..., meta={"user": "ana", "host": "gpu-node-3", "gpu":
{"count": 8, "names": ["NVIDIA H100 80GB HBM3"] * 8}})`` sets those meta.json fields (only the
descriptive ones in ``DESCRIPTIVE_META``), and ``init(..., id="20241119-070640-lr-3e-4-a1b2c3")``
fixes the run id, so a generator writes the same folders every time.
"""
from __future__ import annotations

import operator
import os
import threading
from collections.abc import Mapping
from typing import Any, Callable

from . import folder, hooks, host, metric_defs, names, schema, site_paths
from .encode import MAX_DEPTH, dumps, encode_into, to_json_tree
from .ending import STATUSES_AT_END, Lifecycle
from .files import RunFiles
from .mappings import Config, Summary, config_to_dict
from .media import as_media_list
from .warn import Warner

STEP, TIME = schema.STEP_KEY, schema.TIME_KEY
# meta.json fields about where a run ran; init(meta=...) may set them (importers, examples)
DESCRIPTIVE_META = ("user", "host", "os", "python", "command", "cwd", "git", "gpu",
                    "cpu_count", "memory_gb")


# ---- the run -------------------------------------------------------------------------------
class Run:
    """A live run; made by ``runpages.init``. Use ``log``, ``summary``, ``config``, ``finish``.

    Its parts: the folder it opened (``folder.py``), its files and their ticker
    (``self._files``, ``files.RunFiles``), its status and one ending (``self._life``,
    ``ending.Lifecycle``); steps, system samples and artifacts are here.
    """

    def __init__(self, *, project: str, name: str | None, config: Any, tags: Any,
                 notes: str | None, group: str | None, dir: str, id: str | None,
                 resume: str | None, system_metrics: bool, system_interval: float,
                 capture_console: bool, clock: Callable[[], float],
                 meta: Mapping[str, Any] | None = None, save_code: bool = True,
                 max_media_mb: float | None = schema.DEFAULT_MAX_MEDIA_MB, _gpu: Any = None,
                 _read_host: Callable[[], dict] | None = None) -> None:
        self._pid = os.getpid()
        self._clock = clock
        self._warn = Warner()
        self._lock = threading.RLock()          # steps and the open record
        self._reducer: Any = None
        self._next_step = 0
        self._last_step: int | None = None
        self._pending: dict | None = None
        self._pending_step = 0
        self._last: dict[str, Any] = {}
        self._tees = None
        self._sampler: Any = None                   # system.SystemSampler when sampling
        self._on_end: Callable[[Run], None] | None = None   # set by api.init: forget current
        self._media: Any = None                     # media_writer.MediaWriter, on first media
        self._code_thread: threading.Thread | None = None   # reproduce.capture, save_code=True
        self._max_media_mb = max_media_mb

        self.project = str(project)
        overrides = dict(meta or {})
        unknown = set(overrides) - set(DESCRIPTIVE_META)
        if unknown:
            raise ValueError(f"runpages: meta= may only set {', '.join(DESCRIPTIVE_META)}; "
                             f"got {', '.join(sorted(unknown))}.")
        self._meta_overrides = frozenset(overrides)
        project_dir = os.path.join(os.path.abspath(os.fspath(dir)), names.safe_dir_name(project))
        cfg = config_to_dict(config)
        self.id: str | None = None
        self.dir: str | None = None
        try:
            opened = folder.open_folder(project_dir, id, resume, self._warn)
            existing = opened.meta
            self.id, self.dir = opened.id, opened.dir
            self._next_step = opened.last_step + 1
            if opened.last_step >= 0:
                self._last_step = opened.last_step
            now = clock()
            base = existing or {}
            self.name = str(name) if name is not None else base.get("name") or names.make_name()
            self.started_at = float(base.get("started_at") or now)
            if self.dir is None:
                self.id, self.dir = names.create_run_dir(project_dir, self.name, self.started_at)
            self._writer_lock = opened.lock_fd
            if self._writer_lock is None:
                self._writer_lock = folder.lock_writer(self.dir)[0]
        except OSError as exc:
            if str(exc).startswith("runpages:"):
                raise
            raise OSError(f"runpages: cannot create a run folder in {project_dir} "
                          f"({exc.strerror or exc}); pass dir=... or set RUNPAGES_DIR "
                          "to a writable folder.") from exc
        meta_now: dict[str, Any] = {
            "format_version": schema.SCHEMA_VERSION,
            "id": self.id, "name": self.name, "project": self.project,
            "group": group if group is not None else base.get("group"),
            "tags": [str(t) for t in tags] if tags is not None else list(base.get("tags") or []),
            "notes": notes if notes is not None else base.get("notes"),
            **host.describe(),
            "git": host.git_info(),
            "gpu": base.get("gpu"),
            "started_at": self.started_at, "ended_at": None, "duration_s": None,
            "status": schema.RUNNING, "exit": None, "heartbeat_at": now,
            "system_source": schema.SYSTEM_SOURCE_PSUTIL if system_metrics else None,
        }
        meta_now.update(overrides)
        if existing is not None:
            meta_now["resumed_at"] = list(base.get("resumed_at") or []) + [now]
            cfg = {**folder.read_json(opened.source, schema.CONFIG_FILE, {}), **cfg}
            self._last.update(folder.read_json(opened.source, schema.SUMMARY_FILE, {}))
        if opened.conflict is not None:
            meta_now["resume_conflict"] = opened.conflict

        self._files = RunFiles(self.dir, meta_now, self._warn, clock,
                               config_dict=lambda: self.config.as_dict(),
                               summary_dict=self._summary_dict)
        self._life = Lifecycle(warn=self._warn, name=str(self.id), wind_down=self._wind_down,
                               seal=self._seal, release=self._let_go)
        self._life.after = self._after_end
        self.config = Config(cfg, self._files.write_config)
        self.summary = Summary(self._last, self._mark_summary, self._on_skip)
        self._files.start(describe_git="git" not in self._meta_overrides)
        if save_code:
            from . import reproduce  # noqa: PLC0415 (git runs on its own thread)
            self._code_thread = reproduce.start(self.dir, self._files.meta, self._warn)
        if system_metrics:
            from .system import SystemSampler  # noqa: PLC0415 (not needed by import runpages)
            self._sampler = SystemSampler(self._record_system_sample, self._warn,
                                          system_interval, gpu=_gpu, read_host=_read_host)
            self._sampler.on_describe = self._on_describe
            self._sampler.start()
        if capture_console and hooks.sys.stdout is not None and hooks.sys.stderr is not None:
            self._tees = hooks.tee_console(self._files.console.append)
        hooks.add(self)

    def _summary_dict(self) -> dict:
        with self._lock:
            return self.summary.as_dict()

    def _mark_summary(self) -> None:
        self._files.summary_dirty = True

    # ---- logging --------------------------------------------------------------------------
    def log(self, values: Mapping[str, Any], step: int | None = None,
            commit: bool = True) -> None:
        """Record ``values`` (a dict of scalars; nested dicts are flattened with ``/``).

        ``step=None`` uses the current step (then advances it when ``commit``); an explicit
        ``step`` may repeat and should not go backwards. ``commit=False`` keeps the step open.
        """
        if type(values) is not dict and not isinstance(values, Mapping):
            raise TypeError(_not_a_dict("run.log()", values))
        if step is not None:
            step = _check_step(step)
            if step > schema.MAX_STEP:
                self._warn("step-too-big", f"runpages: step {step} is above 2**53, past what a "
                                           "float holds exactly (readers keep steps as floats); "
                                           "records with such steps are skipped, training continues.")
                return
        if self._life.finished:
            if self._pid != os.getpid():
                return  # a forked child (DataLoader worker): the parent owns the files
            self._warn("log-after-finish", f"runpages: run {self.id} is finished; "
                                           "log() calls after finish() are ignored.")
            return
        try:
            with self._lock:
                if STEP in values or TIME in values:
                    values = self._drop_reserved(values)
                if step is None and commit and self._pending is None:   # the hot path
                    rec = {STEP: self._next_step, TIME: round(self._clock(), 3)}
                    encode_into(rec, values, self._on_skip)
                    self._write_record(rec)
                    return
                if step is None:
                    step = self._pending_step if self._pending is not None else self._next_step
                elif self._pending is not None and step != self._pending_step:
                    self._commit_pending()
                if self._pending is None:
                    self._pending = {}
                    self._pending_step = step
                encode_into(self._pending, values, self._on_skip)
                if commit:
                    self._commit_pending()
        except Exception as exc:
            self._warn("log:" + type(exc).__name__,
                       f"runpages: log() failed ({exc!r}); this record is skipped, "
                       "training continues.")

    def _commit_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        rec = {STEP: self._pending_step, TIME: round(self._clock(), 3)}
        rec.update(pending)
        self._write_record(rec)

    def _write_record(self, rec: dict) -> None:
        s = rec[STEP]
        if self._last_step is not None and s < self._last_step:
            self._warn("step-backwards",
                       f"runpages: step {s} is lower than step {self._last_step} already "
                       "logged; records are kept with the step given (steps should not go "
                       "backwards).")
        try:
            line = dumps(rec)
        except (TypeError, ValueError):
            rec = {str(k): (v if isinstance(v, (str, int, float, bool, type(None)))
                            else str(v)) for k, v in rec.items()}
            try:
                line = dumps(rec)
            except ValueError:  # a float subclass that escaped the non-finite check
                rec = {k: to_json_tree(float(v)) if isinstance(v, float) else v
                       for k, v in rec.items()}
                line = dumps(rec)
        if "\\ud" in line:       # rare (emoji or a lone surrogate); json writes hex in lowercase
            line = self._files.json_line(rec)
        self._files.metrics.append(line)
        self._last.update(rec)
        if self._reducer is not None:  # define_metric() was called
            self._reducer.observe(rec, self.summary._derived)
        self._files.summary_dirty = True
        if self._last_step is None or s > self._last_step:
            self._last_step = s
        if s >= self._next_step:
            self._next_step = s + 1

    def _drop_reserved(self, values: Mapping) -> dict:
        self._warn("reserved-key", f"runpages: {STEP!r} and {TIME!r} are set by the logger; "
                                   "pass log(..., step=N) instead. Those keys are ignored.")
        return {k: v for k, v in values.items() if k not in (STEP, TIME)}

    def _on_skip(self, key: str, value: Any) -> None:
        items = as_media_list(value)
        if items is not None:   # media: queued for the media thread (called under self._lock)
            if self._media is None:
                from .media_writer import MediaWriter  # noqa: PLC0415
                self._media = MediaWriter(self.dir, self._warn, self._max_media_mb)
            self._media.put(key, self.step, round(self._clock(), 3), items)
            return
        if isinstance(value, Mapping):          # encode_into stops at MAX_DEPTH
            shown = key if len(key) <= 60 else key[:60] + "..."
            self._warn("skip:deep", f"runpages: {shown!r} nests dicts more than {MAX_DEPTH} deep "
                                    "(a dict that holds itself?); the part below is skipped, "
                                    "training continues.")
            return
        kind = type(value).__name__
        shape = getattr(value, "shape", None)
        what = f"{kind} of shape {tuple(shape)}" if shape is not None else kind
        self._warn(f"skip:{kind}", f"runpages: cannot log {what} for {key!r} (only numbers, "
                                   "bools, strings and 0-d arrays are logged); it is skipped, "
                                   "training continues.")

    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step`` writes to."""
        return self._pending_step if self._pending is not None else self._next_step

    # ---- system samples -------------------------------------------------------------------
    def log_system(self, sample: Mapping[str, Any], time: float | None = None,
                   source: str | None = None) -> None:
        """Write one system sample (names from ``schema.SYSTEM_METRICS``, units in the name).

        For samples not taken by the built-in sampler: ``time`` (Unix seconds) defaults to
        the run's clock; ``source`` (e.g. ``"simulated"``) is recorded in meta.json as
        ``system_source``.
        """
        if not isinstance(sample, Mapping):
            raise TypeError(_not_a_dict("run.log_system()", sample))
        if self._life.finished:
            return
        self._write_system(sample, time, source)

    def _write_system(self, sample: Mapping[str, Any], time: float | None,
                      source: str | None) -> None:
        # also used by the sampler's last sample, taken while finish() runs
        try:
            t = self._clock() if time is None else float(time)
            rec = {TIME: round(t, 3)}
            encode_into(rec, sample, self._on_skip)
            self._files.system.append(self._files.json_line(rec))
            if source is not None and source != self._files.meta["system_source"]:
                with self._files.meta_lock:
                    self._files.meta["system_source"] = str(source)
                self._files.write_meta()
        except Exception as exc:
            self._warn("log-system:" + type(exc).__name__,
                       f"runpages: log_system() failed ({exc!r}); the sample is skipped.")

    def _record_system_sample(self, sample: dict) -> None:
        source = None  # the first GPU reading upgrades meta.json's "psutil" source
        if self._files.meta["system_source"] == schema.SYSTEM_SOURCE_PSUTIL \
                and any(k.startswith("gpu/") for k in sample):
            source = schema.SYSTEM_SOURCE_PSUTIL_NVML
        self._write_system(sample, None, source)

    def _on_describe(self, info: dict) -> None:
        with self._files.meta_lock:
            self._files.meta.update({k: v for k, v in info.items() if k not in self._meta_overrides})
            self._files.write_meta()

    # ---- artifacts ------------------------------------------------------------------------
    def define_metric(self, name: str, step_metric: str | None = None,
                      summary: str | None = None) -> None:
        """W&B's ``define_metric``: the summary ``name`` keeps and its x axis (``metric_defs``)."""
        kind = metric_defs.check(name, summary)
        with self._lock:
            if self._reducer is None:
                self._reducer = metric_defs.Reducer()
            self._reducer.define(name, kind)
            if kind == "none":
                self.summary._hidden.add(name)
            entry = {"summary": kind}
            if step_metric is not None:
                entry["step_metric"] = str(step_metric)
            self._files.meta.setdefault("metrics", {})[name] = entry
            self._files.summary_dirty = True
        self._files.write_meta()

    def log_artifact(self, path: str | os.PathLike, name: str | None = None,
                     type: str | None = None, link: bool = False) -> dict | None:
        """Copy a file or folder into ``artifacts/`` and add a manifest line; returns it.

        ``link=True`` hard-links files instead when on the same file system (fast, no extra
        space); only use it for files nobody rewrites in place, since ``torch.save`` to the
        same path would change the linked artifact too. A missing path raises
        FileNotFoundError; other failures warn and return None.
        """
        from . import artifacts  # noqa: PLC0415 (hashlib/shutil only when used)
        src = os.fspath(path)
        if not os.path.exists(src):
            raise FileNotFoundError(f"runpages: log_artifact(): nothing at {src!r} (working "
                                    f"directory {os.getcwd()}); pass an existing file or folder.")
        if self._life.finished:
            self._warn("artifact-after-finish", "runpages: log_artifact() after finish() is "
                                                "ignored.")
            return None
        try:
            entry = artifacts.store(src, os.path.join(self.dir, schema.ARTIFACTS_DIR),
                                    link=link)
        except Exception as exc:
            self._warn("artifact:" + exc.__class__.__name__,
                       f"runpages: could not store artifact {src!r} ({exc}); "
                       "it is not part of the run, training continues.")
            return None
        kind = entry.pop("kind")
        base = os.path.basename(os.path.normpath(src))
        record = {"name": str(name) if name is not None else base,
                  "type": str(type) if type is not None else kind, **entry,
                  "step": self._last_step, "time": round(self._clock(), 3)}
        self._files.manifest.append(self._files.json_line(record))
        self._files.manifest.flush()
        return record

    # ---- how it ends (the once-only logic is ending.Lifecycle) ---------------------------
    def finish(self, status: str | None = None, reason: str | None = None) -> None:
        """Write everything and close the run. Safe to call twice.

        ``status`` defaults to ``"finished"``; a script that handles a failure itself may
        pass ``"crashed"`` or ``"killed"`` with a ``reason``.
        """
        if status is not None and status not in STATUSES_AT_END:
            raise ValueError(f"runpages: finish(status=...) takes one of {STATUSES_AT_END}; "
                             f"got {status!r}.")
        self._life.end(status, reason, None)

    def _wind_down(self) -> None:
        self._files.stop()
        if self._sampler is not None:
            self._sampler.stop()
        with self._lock:
            self._commit_pending()
        if self._media is not None:
            self._media.close()
        if self._code_thread is not None:     # a short script ends before git answers
            self._code_thread.join(15.0)
        if self._tees is not None:
            hooks.untee_console(self._tees)

    def _seal(self, status: str, exit: dict | None) -> None:
        files = self._files
        files.close()
        files.write_summary()
        end = self._clock()
        with files.meta_lock:
            files.sealed = True
            files.meta.update(status=status, exit=exit, ended_at=end, heartbeat_at=end,
                              duration_s=round(max(0.0, end - self.started_at), 3))
            files.write_meta(final=True)

    def _let_go(self) -> None:
        """The folder is the run's no more: its lock goes, and the hooks forget the run."""
        self._drop_writer_lock(unlink=True)
        hooks.remove(self)

    def _drop_writer_lock(self, unlink: bool) -> None:
        fd, self._writer_lock = self._writer_lock, None
        if fd is not None:
            if unlink:      # a finished run folder holds only the run's files
                try:
                    os.unlink(os.path.join(self.dir, schema.WRITER_LOCK_FILE))
                except OSError:
                    pass
            try:
                os.close(fd)    # drops the flock: the run may be resumed now
            except OSError:
                pass

    def _after_end(self) -> None:
        if self._on_end is not None:
            self._on_end(self)

    # called by hooks ------------------------------------------------------------------------
    def on_exception(self, exc_type: type, exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._life.end(schema.KILLED, "KeyboardInterrupt", None)
            return
        import traceback  # noqa: PLC0415
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        reason = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        if self._tees is not None and not self._life.finished:
            self._files.console.append(text)  # printed after the tee is gone; keep it in the run
        self._life.end(schema.CRASHED, reason, text)

    def on_signal(self, signum: int) -> None:
        import signal  # noqa: PLC0415
        if self._life.finished:
            return      # finish() ran (or runs on another thread) and writes the final state
        self._life.set_status(schema.KILLED, signal.Signals(signum).name, None)
        with self._files.meta_lock:
            self._files.meta.update(status=self._life.status, exit=self._life.exit,
                                    heartbeat_at=self._clock())
        with self._lock:
            self._commit_pending()
        self._files.flush()
        self._files.write_summary()
        self._files.write_meta()

    def after_fork_in_child(self) -> None:
        """A forked child shares nothing with the run: fresh locks, tee off, calls ignored."""
        self._lock = threading.RLock()
        self._life.after_fork_in_child()
        self._drop_writer_lock(unlink=False)     # the parent's lock stays held through its own fd
        self._files.after_fork_in_child()
        if self._tees is not None:
            for tee in self._tees:
                tee.active = False

    def on_exit(self) -> None:
        self._life.end(None, "process exited", None)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self._life.end(None, None, None)
        elif issubclass(exc_type, SystemExit) and exc.code in (None, 0):
            self._life.end(None, "sys.exit(0)", None)
        elif issubclass(exc_type, SystemExit):
            self._life.end(schema.CRASHED, f"sys.exit({exc.code!r})", None)
        else:
            self.on_exception(exc_type, exc, tb)
        return False

    # ---- state ---------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._life.status

    @property
    def url(self) -> str:
        """The run page's path relative to the site root (W&B's ``run.url``), e.g.
        ``p/mnist/r/20261125-100000-brisk-otter-1-a1b2c3/index.html``: join it to where the
        site is published. Same slug rule as the site (``site_paths``); only when another
        project or run of the logbook slugs to the same name does the site add a suffix."""
        run_folder = os.path.basename(os.path.normpath(self.dir or "")) or str(self.id)
        return site_paths.run_page_path(site_paths.slug(self.project), site_paths.slug(run_folder))

    def __repr__(self) -> str:
        return f"<runpages Run {self.project}/{self.id} {self._life.status}>"


def _not_a_dict(call: str, value: Any) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return (f"runpages: {call} takes a dict of values, e.g. {call[:-1]}{{'loss': 0.25}}); "
            f"got {type(value).__name__} {shown}.")


def _check_step(step: Any) -> int:
    if isinstance(step, bool):
        raise TypeError("runpages: step must be an int, got a bool.")
    try:
        s = operator.index(step)
    except TypeError:
        raise TypeError(f"runpages: step must be an int (e.g. step=120); got "
                        f"{type(step).__name__} {step!r}.") from None
    if s < 0:
        raise ValueError(f"runpages: step must be >= 0; got {s}.")
    return s

