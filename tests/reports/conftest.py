"""Fixtures for the report tests: the logbook of ``logbook.py``, written once per session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from logbook import write_logbook  # noqa: E402


@pytest.fixture(scope="session")
def logbook(tmp_path_factory) -> Path:
    return write_logbook(tmp_path_factory.mktemp("logbook") / "runs")


@pytest.fixture(scope="session")
def projects(logbook):
    from runpages.sitegen.reader import read_runs

    found, problems = read_runs([str(logbook)])
    assert not problems, problems
    return found
