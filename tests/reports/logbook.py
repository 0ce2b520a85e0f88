"""A small logbook written through the real logger, shared by the report tests.

project ``vision``: ana's lr sweep (lr 1e-3 and 3e-4, seeds 0 and 1, groups "lr=1e-3" and
"lr=3e-4"), chen's run in group "lr=3e-4" with a different loader; project ``text``: ben's run
with a hostile name. Values are exact functions of the step, so expected numbers are known.
"""
from __future__ import annotations

from pathlib import Path

T0 = 1794787200.0          # 2026-11-16 00:00 UTC
HOSTILE = "<img src=x onerror=alert(1)>"


def _clock(start: float):
    t = [start]

    def now() -> float:
        t[0] += 0.5
        return t[0]
    return now


def _run(root: Path, project: str, name: str, user: str, start: float, config: dict,
         metrics: dict, steps: int = 40, group: str | None = None, tags=None, summary=None):
    import runpages

    run = runpages.init(project=project, name=name, id=f"{name.lower()[:12].strip('<>= ')}-{int(start)}"
                      .replace(" ", "-").replace("<", "").replace(">", "").replace("=", ""),
                      dir=root, config=config, group=group, tags=tags, clock=_clock(start),
                      system_metrics=False, capture_console=False, meta={"user": user})
    for s in range(steps):
        run.log({k: f(s) for k, f in metrics.items() if f(s) is not None}, step=s * 10)
    for k, v in (summary or {}).items():
        run.summary[k] = v
    run.finish()


def acc(top: float):
    return lambda s: round(top * (1 - 0.5 ** (s / 5 + 1)), 6) if s % 2 == 0 else None


def loss(scale: float):
    return lambda s: round(scale * 2.0 / (s + 1), 6)


def write_logbook(root: Path) -> Path:
    day = 86400.0
    i = 0
    for lr, top in ((1e-3, 0.80), (3e-4, 0.90)):
        for seed in (0, 1):
            i += 1
            name = f"a-lr{lr:.0e}-s{seed}".replace("e-0", "e-")
            _run(root, "vision", name, "ana", T0 + i * 3600,
                 {"lr": lr, "seed": seed, "loader": {"workers": 8}},
                 {"train/loss": loss(1 + seed * 0.1), "val/acc": acc(top + seed * 0.01),
                  "epoch": lambda s: s / 10},
                 group=f"lr={lr:.0e}".replace("e-0", "e-"), tags=["sweep"])
    _run(root, "vision", "c-loader", "chen", T0 + day, {"lr": 3e-4, "seed": 0, "loader": {"workers": 0}},
         {"train/loss": loss(1.0), "val/acc": acc(0.89), "epoch": lambda s: s / 10},
         group="lr=3e-4", tags=["loader"], summary={"note": "slow <b>loader</b>"})
    _run(root, "text", HOSTILE, "ben", T0 + 2 * day, {"n_layer": 6},
         {"val/loss": loss(0.8)}, steps=20)
    return root
