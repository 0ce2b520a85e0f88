"""runpages logger: record training runs as plain files (the format: ``logger/schema.py``).

    import runpages      # many scripts already hold `logger = logging.getLogger()`

    with runpages.init(project="mnist", name="lr-3e-4", config={"lr": 3e-4}) as run:
        for step in range(100):
            run.log({"train/loss": 1 / (step + 1)})
        run.summary["best/val_acc"] = 0.98

Importing this package loads the standard library only; psutil and pynvml load in the
sampler thread on first use.
"""
from .api import DisabledRun, current, define_metric, finish, init, log
from .mappings import Config, Summary
from .media import Audio, Histogram, Image, Table, Video
from .run import Run
from .warn import RunpagesWarning

__version__ = "0.1.0"
__all__ = ["init", "log", "finish", "current", "define_metric", "Run", "DisabledRun", "Config", "Summary",
           "RunpagesWarning", "Image", "Video", "Audio", "Table", "Histogram", "__version__"]


def __getattr__(name: str):
    """``runpages.config`` and ``runpages.summary``: the current run's, as in W&B.

    (``runpages.run`` is the ``run`` module; W&B's ``wandb.run`` is ``runpages.current()``.)
    """
    if name in ("config", "summary"):
        run = current()
        if run is None:
            raise AttributeError(f"runpages.{name} exists once a run is started: call "
                                 "runpages.init(...) first.")
        return getattr(run, name)
    raise AttributeError(f"module 'runpages' has no attribute {name!r}")
