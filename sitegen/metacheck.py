"""meta.json checked once, in the reader: every field a page reads has the type and range the
format (``logger/schema.py``) gives it, or it is dropped with a Problem.

Invariant: after ``check_meta`` a page may use ``meta["started_at"]`` as a datetime-able float,
``meta["gpu"]["names"]`` as a list of strings, and so on, without its own guard. Unknown
fields pass through untouched (newer loggers and importers add some).
"""
from __future__ import annotations

import math
from typing import Any, Callable

from runpages.sitegen.jsonl import Problem, describe

# Unix seconds a page can turn into a date (datetime covers years 1..9999).
LATEST_TIME = 253402300799.0


def _text(v: Any) -> str | None:
    # a number is shown as its digits (``user: 7``), as the model's accessors do
    if isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool)):
        return None
    return f"{describe(v)}, not text"


def _number(lo: float, hi: float) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"{describe(v)}, not a number"
        if not math.isfinite(v) or not lo <= v <= hi:
            return f"{v!r}, out of range ({lo:g} to {hi:g})"
        return None
    return check


def _whole(lo: int, hi: int) -> Callable[[Any], str | None]:
    number = _number(lo, hi)

    def check(v: Any) -> str | None:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            return f"{describe(v)}, not a whole number"
        return number(v)
    return check


def _list_of(item: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return f"{describe(v)}, not a list"
        for x in v:
            why = item(x)
            if why:
                return f"a list holding {why.split(',')[0]}"
        return None
    return check


def _tags(v: Any) -> str | None:
    return None if isinstance(v, str) else _list_of(_text)(v)    # one tag may come bare


def _text_or_list(v: Any) -> str | None:
    return None if isinstance(v, str) else _list_of(_text)(v)


def _object(fields: dict[str, Callable[[Any], str | None]]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return f"{describe(v)}, not an object"
        for name, rule in fields.items():
            if v.get(name) is not None:
                why = rule(v[name])
                if why:
                    return f"an object whose {name!r} is {why}"
        return None
    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"{describe(v)}, not true/false"


_TIME = _number(0.0, LATEST_TIME)

# field -> rule; a rule returns None when the value is fine, else what is wrong with it.
RULES: dict[str, Callable[[Any], str | None]] = {
    **{k: _text for k in ("id", "name", "project", "group", "notes", "user", "host", "os",
                          "python", "cwd", "system_source")},
    # "status" is not here: the reader reports an unknown one and shows what the files say
    "tags": _tags,
    "command": _text_or_list,
    "started_at": _TIME, "ended_at": _TIME, "heartbeat_at": _TIME,
    "resumed_at": _list_of(_TIME),
    "duration_s": _number(0.0, LATEST_TIME),
    "cpu_count": _whole(0, 1 << 20),
    "memory_gb": _number(0.0, 1e9),
    "git": _object({"commit": _text, "branch": _text, "remote": _text, "dirty": _bool}),
    "gpu": _object({"count": _whole(0, 1 << 16), "names": _list_of(_text)}),
    "exit": _object({"reason": _text, "traceback": _text}),
    "imported_from": _object({"format": _text, "path": _text, "problems": _list_of(_text)}),
}


def check_meta(meta: dict[str, Any], display: str) -> tuple[dict[str, Any], list[Problem]]:
    """``meta`` without the fields that break their rule (null counts as absent), and one
    Problem per dropped field."""
    problems: list[Problem] = []
    bad = []
    for name, rule in RULES.items():
        value = meta.get(name)
        if value is None:
            continue
        why = rule(value)
        if why:
            bad.append(name)
            problems.append(Problem(display, None, f"{name!r} is {why}; ignored"))
    if not bad:
        return meta, problems
    return {k: v for k, v in meta.items() if k not in bad}, problems
