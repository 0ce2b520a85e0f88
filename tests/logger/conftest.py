"""Fixtures for the logger's tests: runs written through the real logger into tmp folders."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

import runpages
from runpages import schema

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_runpages_env(monkeypatch):
    monkeypatch.delenv("RUNPAGES_MODE", raising=False)
    monkeypatch.delenv("RUNPAGES_DIR", raising=False)


@pytest.fixture
def live_run(tmp_path):
    """``live_run(**init_kwargs)``: a live ``Run`` under tmp_path for a test to drive (quiet by
    default, finished after). A whole finished run folder is the root ``make_run``."""
    started = []

    def make(**kwargs):
        kwargs.setdefault("dir", tmp_path / "runs")
        kwargs.setdefault("project", "proj")
        kwargs.setdefault("system_metrics", False)
        kwargs.setdefault("capture_console", False)
        run = runpages.init(**kwargs)
        started.append(run)
        return run

    yield make
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for run in started:
            run.finish()


def read_jsonl(path) -> list[dict]:
    text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def wait_until(predicate, timeout=5.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; its last answer."""
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def delete_live_folder(path, attempts=50) -> None:
    """``rmtree`` a folder a live run is writing. The run's ticker may land a file in it while
    the tree is being deleted (a heartbeat's temp file), which makes the last ``rmdir`` fail
    with ENOTEMPTY; delete again until the folder is gone, as a user's ``rm -rf`` would."""
    import errno
    import shutil
    for _ in range(attempts):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                raise
    shutil.rmtree(path)


def _reader(read, *parts):
    return lambda d: read(Path(d, *parts))


@pytest.fixture
def files():
    """Readers for a run folder: files.metrics(run_dir), files.meta(run_dir), ..."""
    return SimpleNamespace(
        metrics=_reader(read_jsonl, schema.METRICS_FILE),
        system=_reader(read_jsonl, schema.SYSTEM_FILE),
        manifest=_reader(read_jsonl, schema.ARTIFACTS_DIR, schema.ARTIFACT_MANIFEST),
        meta=_reader(read_json, schema.META_FILE),
        config=_reader(read_json, schema.CONFIG_FILE),
        summary=_reader(read_json, schema.SUMMARY_FILE),
    )


@pytest.fixture
def script(tmp_path):
    """``script(code, **popen_kwargs) -> Popen``: a real Python process using the logger."""
    procs = []

    def start(code: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
        path = tmp_path / f"script{len(procs)}.py"
        path.write_text(textwrap.dedent(code), encoding="utf-8")
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        full_env.pop("RUNPAGES_MODE", None)
        proc = subprocess.Popen([sys.executable, str(path)], cwd=tmp_path, env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
