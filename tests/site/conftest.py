"""Site tests: run folders written per logger/schema.py (runfolders.py), built into tmp sites."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from runfolders import write_run  # noqa: E402


@pytest.fixture
def runs_dir(tmp_path):
    d = tmp_path / "runs"
    write_run(d, "mnist", "baseline", artifacts={"model.pt": b"weights" * 100})
    write_run(d, "mnist", "lr sweep", run_id="20251124-130000-lr-sweep-def456", t0=1764003600.0,
              meta={"user": "bo", "tags": ["sweep"]})
    write_run(d, "cifar", "resnet", run_id="20251124-140000-resnet-ghi789", steps=300)
    return d


@pytest.fixture
def make_config(tmp_path):
    def make(runs_dirs, **kw):
        from runpages.sitegen.config import SiteConfig

        kw.setdefault("output", tmp_path / "site")
        return SiteConfig(runs_dirs=[Path(d) for d in runs_dirs], **kw)
    return make
