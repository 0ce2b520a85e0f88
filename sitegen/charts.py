"""Plot data for the browser: the only module that prepares chart data.

Charts are drawn in the browser by ``themes/default/static/charts.js`` with BokehJS's plotting
API, from per-run data scripts, so any set of runs can be overlaid (compare page) and the site
works from ``file://`` (``fetch`` is blocked there; ``<script src>`` is not).

Files written (paths from the build's SiteMap):

``data/runs/<project>/<run-id>.js``
    ``RunpagesData.add({...});`` with the run header, config, summary, and every numeric metric
    downsampled to at most ``MAX_POINTS`` points by min/max per bucket (spikes survive;
    non-finite values keep a point at their position so the chart shows a gap or a mark).
``data/projects/<project>.js``
    ``RunpagesData.addProject({...});`` with every run's header, config and summary and
    low-resolution series (at most ``PROJECT_MAX_POINTS`` per series, fewer for very large
    projects so the page stays light).

On disk the payload is compact: a metric series is ``{"step": ..., "y": ...}`` and its wall
times come from the run-wide ``"steps": {"step": ..., "t": ...}`` map, times relative to
``"t0"``; a system series is ``{"t": ..., "y": ...}``. The arrays are packed
(``sitegen.packed``: values as float32, times as float64, NaN/±inf kept; steps as int32 or,
evenly spaced, ``{"a","d","n"}``). ``RunpagesData.add`` unpacks and expands them to absolute
``time`` arrays in the browser, so scripts see the documented shape. A NaN/Infinity elsewhere
is written as the JavaScript literal; every string goes through ``json.dumps`` with ``<``,
``>``, ``&`` and line separators escaped, so user text cannot end the script or the statement.
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable

import numpy as np

from runpages.sitegen import packed
from runpages.sitegen.model import nonfinite_counts

MAX_POINTS = 2000
PROJECT_MAX_POINTS = 200
PROJECT_POINT_BUDGET = 200_000   # all series of one project together; keeps 1,000-run pages light
PROJECT_MIN_POINTS = 24

# ---------------------------------------------------------------------------------------------
# Downsampling

def downsample_indices(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of ``y`` to keep: at most ``max_points``, spikes and non-finite values kept.

    Min and max of each bucket are kept (so a one-step spike is never averaged away), plus the
    first non-finite value of each bucket (so NaN/inf still show as a gap or mark), plus the
    first and last points. Order is preserved.
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    finite = np.isfinite(y)
    has_nonfinite = not finite.all()
    per_bucket = 3 if has_nonfinite else 2
    buckets = max(1, (max_points - 2) // per_bucket)
    k = -(-n // buckets)                      # bucket width (ceil)
    buckets = -(-n // k)
    pad = buckets * k - n
    lo = np.where(finite, y, np.inf)
    hi = np.where(finite, y, -np.inf)
    if pad:
        lo = np.concatenate([lo, np.full(pad, np.inf)])
        hi = np.concatenate([hi, np.full(pad, -np.inf)])
    base = np.arange(buckets) * k
    keep = [base + lo.reshape(buckets, k).argmin(axis=1), base + hi.reshape(buckets, k).argmax(axis=1)]
    if has_nonfinite:
        nf = ~finite
        if pad:
            nf = np.concatenate([nf, np.zeros(pad, dtype=bool)])
        nf = nf.reshape(buckets, k)
        rows = nf.any(axis=1)
        keep.append((base + nf.argmax(axis=1))[rows])
    keep.append(np.array([0, n - 1]))
    idx = np.unique(np.concatenate(keep))
    return idx[idx < n]


# ---------------------------------------------------------------------------------------------
# JavaScript serialisation

class _Raw(str):
    """Already-serialised JavaScript (number arrays); emitted as is."""


_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def js_string(s: str) -> str:
    out = json.dumps(str(s), ensure_ascii=False)
    for a, b in _JS_ESCAPES.items():
        if a in out:
            out = out.replace(a, b)
    return out


def js_json(obj: Any) -> str:
    """Strict JSON (no NaN) as a JavaScript expression, escaped like ``js_string``: for large
    payloads of strings and lists, where ``to_js``'s per-value walk costs too much."""
    out = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for a, b in _JS_ESCAPES.items():
        if a in out:
            out = out.replace(a, b)
    return out


def _nonfinite(v: float) -> str:
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def num_array(a: Iterable[float]) -> _Raw:
    """Float values, packed (``sitegen.packed``): exact, NaN/±inf kept (times)."""
    return _Raw(packed.floats(np.asarray(a, dtype=np.float64)))


def value_array(a: Iterable[float]) -> _Raw:
    """Values to draw, packed (``sitegen.packed.values``: float32 where it holds them)."""
    return _Raw(packed.values(a))


def int_array(a: Iterable[int]) -> _Raw:
    """Steps, packed (``sitegen.packed.steps``): ``{"a","d","n"}`` when evenly spaced, else int32
    where they fit."""
    return _Raw(packed.steps(np.asarray(a)))


