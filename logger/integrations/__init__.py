"""Framework integrations: one small module per framework, each importing its framework.

    from runpages.integrations.lightning import RunpagesLogger         # Trainer(logger=...)
    from runpages.integrations.transformers import RunpagesCallback    # Trainer(callbacks=[...])
    from runpages.integrations.keras import RunpagesKerasCallback      # model.fit(callbacks=[...])

Importing ``logger`` or this package imports no framework: the names above load their module
(and so the framework) on first access. A missing framework raises ImportError naming the
package to install.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {"RunpagesLogger": "lightning", "RunpagesCallback": "transformers",
          "RunpagesKerasCallback": "keras"}
__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def missing(package: str, pip_name: str, error: ImportError) -> ImportError:
    """The ImportError an integration raises when its framework is not installed."""
    return ImportError(f"runpages: this integration needs the {package} package, which is not "
                       f"installed (or failed to import: {error}); install it with "
                       f"pip install {pip_name}")
