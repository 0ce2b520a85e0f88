"""Regression rules for ``runpages check``: what a rule says, how a run's value is taken, and
the verdict of one rule on one candidate value against the baseline values.

A rule on the command line is ``METRIC:DIRECTION:ALLOWED[:VALUE]``:

    val/acc:max:0.005              absolute: may fall at most 0.005 below the baseline
    val/loss:min:2%                percent of the baseline's magnitude: may rise at most 2 %
    val/acc:max:noise              noise-aware: may fall at most k·std below the mean of the
    val/acc:max:noise:k=2,n=5      last n baseline runs (defaults k=2, n=5; floor=X is the least
                                   allowed change, for a series that happens to have no spread)
    val/acc:max:0.005:best         which value of the run: summary (default), last, best,
    val/acc:max:0.005:mean_last_5  mean_last_<k> (mean of the last k logged values)

DIRECTION is ``max`` (higher is better), ``min`` or ``auto`` (guessed from the name, like the
site does). In ``runpages.toml`` the same rule is a table::

    [[check.rules]]
    metric = "val/acc"
    direction = "max"            # optional: guessed from the name
    allowed = 0.005              # or "2%", or "noise"
    k = 2                        # noise only
    n = 5                        # noise only
    floor = 0.001                # noise only, optional
    value = "summary"            # or "last", "best", "mean_last_k" with last_k = 5

Invariants: parsing reports every problem with the rule's text or table index; judging never
raises; no pandas at import time (the CLI imports this module to parse ``--rule``).
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from runpages.sitegen.values import format_number

VALUE_KINDS = ("summary", "last", "best", "mean_last_k")
ALLOWED_KINDS = ("absolute", "percent", "noise")
DEFAULT_NOISE_K = 2.0
DEFAULT_NOISE_N = 5
DEFAULT_LAST_K = 5

# Verdicts of one rule, best first. "error": could not judge (missing value, too few runs).
IMPROVED, HOLDS, REGRESSED, ERROR = "improved", "holds", "regressed", "error"

_EPS = 1e-12


class RuleError(ValueError):
    """A rule that cannot be used; the message names the rule as the user wrote it."""


@dataclass(frozen=True)
class Rule:
    metric: str
    direction: str                    # "max" or "min"
    allowed_kind: str                 # "absolute", "percent" or "noise"
    allowed: float = 0.0              # absolute amount, or percent; unused for noise
    k: float = DEFAULT_NOISE_K        # noise: how many standard deviations
    n: int = DEFAULT_NOISE_N          # noise: how many baseline runs
    floor: float = 0.0                # noise: the least allowed change
    value: str = "summary"            # which value of a run (VALUE_KINDS)
    last_k: int = DEFAULT_LAST_K      # for value "mean_last_k"
    text: str = ""                    # as the user wrote it, for messages

    @property
    def value_label(self) -> str:
        return f"mean_last_{self.last_k}" if self.value == "mean_last_k" else self.value

    def describe_allowed(self) -> str:
        sign = "-" if self.direction == "max" else "+"
        if self.allowed_kind == "absolute":
            return f"{sign}{_num(self.allowed)}"
        if self.allowed_kind == "percent":
            return f"{sign}{_num(self.allowed)}%"
        floor = f", at least {_num(self.floor)}" if self.floor else ""
        return f"{sign}{_num(self.k)}\u00b7std of last {self.n}{floor}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Result:
    """One rule judged: the numbers shown in the table and recorded."""
    rule: Rule
    verdict: str                       # IMPROVED, HOLDS, REGRESSED or ERROR
    baseline: float | None = None      # the value compared with (mean for noise / several runs)
    candidate: float | None = None
    change: float | None = None        # candidate - baseline
    change_pct: float | None = None    # change / |baseline| * 100
    bound: float | None = None         # the worst value still accepted
    tolerance: float | None = None     # |bound - baseline|
    std: float | None = None           # noise: spread of the baseline values
    baseline_n: int = 0                # how many baseline values went in
    reason: str = ""                   # why, for ERROR and REGRESSED

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "rule"}
        d.update(metric=self.rule.metric, direction=self.rule.direction, value=self.rule.value_label,
                 allowed=self.rule.describe_allowed(), rule=self.rule.to_dict())
        return {k: _json_number(v) for k, v in d.items()}


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def _num(v: float) -> str:
    return format_number(v)


# ---- parsing ------------------------------------------------------------------------------

def _direction(text: str, metric: str, where: str) -> str:
    d = (text or "auto").strip().lower()
    if d in ("max", "higher", "up"):
        return "max"
    if d in ("min", "lower", "down"):
        return "min"
    if d == "auto":
        from runpages.sitegen.model import metric_direction  # light enough here; only when asked

        return metric_direction(metric)
    raise RuleError(f"{where}: direction must be max, min or auto, got {text!r}")


def _value_kind(token: str, where: str) -> tuple[str, int]:
    t = token.strip().lower()
    if t in ("summary", "last", "best"):
        return t, DEFAULT_LAST_K
    m = re.fullmatch(r"mean_last_(?:k=)?(\d+)", t)
    if m and int(m.group(1)) >= 1:
        return "mean_last_k", int(m.group(1))
    if t == "mean_last_k":
        return "mean_last_k", DEFAULT_LAST_K
    raise RuleError(f"{where}: value must be summary, last, best or mean_last_<k> (e.g. mean_last_5), "
                    f"got {token!r}")


def _float(text: Any, what: str, where: str, low: float = 0.0) -> float:
    try:
        if isinstance(text, bool):
            raise ValueError
        v = float(text)
    except (TypeError, ValueError):
        raise RuleError(f"{where}: {what} must be a number, got {text!r}") from None
    if not math.isfinite(v) or v < low:
        raise RuleError(f"{where}: {what} must be a finite number of at least {low:g}, got {text!r}")
    return v


def _allowed(value: Any, where: str) -> tuple[str, float]:
    """``0.005`` -> absolute; ``"2%"`` -> percent; ``"noise"`` -> noise."""
    if isinstance(value, str):
        v = value.strip()
        if v.lower() == "noise":
            return "noise", 0.0
        if v.endswith("%"):
            return "percent", _float(v[:-1], "allowed percent", where)
        return "absolute", _float(v, "allowed change", where)
    return "absolute", _float(value, "allowed change", where)


def _noise_params(text: str, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, val = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("k", "n", "floor"):
            raise RuleError(f"{where}: noise options are k=<std multiple>, n=<runs>, floor=<least change>; "
                            f"got {part!r}")
        out[key] = val.strip()
    return out


def _make(metric: str, direction: str, allowed: Any, where: str, text: str, value: str = "summary",
          last_k: Any = None, k: Any = None, n: Any = None, floor: Any = None) -> Rule:
    metric = (metric or "").strip()
    if not metric:
        raise RuleError(f"{where}: no metric name")
    kind, amount = _allowed(allowed, where)
    value_kind, default_k = _value_kind(value, where)
    lk = default_k if last_k is None else int(_float(last_k, "last_k", where, low=1))
    rule = dict(metric=metric, direction=_direction(direction, metric, where), allowed_kind=kind,
                allowed=amount, value=value_kind, last_k=lk, text=text)
    if kind == "noise":
        rule["k"] = _float(DEFAULT_NOISE_K if k is None else k, "k", where)
        nn = _float(DEFAULT_NOISE_N if n is None else n, "n", where, low=2)
        if nn != int(nn):
            raise RuleError(f"{where}: n must be a whole number of runs, got {n!r}")
        rule["n"] = int(nn)
        rule["floor"] = _float(0.0 if floor is None else floor, "floor", where)
    elif any(x is not None for x in (k, n, floor)):
        raise RuleError(f"{where}: k, n and floor only go with allowed = \"noise\"")
    return Rule(**rule)


def parse_rule(text: str) -> Rule:
    """``METRIC:DIRECTION:ALLOWED[:VALUE]`` (see the module docstring); raises ``RuleError``."""
    where = f"rule {text!r}"
    parts = text.split(":")
    if len(parts) < 3:
        raise RuleError(f"{where}: expected METRIC:DIRECTION:ALLOWED, e.g. val/acc:max:0.005, "
                        "val/loss:min:2% or val/acc:max:noise:k=2,n=5")
    # A metric name may hold ":"; the direction is the last max/min/auto token before ALLOWED.
    idx = None
    for i in range(len(parts) - 2, 0, -1):
        if parts[i].strip().lower() in ("max", "min", "auto", "higher", "lower", "up", "down"):
            idx = i
            break
    if idx is None:
        raise RuleError(f"{where}: no direction (max, min or auto) after the metric name")
    metric, direction, allowed = ":".join(parts[:idx]), parts[idx], parts[idx + 1]
    rest = parts[idx + 2:]
    opts: dict[str, Any] = {}
    value = "summary"
    for token in rest:
        if allowed.strip().lower() == "noise" and "=" in token and not token.strip().lower().startswith("mean_last"):
            opts.update(_noise_params(token, where))
        elif token.strip():
            value = token
    return _make(metric, direction, allowed, where, text, value=value, **opts)


_TOML_RULE_KEYS = ("metric", "direction", "allowed", "k", "n", "floor", "value", "last_k")


def rules_from_toml(items: Any) -> tuple[list[Rule], list[str]]:
    """``[[check.rules]]`` tables (or rule strings) to Rules; returns (rules, problems)."""
    rules, problems = [], []
    if items is None:
        return rules, problems
    if not isinstance(items, list):
        return rules, ["check.rules: expected a list of tables ([[check.rules]])"]
    for i, item in enumerate(items, 1):
        where = f"check.rules[{i}]"
        try:
            if isinstance(item, str):
                rules.append(parse_rule(item))
                continue
            if not isinstance(item, dict):
                raise RuleError(f"{where}: expected a table or a rule text")
            unknown = sorted(set(item) - set(_TOML_RULE_KEYS))
            if unknown:
                from runpages.sitegen.config import nearest_key

                hints = [f"{u} (did you mean {m}?)" if (m := nearest_key(u, _TOML_RULE_KEYS)) else u
                         for u in unknown]
                raise RuleError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(hints)}; known: {', '.join(_TOML_RULE_KEYS)}")
            if "metric" not in item or "allowed" not in item:
                raise RuleError(f"{where}: needs metric and allowed")
            if not isinstance(item["metric"], str):
                raise RuleError(f"{where}: metric must be text")
            rules.append(_make(item["metric"], str(item.get("direction", "auto")), item["allowed"], where,
                               text=f"{where} ({item['metric']})", value=str(item.get("value", "summary")),
                               last_k=item.get("last_k"), k=item.get("k"), n=item.get("n"),
                               floor=item.get("floor")))
        except RuleError as err:
            problems.append(str(err))
    return rules, problems


# ---- values -------------------------------------------------------------------------------

def _finite_or_none(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        from runpages.schema import NONFINITE_TOKENS

        if v in NONFINITE_TOKENS:
            return NONFINITE_TOKENS[v]
        return None
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        return None


def series_of(run: Any, metric: str) -> list[float]:
    """The metric's logged values in step order: NaN at steps where it was logged as NaN (so
    a run that diverged has NaN as its last value), inf kept, steps where it was not logged
    left out."""
    series = getattr(run, "series", None)
    if callable(series):
        return [float(v) for v in series(metric)[1].tolist()]
    frame = getattr(run, "metrics", None)
    if frame is None or metric not in getattr(frame, "columns", ()):
        return []
    return [float(v) for v in frame[metric].tolist() if v == v]


def run_value(run: Any, rule: Rule) -> float | None:
    """The value ``rule`` compares for ``run``; None when the run never logged it."""
    if rule.value == "summary":
        v = _finite_or_none((getattr(run, "summary", None) or {}).get(rule.metric))
        if v is not None:
            return v
        values = series_of(run, rule.metric)          # summary.json missing: last value
        return values[-1] if values else None
    return value_from_series(series_of(run, rule.metric), rule)


def value_from_series(values: list[float], rule: Rule) -> float | None:
    if not values:
        return None
    if rule.value == "last":
        return values[-1]
    if rule.value == "best":
        # NaN is never the best value; a series of nothing but NaN has NaN as its best
        numbers = [v for v in values if v == v]
        if not numbers:
            return math.nan
        return max(numbers) if rule.direction == "max" else min(numbers)
    tail = values[-rule.last_k:]
    return math.fsum(tail) / len(tail)


# ---- judging ------------------------------------------------------------------------------

def judge(rule: Rule, candidate: float | None, baseline_values: list[float | None]) -> Result:
    """One rule's verdict. ``baseline_values`` newest first: one value per baseline run (a
    noise rule uses the newest ``n``; the other rules use their mean)."""
    res = Result(rule=rule, verdict=ERROR, candidate=candidate)
    values = [v for v in baseline_values if v is not None]
    if candidate is None:
        res.reason = f"the candidate run has no value for {rule.metric!r}"
        return res
    if not values:
        res.reason = (f"no baseline run has a value for {rule.metric!r}" if baseline_values
                      else "no baseline runs")
        return res
    if any(math.isnan(v) for v in values):
        res.reason = f"the baseline value of {rule.metric!r} is NaN"
        return res
    sign = 1.0 if rule.direction == "max" else -1.0
    if rule.allowed_kind == "noise":
        values = values[:rule.n]
        if len(values) < 2:
            res.reason = (f"noise-aware rule needs at least 2 baseline runs with {rule.metric!r}, "
                          f"found {len(values)}")
            res.baseline_n = len(values)
            res.baseline = values[0]
            return res
        base = math.fsum(values) / len(values)
        std = statistics.stdev(values)
        tol = max(rule.k * std, rule.floor)
        res.std = std
    else:
        base = math.fsum(values) / len(values)
        tol = rule.allowed if rule.allowed_kind == "absolute" else abs(base) * rule.allowed / 100.0
    res.baseline, res.baseline_n, res.tolerance = base, len(values), tol
    res.bound = base - sign * tol
    if math.isnan(candidate):
        res.verdict, res.reason = REGRESSED, (
            f"the candidate's {rule.value_label} value of {rule.metric!r} is NaN (the run logged "
            f"NaN); NaN fails every gate")
        return res
    res.change = candidate - base
    if base != 0 and math.isfinite(base):
        res.change_pct = res.change / abs(base) * 100.0
    gain = sign * (candidate - base)                  # > 0: better
    slack = _EPS * max(1.0, abs(base))
    improved_by = tol if rule.allowed_kind == "noise" else 0.0   # noise: better than the noise
    if gain > improved_by + slack:
        res.verdict = IMPROVED
    elif gain >= -tol - slack:
        res.verdict = HOLDS
    else:
        res.verdict = REGRESSED
        worse = "below" if rule.direction == "max" else "above"
        res.reason = f"{_num(candidate)} is {worse} the allowed bound {_num(res.bound)}"
    return res


def overall(results: list[Result]) -> str:
    """ERROR if any rule could not be judged, else REGRESSED if any regressed, else HOLDS."""
    verdicts = {r.verdict for r in results}
    if not results or ERROR in verdicts:
        return ERROR
    if REGRESSED in verdicts:
        return REGRESSED
    return HOLDS


EXIT_CODES = {HOLDS: 0, IMPROVED: 0, REGRESSED: 1, ERROR: 2}
