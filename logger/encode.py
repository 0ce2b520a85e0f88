"""Python values → strict-JSON values, without importing numpy or torch.

Invariants:
* Every value written is strict JSON: non-finite floats become ``"NaN"``, ``"Infinity"``,
  ``"-Infinity"`` (``schema.NONFINITE_TOKENS``), so ``json.loads``, ``jq`` and
  ``pandas.read_json(lines=True)`` read every line.
* numpy / torch / jax scalars and 0-d arrays are recognised by the *module* their type comes
  from and converted with ``.item()`` (dvclive's approach): nothing heavy is imported here.
* Nested dicts are flattened with ``/``; strings, bools, ints and ``None`` are kept.
* Anything else (a large tensor, an arbitrary object) is *skipped* and reported through
  ``on_skip(key, value)``; the caller warns once per cause. So is a mapping nested deeper than
  ``MAX_DEPTH`` (a dict that holds itself), rather than a ``RecursionError``.
* Text is written as valid Unicode: ``replace_lone_surrogates`` turns a lone surrogate (which
  ``json`` writes as a ``\\ud800`` escape that strict readers reject) into U+FFFD; callers run
  it when a line holds ``\\ud`` (``needs_surrogate_check``), so ordinary lines cost a substring test.

The dispatch table maps a type to its encoder; a type seen for the first time is resolved
once and cached, so the common case (``float``) costs one dict lookup.
"""
from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import Any, Callable

from .schema import NONFINITE_TOKENS

SKIP = object()  # returned by an encoder: leave this key out
MAX_DEPTH = 32   # nested mappings deeper than this are skipped (also ends self-reference)

_NAN, _INF, _NINF = NONFINITE_TOKENS  # "NaN", "Infinity", "-Infinity"
_ARRAY_MODULES = frozenset({"numpy", "torch", "jax", "jaxlib", "tensorflow", "cupy", "mlx"})

# Compact, strict (allow_nan=False), ASCII-only: every line is valid JSON in any encoding.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, check_circular=False)
dumps: Callable[[Any], str] = _ENCODER.encode


def _nonfinite(v: float) -> str:
    if v != v:
        return _NAN
    return _INF if v > 0 else _NINF


def _float(v: float) -> Any:
    return v if v - v == 0.0 else _nonfinite(v)


def _keep(v: Any) -> Any:
    return v


def _array_scalar(v: Any) -> Any:
    """numpy/torch/jax scalar or 0-d array → Python scalar; bigger arrays are skipped."""
    ndim = getattr(v, "ndim", 0)
    if ndim != 0:
        return SKIP
    try:
        item = v.item()
    except Exception:
        return SKIP
    enc = _encoder_for(type(item))
    return SKIP if enc is _array_scalar or enc is None else enc(item)


def _subclass(base_encoder: Callable[[Any], Any], base: type) -> Callable[[Any], Any]:
    # bool/int/float subclasses (IntEnum, numpy.float64 is a float subclass) → plain value
    def enc(v: Any) -> Any:
        return base_encoder(base(v))
    return enc


_BY_TYPE: dict[type, Callable[[Any], Any] | None] = {
    float: _float, int: _keep, bool: _keep, str: _keep, type(None): _keep,
}


def _encoder_for(t: type) -> Callable[[Any], Any] | None:
    """The encoder of a type, resolved once; None means "not a scalar we know"."""
    try:
        return _BY_TYPE[t]
    except KeyError:
        pass
    enc: Callable[[Any], Any] | None
    root = (getattr(t, "__module__", None) or "").partition(".")[0]
    if root in _ARRAY_MODULES and hasattr(t, "item"):
        enc = _array_scalar
    elif issubclass(t, bool):
        enc = _subclass(_keep, bool)
    elif issubclass(t, int):
        enc = _subclass(_keep, int)
    elif issubclass(t, float):
        enc = _subclass(_float, float)
    elif issubclass(t, str):
        enc = _subclass(_keep, str)
    else:
        enc = None
    _BY_TYPE[t] = enc
    return enc


