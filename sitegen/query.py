"""The runs-table filter language, shared by the project page and report chart selection.

A query is terms separated by spaces, all of which must hold (AND):

    plain words        ``ana`` or ``"two words"``: some cell contains it (any case)
    key op value       ``lr < 1e-3``, ``user = ana``, ``tag = baseline``, ``status != crashed``,
                       ``name ~ sweep``; spaces around the operator are optional (``lr<1e-3``)

Operators: ``=`` (also ``==``), ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``~`` (contains).
Keys are column names: ``name``, ``user``, ``host``, ``status``, ``group``, ``tag``/``tags``,
config keys with or without a ``config.`` prefix, and summary keys such as ``val/acc``.
A value compares as a number when both it and the cell parse as numbers (``1e-3``, ``-2``,
``inf``); otherwise as text, ignoring case. A quoted value is always text. A list cell (tags)
matches when any element does; ``!=`` holds when none is equal. A missing or empty cell
matches only ``!=``.

Invariant: ``themes/default/static/query.js`` (``RunpagesQuery``) implements the same
language, messages and positions; ``tests/cases/query/*.txt`` run against both.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

OPERATORS = ("!=", "<=", ">=", "==", "=", "<", ">", "~")
_OP_CHARS = "!<>=~"
_QUOTES = "\"'"
_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_SPECIAL_NUMBERS = {"nan": math.nan, "inf": math.inf, "infinity": math.inf}
# What a user may type for a column, mapped to the key the table uses.
ALIASES = {"tag": "tags", "commit": "git", "started": "start"}
PREFIXES = ("config.", "summary.")


class QueryError(ValueError):
    """A query that cannot be parsed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str        # "word" or "op"
    text: str
    position: int
    quoted: bool = False


@dataclass(frozen=True)
class Term:
    key: str | None  # None for a plain word
    op: str | None
    value: str
    quoted: bool = False
    position: int = 0


_MISSING = object()


def to_number(value: Any) -> float | None:
    """The value as a float when it is (or spells) a number; booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if _NUMBER.match(value):
            return float(value)
        stripped = value.strip().lower()
        sign = -1.0 if stripped.startswith("-") else 1.0
        special = _SPECIAL_NUMBERS.get(stripped.lstrip("+-"))
        if special is not None:
            return sign * special
    return None


def to_text(value: Any) -> str:
    """The value as the table shows it to the filter (JavaScript's ``String()`` where it matters)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return _js_number(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _js_number(value: float) -> str:
    """A finite float spelled as JavaScript's ``String(x)`` spells it (ECMA-262 Number::toString)."""
    if value == 0:
        return "0"
    sign, digits, exp = Decimal(repr(abs(value))).as_tuple()
    d = "".join(map(str, digits)).rstrip("0")
    exp += len(digits) - len(d)
    k, n = len(d), len(d) + exp
    minus = "-" if value < 0 else ""
    if k <= n <= 21:
        return minus + d + "0" * (n - k)
    if 0 < n <= 21:
        return minus + d[:n] + "." + d[n:]
    if -6 < n <= 0:
        return minus + "0." + "0" * -n + d
    e = n - 1
    mant = d if k == 1 else d[0] + "." + d[1:]
    return f"{minus}{mant}e{'+' if e >= 0 else '-'}{abs(e)}"


def lookup(row: Mapping[str, Any], key: str) -> Any:
    """The cell for ``key``: exact name, alias, with/without ``config.``, then ignoring case."""
    candidates = [key]
    alias = ALIASES.get(key.lower())
    if alias:
        candidates.append(alias)
    candidates.append("config." + key)
    for prefix in PREFIXES:
        if key.startswith(prefix):
            candidates.append(key[len(prefix):])
    for name in candidates:
        if name in row:
            return row[name]
    lowered = {str(k).lower(): k for k in row}
    for name in candidates:
        if name.lower() in lowered:
            return row[lowered[name.lower()]]
    return _MISSING


def _is_empty(value: Any) -> bool:
    return value is None or value is _MISSING or (isinstance(value, str) and value.strip() == "")


def _compare(cell: Any, op: str, value: str, quoted: bool) -> bool:
    if op == "~":
        return value.lower() in to_text(cell).lower()
    if _is_empty(cell):
        return op == "=" and value == ""
    want = None if quoted else to_number(value)
    have = to_number(cell)
    if want is not None and have is not None:
        a, b = have, want
    else:
        a, b = to_text(cell).lower(), value.lower()
    return _ORDER[op](a, b)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _cells(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]

    def keys(self) -> list[str]:
        """The column names the query mentions, in order (plain words have none)."""
        return [t.key for t in self.terms if t.key is not None]

    def matches(self, row: Mapping[str, Any]) -> bool:
        return all(_term_matches(t, row) for t in self.terms)


def _term_matches(term: Term, row: Mapping[str, Any]) -> bool:
    if term.key is None:
        needle = term.value.lower()
        return any(needle in to_text(c).lower()
                   for v in row.values() for c in _cells(v))
    cell = lookup(row, term.key)
    if cell is _MISSING:
        return term.op == "!="
    cells = _cells(cell)
    if term.op == "!=":
        return not any(_compare(c, "=", term.value, term.quoted) for c in cells)
    return any(_compare(c, term.op, term.value, term.quoted) for c in cells)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _QUOTES:
            start, i, out = i, i + 1, []
            while i < n and text[i] != ch:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise QueryError(f"unterminated quote {ch}", start)
            tokens.append(Token("word", "".join(out), start, quoted=True))
            i += 1
        elif ch in _OP_CHARS:
            op = text[i:i + 2] if text[i:i + 2] in OPERATORS else ch
            if op not in OPERATORS:
                raise QueryError(f"unknown operator '{op}'; did you mean '!='?", i)
            tokens.append(Token("op", "=" if op == "==" else op, i))
            i += len(op)
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _OP_CHARS + _QUOTES:
                i += 1
            tokens.append(Token("word", text[start:i], start))
    return tokens


def parse_query(text: str) -> Query:
    """Parse a filter; raises ``QueryError(message, position)`` on a malformed term."""
    tokens = tokenize(text)
    terms: list[Term] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "op":
            raise QueryError(f"expected a column name before '{tok.text}'", tok.position)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is None or nxt.kind != "op":
            terms.append(Term(None, None, tok.text, tok.quoted, tok.position))
            i += 1
            continue
        value = tokens[i + 2] if i + 2 < len(tokens) else None
        if value is None:
            raise QueryError(f"expected a value after '{nxt.text}'", len(text))
        if value.kind == "op":
            raise QueryError(f"expected a value after '{nxt.text}', got '{value.text}'",
                             value.position)
        terms.append(Term(tok.text, nxt.text, value.text, value.quoted, tok.position))
        i += 3
    return Query(text, tuple(terms))