def to_js(obj: Any) -> str:
    """JSON-like JavaScript: NaN/Infinity literals allowed, strings escaped for any context."""
    if isinstance(obj, _Raw):
        return str(obj)
    if isinstance(obj, str):
        return js_string(obj)
    if obj is None or isinstance(obj, bool):
        return json.dumps(obj)
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return repr(v) if math.isfinite(v) else _nonfinite(v)
    if isinstance(obj, dict):
        return "{" + ",".join(js_string(k) + ":" + to_js(v) for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple, set, np.ndarray)):
        return "[" + ",".join(to_js(v) for v in obj) + "]"
    if hasattr(obj, "item"):            # numpy/pandas scalars
        try:
            return to_js(obj.item())
        except (TypeError, ValueError):
            pass
    return js_string(str(obj))


def plain_js(obj: Any) -> _Raw:
    """``to_js(obj)`` for data with no packed arrays in it (a config, a summary), in one
    ``json.dumps`` when it holds nothing JSON lacks (NaN, numpy scalars): the same text."""
    try:
        return _Raw(js_json(obj))
    except (ValueError, TypeError):
        return _Raw(to_js(obj))


def data_script(function: str, payload: dict) -> str:
    """``RunpagesData.add({...});`` as the text of a .js file."""
    return f"RunpagesData.{function}({to_js(payload)});\n"


# ---------------------------------------------------------------------------------------------
# Payloads

def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return v                          # written as NaN/Infinity literals
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        try:
            return v.item()
        except (TypeError, ValueError):
            return str(v)
    return v


def run_header(run, site) -> dict:
    """Fields shared by run, project and compare payloads."""
    git = run.meta.get("git") or {}
    if not isinstance(git, dict):
        git = {}
    commit = str(git.get("commit") or "")
    started = run.started_at
    return {
        "key": site.key(run),
        "id": run.id,
        "project": run.project,
        "name": run.name or run.id,
        "user": run.user,
        "host": run.host,
        "status": run.status,
        "group": run.group,
        "tags": [str(t) for t in run.tags],
        "started_at": started,
        "ended_at": run.ended_at,
        "duration_s": getattr(run, "duration_s", None),
        "git": {"commit": commit[:8], "dirty": bool(git.get("dirty")), "branch": str(git.get("branch") or "")},
        "url": site.run_url(run),
        "color": site.color(run),        # sitegen/colors.py: the same on every page
        "media": bool(getattr(run, "media", None)),   # it has a data/media/<key>.js (compare loads it)
    }


def _t0(run) -> float:
    t0 = run.started_at
    if isinstance(t0, (int, float)) and math.isfinite(t0):
        return float(t0)
    frame = run.metrics
    if len(frame) and "_time" in frame:
        v = float(frame["_time"].iloc[0])
        if math.isfinite(v):
            return v
    return 0.0


def metric_columns(run) -> list[tuple[str, np.ndarray, np.ndarray, dict]]:
    """Every numeric metric's logged points as ``(key, steps, values, nonfinite counts)``, before
    downsampling: what ``metric_series`` draws from, taken once for a run's page and its
    project entry.

    Rows where a key was not logged are dropped (a metric logged every 100 steps is one line,
    not dots); a logged NaN (``run.nan_steps``) and logged ±inf are kept at their steps, so the
    browser draws a gap and a mark there. The counts are ``{"NaN"|"inf"|"-inf": [steps, first
    step]}`` over every step (a long run counted them while it was read), for the note under
    the chart ("12 NaN steps from step 300").
    """
    frame = run.metrics
    out: list[tuple[str, np.ndarray, np.ndarray, dict]] = []
    if frame is None or not len(frame) or "_step" not in frame:
        return out
    steps = frame["_step"].to_numpy()
    nan_steps = getattr(run, "nan_steps", None) or {}
    long = bool(getattr(run, "zoom", None))
    for key, dtype in zip(frame.columns, frame.dtypes):
        if key.startswith("_") or dtype.kind not in "fiub":
            continue
        y = frame[key].to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(y)
        if key in nan_steps and len(nan_steps[key]):
            present |= np.isin(steps, nan_steps[key])
        if not present.any():
            continue
        s, y = steps[present], y[present]
        out.append((key, s, y, run.nonfinite_counts(key) if long else nonfinite_counts(s, y)))
    return out


def metric_series(run, max_points: int = MAX_POINTS, columns: list | None = None) -> dict[str, dict]:
    """Downsampled ``{key: {"step": _Raw, "y": _Raw}}`` for every numeric metric, plus
    ``"nonfinite"`` counts where it has non-finite values (``metric_columns``, which
    ``columns`` is when the caller took it already)."""
    out: dict[str, dict] = {}
    for key, s, y, counts in (metric_columns(run) if columns is None else columns):
        idx = downsample_indices(y, max_points)
        out[key] = {"step": int_array(s[idx]), "y": value_array(y[idx])}
        if counts:
            out[key]["nonfinite"] = counts
    return out


