"""W&B arguments ``init`` accepts so ``import runpages as wandb`` runs a W&B script unchanged.

``entity`` and ``job_type`` are kept in meta.json (``wandb`` key); ``resume="auto"`` means
runpages' ``"allow"`` and ``"never"`` means a new run; ``reinit`` changes nothing (every
``init`` already starts a new run and makes it current); ``settings`` and the other W&B-only
arguments are ignored with one warning naming them, never a TypeError. ``save_code`` is
runpages' own argument (``logger/reproduce.py``).
"""
from __future__ import annotations

from typing import Any

from .warn import emit

RESUME_ALIASES = {"auto": "allow", "never": None, True: "allow", False: None}
KEPT = ("entity", "job_type")
IGNORED = ("settings", "reinit", "anonymous", "monitor_gym", "sync_tensorboard")


def resume_value(resume: Any) -> Any:
    """Map W&B's resume values onto runpages' (None, "allow", "must")."""
    if isinstance(resume, (str, bool)) and resume in RESUME_ALIASES:
        return RESUME_ALIASES[resume]
    return resume


def split(extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Take the W&B arguments out of ``extra``: (meta to keep, what is left unknown)."""
    kept = {k: extra.pop(k) for k in KEPT if extra.get(k) is not None}
    ignored = sorted(k for k in IGNORED if k in extra and extra.pop(k) not in (None, False))
    for k in IGNORED:
        extra.pop(k, None)
    if ignored:
        emit(f"runpages: init() ignores the W&B argument(s) {ignored}; they change nothing "
             "in what runpages records.")
    return kept, extra
