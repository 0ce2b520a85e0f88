"""Config and Summary: the dict-like ``run.config`` and ``run.summary``.

Invariants: ``Config`` keeps the configuration as given (nested dicts kept) and calls
``on_change`` after every change, so the run saves it at once; ``update()`` saves once.
``Summary`` holds explicit entries (encoded like metrics, nested dicts flattened with ``/``)
over a dict of last values that the run shares with it; explicit entries win.
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Callable, Iterator

from .encode import SKIP, encode_into, encode_scalar, to_json_tree


def config_to_dict(config: Any) -> dict:
    """dict, argparse.Namespace or dataclass (or anything with ``to_dict()``) → dict."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if hasattr(type(config), "__dataclass_fields__"):
        import dataclasses  # noqa: PLC0415
        return dataclasses.asdict(config)
    if type(config).__name__ == "Namespace" and hasattr(config, "__dict__"):
        return dict(vars(config))
    to_dict = getattr(config, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise TypeError(f"runpages: config must be a dict, an argparse.Namespace or a dataclass "
                    f"instance; got {type(config).__name__}.")


class Config(MutableMapping):
    """The run's configuration, dict-like (also ``run.config.lr``); every change is saved."""

    def __init__(self, data: dict, on_change: Callable[[], None] | None = None) -> None:
        self.__dict__["_data"] = data
        self.__dict__["_on_change"] = on_change

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._changed()

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # one write, not one per key
        if other is not None and not isinstance(other, (Mapping, list, tuple)):
            other = config_to_dict(other)
        self._data.update(other, **kwargs)
        self._changed()

    def as_dict(self) -> dict:
        return dict(self._data)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def __repr__(self) -> str:
        return f"Config({self._data!r})"


class Summary(MutableMapping):
    """Final or best values: explicit entries win; other metrics show their last value."""

    def __init__(self, last: dict, on_change: Callable[[], None] | None = None,
                 on_skip: Callable[[str, Any], None] | None = None) -> None:
        self._explicit: dict[str, Any] = {}
        self._last = last           # shared with the run: last value of every metric
        self._derived: dict[str, Any] = {}   # define_metric's min/max/mean, over _last
        self._hidden: set[str] = set()       # define_metric(summary="none")
        self._on_change = on_change
        self._on_skip = on_skip or (lambda k, v: None)   # the run's: warns once per cause

    def __getitem__(self, key: str) -> Any:
        if key in self._explicit:
            return self._explicit[key]
        if key.startswith("_") or key in self._hidden:
            raise KeyError(key)
        if key in self._derived:
            return self._derived[key]
        return self._last[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            flat: dict = {}
            encode_into(flat, value, self._on_skip, str(key) + "/")
            self._explicit.update(flat)
        else:
            enc = encode_scalar(value)
            self._explicit[str(key)] = to_json_tree(value) if enc is SKIP else enc
        if self._on_change is not None:
            self._on_change()

    def __delitem__(self, key: str) -> None:
        del self._explicit[key]
        if self._on_change is not None:
            self._on_change()

    def __iter__(self) -> Iterator[str]:
        seen = dict.fromkeys(k for k in self._last
                             if not k.startswith("_") and k not in self._hidden)
        seen.update(dict.fromkeys(self._explicit))
        return iter(seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def as_dict(self) -> dict:
        out = {k: v for k, v in self._last.items()
               if not k.startswith("_") and k not in self._hidden}
        out.update(self._derived)
        out.update(self._explicit)
        return out

    def __repr__(self) -> str:
        return f"Summary({self.as_dict()!r})"
