"""A failing store never fails training: faults injected in front of the real S3 server.

The client talks HTTP to ``faultproxy.FaultProxy`` on 127.0.0.1, which forwards to moto's
server or answers 500/503, slowly, or ``403 ExpiredToken``; nothing in the client is mocked.
Each test checks what a user would: ``log()`` stayed fast, one warning was said, and every
record is in the bucket once the store is back.
"""
from __future__ import annotations

import json
import threading
import time

import pytest

import runpages
from runpages.sitegen.cli import main

pytestmark = pytest.mark.slow


def _start(url, **kw):
    return runpages.init(project="p", dir=url, sync_interval=0.2, system_metrics=False,
                         capture_console=False, save_code=False, **kw)


def _steps_in_store(s3, run) -> list[int]:
    """The steps a reader of the bucket sees now: the whole file, else its segments joined."""
    fs = s3.fs()
    base = f"{s3.bucket}/runs/p/{run.id}/metrics.jsonl"
    if fs.exists(base):
        data = fs.cat_file(base)
    else:
        data, cur = b"", 0
        for key in sorted(fs.glob(base + ".parts/*")):
            start, end = (int(x) for x in key.rsplit("/", 1)[1].split("-"))
            if start <= cur < end:
                data += fs.cat_file(key)[cur - start:]
                cur = end
    return [json.loads(line)["_step"] for line in data.splitlines()]


def _wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def _upload_warnings(recwarn) -> list[str]:
    """The warnings said when it happened (finish() adds one line counting the repeats)."""
    return [str(w.message) for w in recwarn
            if str(w.message).startswith("runpages: cannot upload")]


def _log(run, steps, slowest):
    for i in steps:
        t = time.perf_counter()
        run.log({"loss": 1.0 / (i + 1)})
        slowest[0] = max(slowest[0], time.perf_counter() - t)


@pytest.mark.parametrize("status,code", [(500, "InternalError"), (503, "SlowDown")])
def test_a_store_answering_errors_for_a_while_costs_training_nothing(proxy, s3, recwarn,
                                                                       status, code):
    run = _start(f"s3://{s3.bucket}/runs")
    slowest = [0.0]
    _log(run, range(10), slowest)
    assert _wait_for(lambda: _steps_in_store(s3, run) == list(range(10)), 10)
    proxy.fail(status, code)
    _log(run, range(10, 40), slowest)
    # the client's own retries give up: the uploader says so, then retries with backoff
    assert _wait_for(lambda: _upload_warnings(recwarn), 20)
    refused = proxy.refused
    assert _wait_for(lambda: proxy.refused > refused, 10)
    proxy.heal()
    # caught up while the run still runs, before finish()
    assert _wait_for(lambda: _steps_in_store(s3, run) == list(range(40)), 15)
    run.finish()
    assert _steps_in_store(s3, run) == list(range(40))
    assert slowest[0] < 0.1
    said = _upload_warnings(recwarn)
    assert len(said) == 1 and "fault proxy" in said[0] and "training goes on" in said[0]


def test_slow_store_responses_never_slow_log(proxy, s3, recwarn):
    run = _start(f"s3://{s3.bucket}/runs")
    proxy.delay = 0.5                  # every request half a second: a pass takes seconds
    slowest = [0.0]
    t0 = time.perf_counter()
    for i in range(200):
        _log(run, [i], slowest)
        time.sleep(0.005)
    assert time.perf_counter() - t0 < 5
    assert slowest[0] < 0.1
    proxy.delay = 0.0
    run.finish()
    assert _steps_in_store(s3, run) == list(range(200))
    assert _upload_warnings(recwarn) == []          # slow is not failed


def test_credentials_expiring_mid_run_then_renewed_lose_nothing(proxy, s3, recwarn, tmp_path,
                                                                 monkeypatch):
    creds = tmp_path / "aws-credentials"

    def credentials(key):
        creds.write_text(f"[default]\naws_access_key_id = {key}\naws_secret_access_key = x\n")
    credentials("OLDKEY")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    run = _start(f"s3://{s3.bucket}/runs")
    slowest = [0.0]
    _log(run, range(10), slowest)
    assert _wait_for(lambda: _steps_in_store(s3, run) == list(range(10)), 10)
    proxy.accept_key = "NEWKEY"        # the old key expired: the store answers ExpiredToken
    _log(run, range(10, 30), slowest)
    assert _wait_for(lambda: _upload_warnings(recwarn), 20)
    refused = proxy.refused
    assert _wait_for(lambda: proxy.refused > refused, 10)     # retried, still refused
    credentials("NEWKEY")              # what `aws sso login` or a credential refresher does
    assert _wait_for(lambda: _steps_in_store(s3, run) == list(range(30)), 15)
    run.finish()
    assert _steps_in_store(s3, run) == list(range(30))
    said = _upload_warnings(recwarn)
    assert len(said) == 1 and "PermissionError" in said[0]
    assert slowest[0] < 0.1


def test_the_store_stopped_for_20_seconds_every_record_arrives(s3, recwarn):
    run = _start(f"s3://{s3.bucket}/runs")
    slowest, stop, step = [0.0], threading.Event(), [0]

    def train():                        # training goes on through the outage
        while not stop.is_set():
            _log(run, [step[0]], slowest)
            step[0] += 1
            time.sleep(0.01)
    trainer = threading.Thread(target=train)
    trainer.start()
    try:
        assert _wait_for(lambda: len(_steps_in_store(s3, run)) > 10, 10)
        s3.stop()
        during = step[0]
        time.sleep(20)
        assert step[0] - during > 500          # about 100 steps a second, store or not
        s3.start()
        logged = step[0]
        assert _wait_for(lambda: _steps_in_store(s3, run)[:logged] == list(range(logged)), 20)
    finally:
        stop.set()
        trainer.join()
    run.finish()
    assert _steps_in_store(s3, run) == list(range(step[0]))
    assert slowest[0] < 0.1
    assert len(_upload_warnings(recwarn)) == 1


def test_a_build_from_a_refusing_store_is_a_clear_message(proxy, s3, tmp_path, capsys):
    proxy.fail(503, "SlowDown")
    code = main(["build", f"s3://{s3.bucket}/runs", "-o", str(tmp_path / "site")])
    assert code == 1
    err = capsys.readouterr().err
    assert "runpages: error: cannot read s3://" in err and "Traceback" not in err
