"""Run and Project: what the pages show, built from what the reader read. No I/O here.

Invariants: a Run's ``metrics`` frame has one row per step, sorted by ``_step``, numeric
columns as float64 (NaN/inf kept; ``_step`` int64), string-valued keys in ``text_keys`` and not in numeric
columns; ``status`` is already resolved (``lost`` for a stale heartbeat).
A NaN in the frame means "not logged at this step" unless the step is in ``nan_steps[key]``
(the key was logged as NaN there); ``series(key)`` gives exactly what was logged.
Everything a user wrote (names, keys, values) is kept verbatim: escaping is the pages' job.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from runpages import schema
from runpages.sitegen.lazyframe import LazyFrame

STEP = schema.STEP_KEY
TIME = schema.TIME_KEY
_INDEX_KEYS = (STEP, TIME)

# Words that mean "lower is better" when they appear as a part of a metric name.
_LOWER_IS_BETTER = ("loss", "err", "error", "perplexity", "ppl", "mse", "mae", "rmse",
                    "wer", "cer", "nll", "bpc", "bpb", "fid", "regret", "cost")
# Words that say higher is better; a name with neither list's word has no preferred direction.
_HIGHER_IS_BETTER = ("acc", "accuracy", "f1", "auc", "precision", "recall", "bleu", "rouge", "score",
                     "reward", "return", "map", "iou", "dice", "r2", "top1", "top5")
# The browser builds the same pattern from the same words (sitegen/chart_rules.py hands them over).
DIRECTION_PATTERN = r"(?:^|[^a-z])({words})"
_LOWER_RE = re.compile(DIRECTION_PATTERN.format(words="|".join(_LOWER_IS_BETTER)), re.IGNORECASE)
_HIGHER_RE = re.compile(DIRECTION_PATTERN.format(words="|".join(_HIGHER_IS_BETTER)), re.IGNORECASE)

# Summary keys a person most likely means by "how good is this run", in order of preference.
_MAIN_METRIC_PREFERENCE = (
    "val/acc", "val/accuracy", "eval/accuracy", "eval/acc", "valid/acc", "valid/accuracy",
    "validation/accuracy", "test/acc", "test/accuracy", "val_acc", "val_accuracy", "accuracy",
    "val/loss", "eval/loss", "valid/loss", "validation/loss", "val_loss", "test/loss",
)


def metric_direction(key: str) -> str:
    """``"min"`` when a smaller value is better (loss, error rates, perplexity), else ``"max"``.

    A guess from the name only: any "/"- or "_"-separated part starting with loss/err/ppl/...
    (``train/loss``, ``val_error``, ``eval/wer``) counts as lower-is-better.
    """
    return "min" if _LOWER_RE.search(key) else "max"


def metric_preference(key: str) -> str | None:
    """``metric_direction`` where the name says so, else None (epoch, lr: neither is better).

    Used where better/worse is shown in colour (compare page deltas): no colour without a word.
    """
    if _LOWER_RE.search(key):
        return "min"
    return "max" if _HIGHER_RE.search(key) else None


def direction_words() -> dict[str, list[str]]:
    """The word lists of the direction rule, for the browser's twin."""
    return {"lower": list(_LOWER_IS_BETTER), "higher": list(_HIGHER_IS_BETTER)}


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to one level with ``/`` joining the keys; other values kept as they are."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def _finite_or_none(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, text, NaN, true/false)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def nonfinite_counts(steps: np.ndarray, values: np.ndarray) -> dict[str, tuple[int, int]]:
    """``{"NaN"|"inf"|"-inf": (how many steps, first step)}`` of a logged series (``Run.series``);
    kinds it never logged are left out, so an all-finite series gives ``{}``."""
    if np.isfinite(values).all():
        return {}
    out = {}
    for kind, hit in (("NaN", np.isnan(values)), ("inf", values == np.inf),
                      ("-inf", values == -np.inf)):
        n = int(np.count_nonzero(hit))
        if n:
            out[kind] = (n, int(steps[np.argmax(hit)]))
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


