"""Hostile inputs: one file per input. Each test writes a good run and a bad one, applies its
input to the bad run folder, builds, and asks ``survived`` whether the promises held.

Add a case in a minute: copy a test file, change what ``hostile_site(...)`` is given.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "site"))

from runfolders import write_run  # noqa: E402

SECRET = "hunter2-not-for-the-site"


@pytest.fixture
def hostile_site(tmp_path):
    """``hostile_site(mutate)``: ``mutate(bad_run_dir, runs_dir)`` spoils the bad run; returns
    the build result and a namespace to check it with (``site.survived()``)."""
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    def make(mutate, **config):
        runs = tmp_path / "runs"
        write_run(runs, "proj", "good run", run_id="20251124-120000-good-aaaaaa")
        write_run(runs, "other", "other run", run_id="20251124-120000-other-bbbbbb")
        bad = write_run(runs, "proj", "bad run", run_id="20251124-130000-bad-cccccc")
        secret = tmp_path / "secret"
        secret.write_text('{"_step": 1, "_time": 1, "key": "%s"}\n' % SECRET)
        mutate(bad, runs)
        out = tmp_path / "site"
        result = build_site(SiteConfig(runs_dirs=[runs], output=out, **config))
        return Built(result, out, bad, runs)
    return make


class Built:
    def __init__(self, result, out: Path, bad: Path, runs: Path):
        self.result, self.out, self.bad, self.runs = result, out, bad, runs

    def problems_of_bad_run(self) -> list[str]:
        return [str(p) for p in self.result.problems if "bad-cccccc" in p.path or "bad-cccccc" in str(p)]

    def site_text(self) -> str:
        parts = []
        for f in self.out.rglob("*"):
            if f.is_file() and ".runpages" not in f.parts:
                parts.append(f.read_bytes().decode("utf-8", "replace"))
        return "\n".join(parts)

    def survived(self, problem: str | None = None) -> list[str]:
        """Assert the build's promises; returns the bad run's Problems (one holds ``problem``)."""
        assert (self.out / "index.html").is_file()
        for page in ("p/proj/index.html", "p/proj/r/20251124-120000-good-aaaaaa/index.html",
                     "p/other/index.html"):
            assert (self.out / page).is_file(), page
        text = self.site_text()
        assert SECRET not in text
        found = [str(p) for p in self.result.problems]
        if problem is not None:
            assert any(problem in p for p in found), found
        return found
