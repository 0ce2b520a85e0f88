"""Fixtures for the importers: the real public logs in shared/fixtures/real_logs/."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REAL_LOGS = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real_logs"


@pytest.fixture(autouse=True)
def _no_runpages_env(monkeypatch):
    monkeypatch.delenv("RUNPAGES_MODE", raising=False)
    monkeypatch.delenv("RUNPAGES_DIR", raising=False)


@pytest.fixture
def real_logs():
    if not REAL_LOGS.is_dir():
        pytest.skip(f"the real log fixtures are not at {REAL_LOGS} (shared/ beside the clone)")
    return REAL_LOGS


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()
            if line.strip()]


def _load(folder: Path, name: str):
    return json.loads((folder / name).read_text())


class Imported:
    """The run folders one import wrote, looked up by run name."""

    def __init__(self, runs_dir: Path, result):
        self.result = result
        self.runs = {}
        for rid in result.written + result.skipped:
            folder = next(runs_dir.glob(f"*/{rid}"))
            self.runs[_load(folder, "meta.json")["name"]] = folder

    def meta(self, name):
        return _load(self.runs[name], "meta.json")

    def config(self, name):
        return _load(self.runs[name], "config.json")

    def summary(self, name):
        return _load(self.runs[name], "summary.json")

    def rows(self, name):
        return _rows(self.runs[name])

    def series(self, name, key):
        """``[(step, value)]`` of one key; "NaN" strings back to floats."""
        out = []
        for r in self.rows(name):
            if key in r:
                v = r[key]
                out.append((r["_step"], float("nan") if v == "NaN" else v))
        return out


@pytest.fixture
def import_into(tmp_path):
    """``import_into(source, **kwargs)`` → Imported, written under tmp_path/runs."""
    from runpages.importers import import_source

    def run(source, **kwargs):
        runs_dir = tmp_path / "runs"
        return Imported(runs_dir, import_source(source, runs_dir, **kwargs))
    return run

