"""Untrusted JSON made safe for the site: nesting capped, lone surrogates replaced.

Invariants:
- ``decode`` never raises ``RecursionError``: a value nested deeper than ``MAX_DEPTH`` (or one
  the json module cannot decode for depth) raises ``TooDeep``, which callers turn into a
  ``Problem``. Nothing deeper than ``MAX_DEPTH`` reaches ``model.flatten``, a page or a data script.
- After ``decode`` every string (keys included) is valid Unicode: a lone surrogate (``"\\ud800"``
  in the JSON text, or a folder name that is not UTF-8) becomes U+FFFD and the caller is told,
  so writing a page never fails with ``UnicodeEncodeError``.
- The checks cost nothing on ordinary input: depth is measured only when the text holds more
  than ``MAX_DEPTH`` brackets, and strings are walked only when the text holds a ``\\uD8..``-
  ``\\uDF..`` escape.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from runpages.encode import replace_lone_surrogates

# Deeper than anyone nests a config; far below Python's recursion limit.
MAX_DEPTH = 64

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_STR = re.compile(r"\\u[dD][89a-fA-F]")

TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep; skipped"
SURROGATES = "text holds lone surrogates (not valid Unicode); shown with \ufffd in their place"


def whole_number(digits: str) -> int | str:
    """``parse_int`` for untrusted JSON: an integer past float range (or past Python's 4,300
    digit limit, which raises) is kept as its digits, shown as text like any other string."""
    return int(digits) if len(digits) <= 308 else digits


def loads(raw: str | bytes) -> Any:
    """``json.loads`` with ``whole_number`` for integers."""
    return json.loads(raw, parse_int=whole_number)


class TooDeep(ValueError):
    """A JSON value nested deeper than ``MAX_DEPTH``."""


def may_hold_surrogates(raw: str | bytes) -> bool:
    """Whether JSON text has an escape that can decode to a lone surrogate."""
    pattern = _SURROGATE_ESCAPE if isinstance(raw, (bytes, bytearray)) else _SURROGATE_ESCAPE_STR
    return pattern.search(raw) is not None


def depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (0 for a scalar); iterative, so any depth."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            children = v.values()
        elif isinstance(v, list):
            children = v
        else:
            continue
        deepest = max(deepest, d)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((c, d + 1) for c in children)
    return deepest


def decode(raw: str | bytes, loads: Callable[[Any], Any],
           surrogates: bool = True) -> tuple[Any, bool]:
    """``loads(raw)`` checked: raises ``TooDeep`` past ``MAX_DEPTH``; returns (value, whether
    lone surrogates were replaced). JSON and Unicode errors pass through as ``loads`` raises them.
    ``surrogates=False``: the caller has seen that the text holds no surrogate escape."""
    try:
        value = loads(raw)
    except RecursionError:
        raise TooDeep(TOO_DEEP) from None
    if isinstance(value, (dict, list)):
        opens = raw.count("{" if isinstance(raw, str) else b"{") + \
            raw.count("[" if isinstance(raw, str) else b"[")
        if opens > MAX_DEPTH and depth(value) > MAX_DEPTH:
            raise TooDeep(TOO_DEEP)
    if surrogates and may_hold_surrogates(raw):
        return repair(value)
    return value, False


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate (also from a non-UTF-8 file name) replaced by U+FFFD."""
    return replace_lone_surrogates(text)[0]


def repair(value: Any) -> tuple[Any, bool]:
    """``value`` with lone surrogates in every string and key replaced; whether any were."""
    return replace_lone_surrogates(value)