def encode_scalar(value: Any) -> Any:
    """One value → a JSON value, or ``SKIP`` when it is not a scalar we can write."""
    enc = _BY_TYPE.get(type(value)) or _encoder_for(type(value))
    if enc is None:
        return SKIP
    return enc(value)


def encode_into(out: dict, values: Mapping, on_skip: Callable[[str, Any], None],
                prefix: str = "", _depth: int = 0) -> None:
    """Encode ``values`` into ``out`` (flattening nested mappings with ``/``).

    The loop is the hot path of ``run.log()``: plain finite floats under string keys go
    straight through; everything else takes ``_encode_one``.
    """
    if prefix:
        for key, v in values.items():
            _encode_one(out, prefix + str(key), v, on_skip, _depth)
        return
    for key, v in values.items():
        if type(v) is float and v - v == 0.0 and type(key) is str:
            out[key] = v
        else:
            _encode_one(out, key if type(key) is str else str(key), v, on_skip)


def _encode_one(out: dict, name: str, v: Any, on_skip: Callable[[str, Any], None],
                _depth: int = 0) -> None:
    t = type(v)
    enc = _BY_TYPE.get(t)
    if enc is None:
        if isinstance(v, Mapping):
            if _depth >= MAX_DEPTH:
                on_skip(name, v)
                return
            encode_into(out, v, on_skip, name + "/", _depth + 1)
            return
        enc = _encoder_for(t)
        if enc is None:
            on_skip(name, v)
            return
    ev = enc(v)
    if ev is SKIP:
        on_skip(name, v)
    else:
        out[name] = ev


_LONE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(value: Any) -> tuple[Any, bool]:
    """``value`` (text, or lists/dicts of it, keys included) with each lone surrogate as
    U+FFFD; whether any was. The one home of this rule (``sitegen.jsonsafe`` uses it too)."""
    if isinstance(value, str):
        fixed = _LONE.sub("\ufffd", value)
        return fixed, fixed != value
    if isinstance(value, list):
        pairs = [replace_lone_surrogates(v) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if isinstance(value, dict):
        out, changed = {}, False
        for k, v in value.items():
            k2, c1 = replace_lone_surrogates(k)
            v2, c2 = replace_lone_surrogates(v)
            out[k2] = v2
            changed = changed or c1 or c2
        return out, changed
    return value, False


def needs_surrogate_check(line: str) -> bool:
    """Whether a line ``dumps`` wrote may hold a lone surrogate (pairs for emoji also match)."""
    return "\\ud" in line or "\\uD" in line


def clean_line(line: str) -> tuple[str, bool]:
    """A ``dumps`` line with lone surrogates replaced; whether any were."""
    value, changed = replace_lone_surrogates(json.loads(line))
    return (dumps(value), True) if changed else (line, False)


def decode_nonfinite(value: Any) -> Any:
    """The reverse of the token mapping, for readers and tests."""
    return NONFINITE_TOKENS.get(value, value) if isinstance(value, str) else value


def to_json_tree(value: Any, _depth: int = 0) -> Any:
    """A config or meta value → JSON-safe tree, keeping nesting. Unknown objects → ``str()``.

    Configs hold paths, enums, dtypes: showing their text is more useful than dropping them.
    """
    if _depth > 32:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_tree(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_json_tree(v, _depth + 1) for v in items]
    enc = encode_scalar(value)
    if enc is not SKIP:
        return enc
    if isinstance(value, enum.Enum):
        return to_json_tree(value.value, _depth + 1)
    tolist = getattr(value, "tolist", None)  # small arrays in a config: keep the numbers
    if callable(tolist) and (getattr(value, "size", None) or 0) <= 1024:
        try:
            return to_json_tree(tolist(), _depth + 1)
        except Exception:
            pass
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"
