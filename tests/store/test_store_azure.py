"""The store over Azure Blob: Azurite (the npm package) on 127.0.0.1, through adlfs (``az://``).

The same as the S3 tests check: segments while a run runs, a compacted run when it finishes,
a build from the container, publish of changed files only with the right headers, and the
container going away for a while mid-run.
"""
from __future__ import annotations

import json
import time

import pytest

import runpages
from runpages.sitegen.cli import main

pytestmark = pytest.mark.slow


def _steps(data: bytes) -> list[int]:
    return [json.loads(line)["_step"] for line in data.splitlines()]


def _wait(check, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not check():
        time.sleep(0.2)
    return check()


def test_a_run_goes_up_to_azure_blob_and_builds_into_a_site(azurite, tmp_path):
    url = f"az://{azurite.container}/runs"
    fs = azurite.fs()
    run = runpages.init(project="p", dir=url, sync_interval=0.2, system_metrics=False,
                        capture_console=False, save_code=False)
    for i in range(20):
        run.log({"loss": 1.0 / (i + 1)})
    parts = f"{azurite.container}/runs/p/{run.id}/metrics.jsonl.parts"
    assert _wait(lambda: fs.exists(parts) and fs.ls(parts)), "no segment while running"
    for key in fs.ls(parts):
        assert fs.cat_file(key).endswith(b"\n")
    run.finish()
    base = f"{azurite.container}/runs/p/{run.id}"
    assert _steps(fs.cat_file(f"{base}/metrics.jsonl")) == list(range(20))
    assert json.loads(fs.cat_file(f"{base}/meta.json"))["status"] == "finished"
    assert not fs.glob(f"{parts}/*")

    site = tmp_path / "site"
    assert main(["build", url, "-o", str(site)]) == 0
    assert any(run.id in str(p) for p in site.rglob("*.html"))
    run2 = runpages.init(project="p", dir=url, sync_interval=0.2, system_metrics=False,
                         capture_console=False, save_code=False)
    run2.log({"loss": 0.1})
    run2.finish()
    from runpages.sitegen.storemirror import mirror, mirror_dir
    stats = mirror(url, mirror_dir(url))
    assert 1 <= stats.fetched <= 8            # the new run's objects only, not the first run's
    assert main(["build", url, "-o", str(site)]) == 0
    assert any(run2.id in str(p) for p in site.rglob("*.html"))


def test_publish_to_azure_blob_uploads_only_what_changed(azurite, tmp_path, capsys):
    runs = tmp_path / "runs"
    run = runpages.init(project="p", dir=str(runs), system_metrics=False, capture_console=False)
    run.log({"loss": 1})
    run.finish()
    to = f"az://{azurite.container}/site"
    site = tmp_path / "site"
    assert main(["publish", str(runs), "-o", str(site), "--to", to]) == 0
    fs = azurite.fs()
    info = fs.info(f"{azurite.container}/site/_static/site.js")
    assert info["content_settings"]["content_type"] == "text/javascript; charset=utf-8"
    assert info["content_settings"]["cache_control"] == "public, max-age=3600"
    page = fs.info(f"{azurite.container}/site/index.html")["content_settings"]
    assert page["content_type"].startswith("text/html") and page["cache_control"] == "no-cache"
    from runpages.sitegen.publish_store import publish_to_store
    again = publish_to_store(site, to)
    assert again["uploaded"] == 0 and again["deleted"] == 0
    fs.pipe_file(f"{azurite.container}/site/stale.html", b"old")
    assert publish_to_store(site, to)["deleted"] == 1


def test_azure_going_away_mid_run_loses_nothing(azurite, recwarn):
    url = f"az://{azurite.container}/runs"
    run = runpages.init(project="p", dir=url, sync_interval=0.2, system_metrics=False,
                        capture_console=False, save_code=False)
    for i in range(10):
        run.log({"loss": i})
    time.sleep(1.0)
    azurite.stop()
    t0 = time.perf_counter()
    for i in range(10, 40):
        run.log({"loss": i})
    assert time.perf_counter() - t0 < 0.5
    assert _wait(lambda: any(str(w.message).startswith("runpages: cannot upload") for w in recwarn), 30)
    azurite.start()                            # same port, same --location: the data is kept
    run.finish()
    base = f"{azurite.container}/runs/p/{run.id}"
    assert _steps(azurite.fs().cat_file(f"{base}/metrics.jsonl")) == list(range(40))