def step_map(run, t0: float, max_points: int = MAX_POINTS) -> dict:
    """``{"step": [...], "t": [...]}``: wall time (relative to ``t0``) at ≤ max_points steps."""
    frame = run.metrics
    if frame is None or not len(frame) or "_time" not in frame or "_step" not in frame:
        return {"step": _Raw("[]"), "t": _Raw("[]")}
    t = frame["_time"].to_numpy(dtype=np.float64, na_value=np.nan) - t0
    s = frame["_step"].to_numpy()
    ok = np.isfinite(t)
    t, s = t[ok], s[ok]
    n = len(t)
    if n > max_points:
        idx = np.unique(np.linspace(0, n - 1, max_points).astype(np.int64))
        t, s = t[idx], s[idx]
    return {"step": int_array(s), "t": num_array(t)}


def system_series(run, t0: float, max_points: int = MAX_POINTS) -> dict[str, dict]:
    frame = run.system
    out: dict[str, dict] = {}
    if frame is None or not len(frame) or "_time" not in frame:
        return out
    t = frame["_time"].to_numpy(dtype=np.float64, na_value=np.nan) - t0
    for key, dtype in zip(frame.columns, frame.dtypes):
        if key.startswith("_") or dtype.kind not in "fiub":
            continue
        y = frame[key].to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(y) & np.isfinite(t)
        if not present.any():
            continue
        tt, yy = t[present], y[present]
        idx = downsample_indices(yy, max_points)
        out[key] = {"t": num_array(tt[idx]), "y": value_array(yy[idx])}
    return out


def _dict(d: Any) -> dict:
    return {str(k): _jsonable(v) for k, v in (d or {}).items()} if isinstance(d, dict) else {}


def run_payload(run, site, columns: list | None = None) -> dict:
    """Everything the run page and the compare page need to draw one run (``columns``: its
    ``metric_columns``, when the caller took them)."""
    payload = project_run_entry(run, site, MAX_POINTS, columns)
    payload["system"] = system_series(run, payload["t0"])
    zoom = zoom_payload(run, site)
    if zoom:
        payload["zoom"] = zoom
    return payload


def zoom_payload(run, site) -> dict | None:
    """Where the run page finds the finer levels of a long run (``sitegen.zoom_levels``):
    ``{"base": "data/runs/<key>/z/", "unit", "levels": [{"level", "width", "span", "ranges"}]}``;
    None for a run without levels."""
    zoom = getattr(run, "zoom", None)
    if not zoom or not zoom.get("levels"):
        return None
    return {"base": zoom_base(run, site), "unit": int(zoom.get("unit") or 1),
            "levels": [{"level": int(lv["level"]), "width": int(lv["width"]), "span": int(lv["span"]),
                        "ranges": [[int(a), int(b)] for a, b in lv.get("ranges") or []]}
                       for lv in zoom["levels"]]}


def zoom_base(run, site) -> str:
    """The site folder of a run's level tiles: next to its data script."""
    return site.run_data(run)[:-len(".js")] + "/z/"


def run_script(run, site, columns: list | None = None) -> str:
    return data_script("add", run_payload(run, site, columns))


def project_points(n_series: int) -> int:
    """Points per series in a project overlay: 200, fewer when a project has very many series."""
    if n_series <= 0:
        return PROJECT_MAX_POINTS
    return int(max(PROJECT_MIN_POINTS, min(PROJECT_MAX_POINTS, PROJECT_POINT_BUDGET // n_series)))


def project_run_entry(run, site, max_points: int, columns: list | None = None) -> dict:
    """One run inside a project payload: header, config, summary, series at ``max_points``
    (``run_payload`` is this at full resolution, plus system series)."""
    t0 = _t0(run)
    entry = run_header(run, site)
    entry.update(
        t0=t0,
        config=plain_js(_dict(run.config)),
        summary=plain_js(_dict(run.summary)),
        steps=step_map(run, t0, max_points),
        metrics=metric_series(run, max_points, columns),
    )
    return entry


def project_payload(project, site, entries: dict[str, dict] | None = None, runs_in=None) -> dict:
    """``entries`` maps run key -> ``project_run_entry`` (the build caches them per fingerprint);
    ``runs_in``: the runs to carry (default every run of the project)."""
    runs = []
    chosen = project.runs if runs_in is None else runs_in
    n_series = sum(len(getattr(r, "metric_keys", None) or [c for c in r.metrics.columns if not c.startswith("_")])
                   for r in chosen)
    points = project_points(n_series)
    for run in chosen:
        key = site.key(run)
        entry = (entries or {}).get(key)
        runs.append(entry if entry is not None else project_run_entry(run, site, points))
    return {
        "name": project.name,
        "slug": site.project_slug(project.name),
        "url": site.project_url(project),
        "main_metric": getattr(project, "main_metric", None),
        "runs": runs,
    }


def project_script(project, site, entries: dict[str, dict] | None = None, runs_in=None) -> str:
    return data_script("addProject", project_payload(project, site, entries, runs_in))
