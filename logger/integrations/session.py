"""One runpages run behind a framework hook: started on first use, finished by the framework.

Frameworks call "train end" and then often keep logging (``trainer.test()`` after
``fit()``, ``trainer.evaluate()`` after ``train()``, a second ``model.fit``). The run is
finished at train end so the site shows it finished, and a later record reopens the same run
(``resume="allow"``): steps continue, nothing is lost, no second run appears.
"""
from __future__ import annotations

from typing import Any

import runpages

from .. import schema


class LazyRun:
    """Holds ``runpages.init`` arguments; ``get()`` starts, or reopens, the run."""

    def __init__(self, **init_kwargs: Any) -> None:
        self.init_kwargs = {k: v for k, v in init_kwargs.items() if v is not None}
        self.run: Any = None

    @property
    def started(self) -> bool:
        return self.run is not None

    def get(self, reopen: bool = True, **late: Any) -> Any:
        """The live run; ``late`` init arguments (name, config) only apply when starting it.

        ``reopen=False`` returns a finished run as it is (for reading its id or folder).
        """
        if self.run is None:
            kwargs = {**{k: v for k, v in late.items() if v is not None}, **self.init_kwargs}
            self.run = runpages.init(**kwargs)
        elif reopen and self.run.status != schema.RUNNING and self.run.dir is not None:
            kwargs = {k: v for k, v in self.init_kwargs.items()
                      if k not in ("name", "config", "id", "resume")}
            self.run = runpages.init(id=self.run.id, resume="allow", **kwargs)
        return self.run

    def finish(self, status: str | None = None, reason: str | None = None) -> None:
        if self.run is not None and self.run.status == schema.RUNNING:
            self.run.finish(status=status, reason=reason)
