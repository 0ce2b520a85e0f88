"""``serve --watch``: file events → debounced set of changed runs → incremental rebuild → new epoch.

Invariants:
- Watchdog's threads only record what changed (``Rebuilder.notify``: a set and a timestamp under
  a lock, then an Event); they never build. One builder thread does every build, so builds
  never overlap.
- The builder waits for ``quiet`` seconds without events (100 ms), but never more than
  ``max_wait`` after the first event (300 ms): a run logging 1,000 steps a second still
  updates a few times a second, and a burst from 20 runs costs one build, not twenty.
- Events the build itself causes (it only reads run folders: ``opened``/``closed_no_write``)
  and anything under the site folder are ignored, so a build never triggers the next one.
- A build that fails (``SiteError``: bad runpages.toml, ``--strict`` problems, a theme that
  does not parse; or a bug) leaves the site on disk as the last good build wrote it; the
  reason, with file and line, goes to the log and to open tabs (``LiveState.fail``).
- Every ``tick`` seconds without events the builder asks ``build_site`` anyway: a no-op
  when nothing changed (a ``stat`` scan), and how a silent run turns "lost", and how an
  event the file system never sent (NFS without ``--poll``) still shows up eventually.
  Builds on events rescan only the project folders the events named (``events=True``); the
  tick scans everything, and waits ``TICK_SHARE`` times as long as its last build took when
  that is longer than ``tick`` (a scan of 100,000 run folders takes seconds).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from runpages.sitegen.livereload import LiveState

IGNORED_EVENTS = {"opened", "closed_no_write"}   # reads (our own build) change nothing
TICK_SHARE = 10         # the idle tick waits at least 10x as long as its last build took


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class WatchTargets:
    """What to watch for a config, and what an event path means (``classify``)."""

    def __init__(self, runs_dirs: Iterable, output, reports_dir=None, theme=None,
                 config_files: Iterable = ()):
        real = lambda p: os.path.realpath(os.fspath(p))
        self.runs_dirs = [real(d) for d in runs_dirs]
        self.output = real(output)
        themes = list(theme) if isinstance(theme, (list, tuple)) else [theme]
        self.site_dirs = [real(d) for d in [reports_dir, *themes] if d]
        self.config_files = {real(f) for f in config_files}

    @classmethod
    def for_config(cls, config) -> WatchTargets:
        from runpages.sitegen.config import CONFIG_NAME

        reports = None
        try:
            from runpages.sitegen.config import reports_dir

            reports = reports_dir(config)
        except Exception:  # noqa: BLE001 - reports are optional: watch without them
            reports = getattr(config, "reports_dir", None)
        dirs = [Path(d) for d in config.runs_dirs]
        candidates = [Path.cwd() / CONFIG_NAME]
        if dirs:
            first = dirs[0].absolute()
            candidates += [first.parent / CONFIG_NAME, first / CONFIG_NAME]
        if getattr(config, "source", None):
            candidates.append(Path(config.source))
        from runpages.sitegen.render import _theme_dirs

        # The user's theme and the default one: editing either redraws every page.
        return cls(dirs, config.output, reports, _theme_dirs(getattr(config, "theme", None)), candidates)

    def schedule(self) -> list[tuple[str, bool]]:
        """``[(folder, recursive)]`` that exist; a config file is watched through its folder."""
        out: dict[str, bool] = {}
        for d in self.runs_dirs + self.site_dirs:
            if os.path.isdir(d):
                out[d] = True
        for f in self.config_files:
            parent = os.path.dirname(f)
            if os.path.isdir(parent) and not any(_under(parent, d) for d, rec in out.items() if rec):
                out.setdefault(parent, False)
        return sorted(out.items())

    def classify(self, path: str) -> tuple[str, str] | None:
        """``("run", run folder)``, ``("site", path)``, ``("config", path)`` or None (ignore)."""
        if not path:
            return None
        path = os.path.abspath(path)
        if _under(path, self.output):
            return None
        if path in self.config_files:
            return ("config", path)
        for d in self.site_dirs:
            if _under(path, d):
                return ("site", path)
        for d in self.runs_dirs:
            if _under(path, d):
                parts = os.path.relpath(path, d).split(os.sep)
                if len(parts) >= 2 and not parts[0].startswith(".") and not parts[1].startswith("."):
                    return ("run", os.path.join(d, parts[0], parts[1]))
                return ("site", path)        # a project folder, .checks records, ...
        return None


def make_observer(targets: WatchTargets, notify: Callable[[str, str], None], poll: float | None = None):
    """A started watchdog observer (inotify & co., or ``PollingObserver`` every ``poll`` s)."""
    from watchdog.events import FileSystemEventHandler

    from runpages.sitegen.errors import SiteError

    class _Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in IGNORED_EVENTS:
                return
            for p in (event.src_path, getattr(event, "dest_path", "")):
                hit = targets.classify(os.fsdecode(p)) if p else None
                if hit:
                    notify(*hit)

    if poll:
        from watchdog.observers.polling import PollingObserver

        observer = PollingObserver(timeout=float(poll))
    else:
        from watchdog.observers import Observer

        observer = Observer()
    handler = _Handler()
    observer.daemon = True
    try:
        for folder, recursive in targets.schedule():
            observer.schedule(handler, folder, recursive=recursive)
        observer.start()
    except OSError as err:
        raise SiteError(f"cannot watch for file changes ({err.strerror or err}); "
                        f"try --poll 1 (polling works everywhere, at some CPU cost)") from None
    return observer


def describe_failure(err: BaseException) -> str:
    """One line for the log and the banner: ``file:line: reason`` where the error knows them."""
    from runpages.sitegen.errors import SiteError

    if isinstance(err, SiteError):
        return str(err)
    filename = getattr(err, "filename", None)
    lineno = getattr(err, "lineno", None)
    msg = getattr(err, "message", None) or str(err) or type(err).__name__
    if filename and lineno:                      # jinja2 TemplateSyntaxError, tomllib, ...
        return f"{filename}:{lineno}: {msg}"
    frames = traceback.extract_tb(err.__traceback__)
    if frames:
        last = frames[-1]
        return f"{last.filename}:{last.lineno}: {type(err).__name__}: {msg}"
    return f"{type(err).__name__}: {msg}"


class Rebuilder:
    """The builder thread: waits for events, coalesces them, rebuilds, publishes an epoch."""

    def __init__(self, config, live: LiveState, *, load_config: Callable[[], object] | None = None,
                 build: Callable | None = None, quiet: float = 0.1, max_wait: float = 0.3,
                 tick: float = 5.0, log: Callable[[str], None] | None = None,
                 on_config: Callable[[object], None] | None = None):
        if build is None:
            from runpages.sitegen.build import build_site as build
        self.config = config
        self.live = live
        self.load_config = load_config
        self.on_config = on_config
        self._build = build
        self.quiet, self.max_wait, self.tick = quiet, max_wait, tick
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._runs: set[str] = set()
        self._site = False
        self._config = False
        self._first = 0.0
        self._last = 0.0
        self._pending = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._problems: list[str] = []
        self._quiet_log_until = 0.0
        self._folded = 0
        self.builds = 0                # how many builds ran (tests, benchmark)
        self.last_seconds = 0.0        # how long the last build took

    # ---- called from watchdog threads: record only ----------------------------------------
    def notify(self, kind: str, path: str) -> None:
        now = time.monotonic()
        with self._lock:
            if kind == "run":
                self._runs.add(path)
            elif kind == "config":
                self._config = True
            else:
                self._site = True
            if not self._pending.is_set():
                self._first = now
            self._last = now
            self._pending.set()

    # ---- the builder thread ------------------------------------------------------------------
    def start(self) -> Rebuilder:
        self._thread = threading.Thread(target=self._loop, name="runpages-builder", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._pending.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        wait = self.tick
        while not self._stop.is_set():
            ticked = not self._pending.wait(wait)
            if not ticked:
                self._settle()
            if self._stop.is_set():
                break
            with self._lock:
                runs, site, config = self._runs, self._site, self._config
                self._runs, self._site, self._config = set(), False, False
                self._pending.clear()
            t0 = time.monotonic()
            self.rebuild(runs, config_changed=config, forced=bool(runs or site or config))
            if ticked:
                # A tick scans every run folder: where that takes long (a team-year of runs),
                # tick less often, so an idle server spends at most 1/TICK_SHARE of a core on it.
                wait = max(self.tick, TICK_SHARE * (time.monotonic() - t0))

    def _settle(self) -> None:
        """Wait for ``quiet`` s without events, at most ``max_wait`` s after the first one."""
        while not self._stop.is_set():
            with self._lock:
                first, last = self._first, self._last
            now = time.monotonic()
            left = min(last + self.quiet - now, first + self.max_wait - now)
            if left <= 0:
                return
            self._stop.wait(left)

    def rebuild(self, runs: set[str] = frozenset(), config_changed: bool = False,
                forced: bool = True) -> set[str] | None:
        """One build; returns the site paths it changed, or None when it failed."""
        t0 = time.perf_counter()
        try:
            if config_changed and self.load_config is not None:
                config = self.load_config()
                if self.on_config is not None:
                    self.on_config(config)
                self.config = config
            # File events named these run folders: only their projects' folders are scanned
            # again; the tick (no events) scans everything, for an event never sent.
            result = self._build(self.config, changed=set(runs) or None, **({"events": True} if runs else {}))
        except Exception as err:  # noqa: BLE001 - keep serving the last good site
            from runpages.sitegen.errors import SiteError

            message = describe_failure(err)
            self._log(f"runpages: rebuild failed: {message}\n  (still serving the last good site; "
                      f"fix it and save: the next build picks it up)")
            if not isinstance(err, SiteError):
                self._log("".join(traceback.format_exception(type(err), err, err.__traceback__)).rstrip())
            self.live.fail(message)
            return None
        finally:
            self.builds += 1
            self.last_seconds = time.perf_counter() - t0
        changed = set(getattr(result, "changed", ()))   # the build names every path it wrote or removed
        self._report(result, changed, forced)
        self.live.publish(changed, self.last_seconds)
        return changed

    def _report(self, result, changed: set[str], forced: bool) -> None:
        problems = []
        try:
            from runpages.sitegen.reader import summarize_problems

            problems = list(summarize_problems(result.problems))
        except Exception:  # noqa: BLE001 - a summary is a courtesy
            pass
        if problems != self._problems:
            for line in problems:
                if line not in self._problems:
                    self._log(f"runpages: warning: {line}")
            self._problems = problems
        if not changed and not forced:
            return
        now = time.monotonic()
        if now < self._quiet_log_until:       # a burst: one line every few seconds, with a count
            self._folded += 1
            return
        more = f" (+{self._folded} more rebuilds)" if self._folded else ""
        self._folded = 0
        self._quiet_log_until = now + 3.0
        pages = sum(1 for p in changed if p.endswith(".html"))
        self._log(f"rebuilt in {self.last_seconds * 1000:.0f} ms: {getattr(result, 'rebuilt_runs', 0)} "
                  f"run(s), {pages} page(s), {len(changed)} file(s) changed{more}")


def watch_site(config, live: LiveState, *, load_config: Callable[[], object] | None = None,
               poll: float | None = None, **rebuilder_kw) -> tuple[Rebuilder, Callable[[], None]]:
    """Start the observer and the builder thread for a built site; returns (rebuilder, stop).

    A new ``runpages.toml`` (or theme, reports folder) may move what is watched: the observer
    is rescheduled after each config reload that changes the targets.
    """
    state = {"targets": WatchTargets.for_config(config), "observer": None}
    rebuilder: Rebuilder

    def on_config(new_config) -> None:
        targets = WatchTargets.for_config(new_config)
        if targets.schedule() != state["targets"].schedule():
            old = state["observer"]
            state["targets"] = targets
            state["observer"] = make_observer(targets, rebuilder.notify, poll)
            old.stop()

    rebuilder = Rebuilder(config, live, load_config=load_config, on_config=on_config, **rebuilder_kw)
    state["observer"] = make_observer(state["targets"], rebuilder.notify, poll)
    rebuilder.start()

    def stop() -> None:
        rebuilder.stop()
        obs = state["observer"]
        obs.stop()
        obs.join(2.0)

    return rebuilder, stop