@dataclass
class Artifact:
    name: str
    type: str
    path: str                # relative to the run's artifacts/ folder
    bytes: int
    sha256: str
    files: int = 1
    step: int | None = None
    time: float | None = None


@dataclass
class Run:
    id: str                                     # the run folder's name (path-safe, unique)
    project: str                                # meta.project as typed, else the folder's name
    name: str                                   # meta.name, else the id
    dir: str                                    # absolute path of the run folder
    meta: dict[str, Any]
    config: dict[str, Any]                      # flattened with "/" for tables
    summary: dict[str, Any]
    metrics: pd.DataFrame                       # _step, _time, numeric keys
    system: pd.DataFrame                        # _time, system keys
    text_keys: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # key -> (step, text)
    # key -> sorted int64 steps where the key was logged as NaN (not merely absent)
    nan_steps: dict[str, np.ndarray] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    status: str = "running"
    source: str = ""                            # which runs dir it came from
    fingerprint: str = ""                       # changes whenever any of the run's files changed
    problem_count: int = 0                      # Problems the reader found in this run's files
    files: dict[str, int] = field(default_factory=dict)  # file name (relative) -> bytes, existing ones
    media: list = field(default_factory=list)   # sitegen.media.MediaItem, in media.jsonl order
    reproduce: dict = field(default_factory=dict)  # code/reproduce.json, checked (sitegen.media)
    # A run read in chunks (sitegen/longread.py): metrics holds its overview; this holds point
    # and non-finite counts of every step and the zoom levels written for it. None otherwise.
    zoom: dict | None = None

    # meta.json is user-side data: these accessors give the documented types whatever it holds.
    @property
    def user(self) -> str: return _text(self.meta.get("user"))
    @property
    def host(self) -> str: return _text(self.meta.get("host"))
    @property
    def group(self) -> str: return _text(self.meta.get("group"))
    @property
    def tags(self) -> list[str]:
        tags = self.meta.get("tags")
        if isinstance(tags, str):
            return [tags] if tags else []
        return [_text(t) for t in tags] if isinstance(tags, list) else []
    @property
    def started_at(self) -> float | None: return _finite_or_none(self.meta.get("started_at"))
    @property
    def ended_at(self) -> float | None: return _finite_or_none(self.meta.get("ended_at"))

    # ---- derived values -------------------------------------------------------------------
    @property
    def key(self) -> str:
        """``<project>/<run-id>``: unique across merged run folders."""
        return f"{self.project}/{self.id}"

    @property
    def notes(self) -> str: return _text(self.meta.get("notes"))

    @property
    def command(self) -> list[str]:
        cmd = self.meta.get("command") or []
        return [str(c) for c in cmd] if isinstance(cmd, list) else [str(cmd)]

    @property
    def heartbeat_at(self) -> float | None: return _finite_or_none(self.meta.get("heartbeat_at"))

    def frame_facts(self, name: str):
        """``lazyframe.FrameFacts`` of ``metrics`` / ``system`` while that frame is not read
        yet (a run the build does not render); None once it is in memory."""
        value = self.__dict__.get("_" + name)
        return value.facts if isinstance(value, LazyFrame) else None

    def release_frames(self) -> None:
        """Let go of the frames read from disk on first use (they are read again when asked):
        a build keeps no run's points once its pages are written."""
        for name in ("_metrics", "_system"):
            lazy = self.__dict__.pop("_lazy" + name, None)
            if lazy is not None:
                self.__dict__[name] = lazy

    @property
    def last_record_at(self) -> float | None:
        """The newest ``_time`` in metrics or system samples (None when nothing was logged)."""
        best = None
        for name in ("metrics", "system"):
            facts = self.frame_facts(name)
            if facts is not None:
                if facts.time_max is not None and (best is None or facts.time_max > best):
                    best = facts.time_max
                continue
            frame = getattr(self, name)
            if TIME in frame.columns and len(frame):
                values = frame[TIME].to_numpy()
                values = values[np.isfinite(values)]
                if len(values) and (best is None or values.max() > best):
                    best = float(values.max())
        return best

    @property
    def last_activity(self) -> float | None:
        """The last moment this run did something: end, heartbeat, or newest record."""
        times = [_finite_or_none(t) for t in (self.ended_at, self.heartbeat_at,
                                              self.last_record_at, self.started_at)]
        times = [t for t in times if t is not None and not math.isnan(t)]
        return max(times) if times else None

    @property
    def duration_s(self) -> float | None:
        """ended_at - started_at; for a run without an end, up to its last heartbeat/record."""
        start = _finite_or_none(self.started_at)
        end = _finite_or_none(self.ended_at)
        if start is not None and end is not None:
            return max(0.0, end - start)
        if start is not None:
            last = self.last_activity
            return max(0.0, last - start) if last is not None else None
        return _finite_or_none(self.meta.get("duration_s"))

    @property
    def steps(self) -> int:
        """Number of logged steps (rows of ``metrics``; of the whole file for a long run)."""
        if self.zoom is not None:
            return int(self.zoom.get("rows", len(self.metrics)))
        facts = self.frame_facts("metrics")
        return facts.rows if facts is not None else len(self.metrics)

    @property
    def last_step(self) -> int | None:
        facts = self.frame_facts("metrics")
        if facts is not None:
            return int(facts.last_index) if STEP in facts.columns and facts.rows else None
        if STEP not in self.metrics.columns or not len(self.metrics):
            return None
        return int(self.metrics[STEP].iloc[-1])

    @property
    def metric_keys(self) -> list[str]:
        """Numeric metric names in the order they first appeared (no ``_step``/``_time``)."""
        facts = self.frame_facts("metrics")
        return [c for c in (facts.columns if facts is not None else self.metrics.columns)
                if c not in _INDEX_KEYS]

    @property
    def system_keys(self) -> list[str]:
        facts = self.frame_facts("system")
        return [c for c in (facts.columns if facts is not None else self.system.columns)
                if c not in _INDEX_KEYS]

    def logged_mask(self, key: str) -> np.ndarray | None:
        """Per row of ``metrics``: True where ``key`` was logged (a number, ±inf or NaN);
        None when the run has no such numeric metric."""
        if key not in self.metrics.columns or key in _INDEX_KEYS:
            return None
        mask = ~np.isnan(self.metrics[key].to_numpy(dtype=np.float64, na_value=np.nan))
        at = self.nan_steps.get(key)
        if at is not None and len(at):
            mask |= np.isin(self.metrics[STEP].to_numpy(), at)
        return mask

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of every step at which ``key`` was logged, NaN where it was
        logged as NaN; empty arrays when never logged."""
        mask = self.logged_mask(key)
        if mask is None:
            return np.empty(0, np.int64), np.empty(0)
        return (self.metrics[STEP].to_numpy()[mask],
                self.metrics[key].to_numpy(dtype=np.float64, na_value=np.nan)[mask])

    def nonfinite_counts(self, key: str) -> dict[str, tuple[int, int]]:
        """``nonfinite_counts`` of what ``key`` logged (every step, also for a long run)."""
        if self.zoom is not None:
            return {kind: (int(n), int(first)) for kind, (n, first) in
                    (self.zoom.get("nonfinite") or {}).get(key, {}).items()}
        return nonfinite_counts(*self.series(key))

    def _logged(self, key: str):
        """The non-NaN values of a numeric metric; None if it never logged a number."""
        if key not in self.metrics.columns or key in _INDEX_KEYS:
            return None
        values = self.metrics[key].dropna()
        return values if len(values) else None

    def last_value(self, key: str) -> float | None:
        """The value ``key`` logged last: NaN when that was a NaN (inf counts as a value);
        None if never logged."""
        steps, values = self.series(key)
        return float(values[-1]) if len(values) else None

    def best_value(self, key: str) -> float | None:
        """The best value by ``metric_direction(key)``, NaN ignored; None if never logged."""
        values = self._logged(key)
        if values is None:
            return None
        return float(values.min() if metric_direction(key) == "min" else values.max())

    def best_step(self, key: str) -> int | None:
        """The step at which ``best_value(key)`` was reached."""
        values = self._logged(key)
        if values is None:
            return None
        idx = values.idxmin() if metric_direction(key) == "min" else values.idxmax()
        return int(self.metrics.at[idx, STEP]) if STEP in self.metrics.columns else None

    @property
    def git(self) -> dict[str, Any]:
        git = self.meta.get("git")
        return git if isinstance(git, dict) else {}

    @property
    def git_short(self) -> str:
        """7-char commit, ``*`` appended when the work tree was dirty; "" without git."""
        commit = str(self.git.get("commit") or "")
        if not commit:
            return ""
        return commit[:7] + ("*" if self.git.get("dirty") else "")

    @property
    def summary_keys(self) -> list[str]:
        return list(self.summary)


def _frame_property(name: str) -> property:
    """``Run.metrics`` / ``Run.system``: a DataFrame, read from disk on first use when the
    reader left a ``LazyFrame`` (the run was unchanged since the last build)."""
    slot = "_" + name

    def get(self):
        value = self.__dict__[slot]
        if isinstance(value, LazyFrame):
            self.__dict__["_lazy" + slot] = value       # so release_frames can put it back
            value = self.__dict__[slot] = value.load()
        return value

    def set(self, value):
        self.__dict__[slot] = value
        self.__dict__.pop("_lazy" + slot, None)

    return property(get, set, doc=f"the run's {name} frame (read on first use)")


Run.metrics = _frame_property("metrics")
Run.system = _frame_property("system")


@dataclass
class Project:
    name: str
    runs: list[Run]
    configured_metric: str | None = None        # from SiteConfig; wins over the guess

    @property
    def users(self) -> list[str]:
        """Users with runs here, most runs first, then by name."""
        counts: dict[str, int] = {}
        for run in self.runs:
            if run.user:
                counts[run.user] = counts.get(run.user, 0) + 1
        return sorted(counts, key=lambda u: (-counts[u], u))

    @property
    def last_activity(self) -> float | None:
        times = [t for t in (r.last_activity for r in self.runs) if t is not None]
        return max(times) if times else None

    @property
    def config_keys(self) -> list[str]:
        """Union of flattened config keys, in first-seen order walking runs oldest first
        (so a new run adds columns at the end instead of reshuffling them)."""
        return _union_keys(r.config for r in reversed(self.runs))

    @property
    def summary_keys(self) -> list[str]:
        return _union_keys(r.summary for r in reversed(self.runs))

    @property
    def metric_keys(self) -> list[str]:
        return _union_keys(r.metric_keys for r in reversed(self.runs))

    @property
    def main_metric(self) -> str | None:
        """The configured metric, else a guess: val/acc-like keys, then val/loss-like, then the
        first numeric summary key."""
        if self.configured_metric:
            return self.configured_metric
        return guess_main_metric(self.runs)

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return counts


def _union_keys(key_lists: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for keys in key_lists:
        for key in keys:
            seen.setdefault(key, None)
    return list(seen)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def guess_main_metric(runs: list[Run]) -> str | None:
    keys = _union_keys(r.summary for r in reversed(runs))
    numeric = [k for k in keys if not k.startswith("_")
               and any(_is_number(r.summary.get(k)) for r in runs)]
    lowered = {k.lower(): k for k in numeric}
    for preferred in _MAIN_METRIC_PREFERENCE:
        if preferred in lowered:
            return lowered[preferred]
    return numeric[0] if numeric else None


def apply_main_metrics(projects: Iterable[Project], per_project: Mapping[str, str],
                       default: str | None = None) -> None:
    """Set ``configured_metric`` from settings: the project's entry, else the default when
    that project has that key (a default that a project never logged would show nothing)."""
    for project in projects:
        chosen = per_project.get(project.name)
        if not chosen and default and (default in project.summary_keys
                                       or default in project.metric_keys):
            chosen = default
        project.configured_metric = chosen or None
