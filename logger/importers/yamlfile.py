"""YAML files written by other tools, read with PyYAML's safe loader.

Lightning's ``hparams.yaml`` may hold Python object tags (``!!python/object:...``); the safe
loader refuses those, so unknown tags load as their plain mapping, list or text instead.
"""
from __future__ import annotations

from typing import Any

from .common import Problem


def load_yaml(path: str) -> tuple[Any, Problem | None]:
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        return None, Problem(path, None, "not read: reading YAML needs PyYAML "
                             "(pip install 'runpages[import]')")

    class _Loader(yaml.SafeLoader):
        pass

    def _any(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    _Loader.add_multi_constructor("", _any)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return yaml.load(f, Loader=_Loader), None  # noqa: S506 (a SafeLoader subclass)
    except (OSError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        return None, Problem(path, None if line is None else line + 1,
                             f"not valid YAML ({type(exc).__name__}); skipped")
