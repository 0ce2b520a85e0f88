"""Fixtures for the framework integrations: real libraries, tiny models built from code."""
from __future__ import annotations

import json
from pathlib import Path

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: runs a real ML framework (lightning, "
                            "transformers, keras); skipped when it is not installed")


@pytest.fixture(autouse=True)
def _no_runpages_env(monkeypatch):
    monkeypatch.delenv("RUNPAGES_MODE", raising=False)
    monkeypatch.delenv("RUNPAGES_DIR", raising=False)


def _only_run(runs_dir: Path, project: str) -> Path:
    runs = sorted(p for p in (runs_dir / project).iterdir() if p.is_dir())
    assert len(runs) == 1, f"expected one run in {runs_dir / project}, found {runs}"
    return runs[0]


def _read_run(folder: Path) -> dict:
    """meta, config, summary, metrics rows and artifact manifest of a run folder."""
    def load(name, default):
        path = folder / name
        return json.loads(path.read_text()) if path.exists() else default
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()
               if line.strip()]
    manifest = folder / "artifacts" / "manifest.jsonl"
    artifacts = ([json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
                 if manifest.exists() else [])
    return {"meta": load("meta.json", {}), "config": load("config.json", {}),
            "summary": load("summary.json", {}), "metrics": metrics, "artifacts": artifacts}


def _values(rows: list[dict], key: str) -> list:
    return [r[key] for r in rows if key in r]


@pytest.fixture
def only_run():
    """``only_run(runs_dir, project)``: the one run folder of a project."""
    return _only_run


@pytest.fixture
def read_run():
    """``read_run(folder)``: meta, config, summary, metrics rows and artifacts of a run."""
    return _read_run


@pytest.fixture
def values():
    """``values(rows, key)``: the values of ``key`` in the rows that hold it."""
    return _values
