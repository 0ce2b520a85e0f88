"""The store against a real S3 endpoint (moto's server on 127.0.0.1, over HTTP, through s3fs)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import runpages
from runpages.sitegen.cli import main

pytestmark = pytest.mark.slow


def _metrics_steps(fs, key) -> list[int]:
    return [json.loads(line)["_step"] for line in fs.cat_file(key).splitlines()]


def test_the_store_going_down_mid_run_loses_nothing(s3, recwarn):
    url = f"s3://{s3.bucket}/runs"
    run = runpages.init(project="p", dir=url, sync_interval=0.3, system_metrics=False,
                        capture_console=False)
    for i in range(20):
        run.log({"loss": i})
    time.sleep(1.5)
    s3.stop()
    t0 = time.perf_counter()
    for i in range(20, 60):
        run.log({"loss": i})
    assert time.perf_counter() - t0 < 0.5          # log() never waits on the store
    time.sleep(2.0)
    s3.start()
    run.finish()
    fs = s3.fs()
    key = f"{s3.bucket}/runs/p/{run.id}/metrics.jsonl"
    assert _metrics_steps(fs, key) == list(range(60))
    assert not fs.glob(f"{s3.bucket}/runs/p/{run.id}/metrics.jsonl.parts/*")
    said = [str(w.message) for w in recwarn if "cannot upload" in str(w.message)]
    assert said and "training goes on" in said[0]


WRITER = textwrap.dedent("""
    import sys, time, runpages
    run = runpages.init(project="team", name=sys.argv[1], sync_interval=0.3,
                        system_metrics=False, capture_console=False)
    print(run.id, flush=True)
    for i in range(int(sys.argv[2])):
        run.log({"loss": 1.0 / (i + 1)})
        time.sleep(0.01)
    if sys.argv[3] == "hang":
        print("logged", flush=True)
        time.sleep(600)
    run.finish()
""")


def test_two_machines_log_to_one_bucket_and_a_killed_one_is_completed_by_sync(s3, tmp_path):
    url = f"s3://{s3.bucket}/runs"
    script = tmp_path / "train.py"
    script.write_text(WRITER)

    def machine(name, steps, how):
        env = dict(os.environ, RUNPAGES_DIR=url, RUNPAGES_STAGING=str(tmp_path / f"stage-{name}"))
        return subprocess.Popen([sys.executable, str(script), name, str(steps), how], env=env,
                                stdout=subprocess.PIPE, text=True)

    a = machine("laptop", 50, "finish")
    b = machine("cluster", 80, "hang")
    a_id = a.stdout.readline().strip()
    b_id = b.stdout.readline().strip()
    assert b.stdout.readline().strip() == "logged"
    assert a.wait(60) == 0
    time.sleep(1.5)                     # the killed one's last segments were due
    b.send_signal(signal.SIGKILL)
    b.wait(10)
    fs = s3.fs()
    assert _metrics_steps(fs, f"{s3.bucket}/runs/team/{a_id}/metrics.jsonl") == list(range(50))
    assert not fs.exists(f"{s3.bucket}/runs/team/{b_id}/metrics.jsonl")   # still segments

    site = tmp_path / "site"
    assert main(["build", url, "-o", str(site)]) == 0
    pages = [str(p) for p in site.rglob("*.html")]
    assert any(a_id in p for p in pages) and any(b_id in p for p in pages)

    # the killed job's staging folder: its heartbeat is old enough only after a while, so
    # sync is told the time; it uploads what is left and compacts the run
    from runpages import store
    later = time.time() + store.LIVE_HEARTBEAT_S + 1
    results = store.sync_folder(str(tmp_path / "stage-cluster"), url, now=later)
    assert [r["compacted"] for r in results] == [True]
    assert _metrics_steps(fs, f"{s3.bucket}/runs/team/{b_id}/metrics.jsonl") == list(range(80))
    assert json.loads(fs.cat_file(f"{s3.bucket}/runs/team/{b_id}/meta.json"))["status"] == "running"
    assert not list((tmp_path / "stage-cluster").rglob("meta.json"))   # staged: gone once whole
    assert not list((tmp_path / "stage-laptop").rglob("meta.json"))
    assert main(["build", url, "-o", str(site)]) == 0


def test_runpages_sync_command_uploads_an_offline_runs_folder(s3, tmp_path, capsys):
    runs = tmp_path / "runs"
    run = runpages.init(project="p", dir=str(runs), system_metrics=False, capture_console=False)
    run.log({"loss": 1})
    run.finish()
    assert main(["sync", str(runs), f"s3://{s3.bucket}/runs"]) == 0
    assert "synced 1 runs" in capsys.readouterr().out
    assert s3.fs().exists(f"{s3.bucket}/runs/p/{run.id}/metrics.jsonl")
    assert main(["sync", str(runs), "not-a-url"]) == 1


def test_publish_to_a_bucket_uploads_only_what_changed(s3, tmp_path, capsys):
    runs = tmp_path / "runs"
    run = runpages.init(project="p", dir=str(runs), system_metrics=False, capture_console=False)
    run.log({"loss": 1})
    run.finish()
    to = f"s3://{s3.bucket}/site"
    site = tmp_path / "site"
    assert main(["publish", str(runs), "-o", str(site), "--to", to]) == 0
    out = capsys.readouterr().out
    assert f"{s3.endpoint}/{s3.bucket}/site/index.html" in out
    fs = s3.fs()
    head = fs.info(f"{s3.bucket}/site/index.html")
    assert head["ContentType"].startswith("text/html")
    from runpages.sitegen.publish_store import publish_to_store
    again = publish_to_store(site, to)
    assert again["uploaded"] == 0 and again["deleted"] == 0
    fs.pipe_file(f"{s3.bucket}/site/stale.html", b"old")
    assert publish_to_store(site, to)["deleted"] == 1
    assert not fs.exists(f"{s3.bucket}/site/stale.html")
    static = fs.call_s3("head_object", Bucket=s3.bucket, Key="site/_static/site.js")
    assert static["CacheControl"] == "public, max-age=3600"
    assert static["ContentType"] == "text/javascript; charset=utf-8"
    page = fs.call_s3("head_object", Bucket=s3.bucket, Key="site/index.html")
    assert page["CacheControl"] == "no-cache"


def test_no_credential_lands_in_a_run_the_cache_or_the_site(s3, tmp_path, monkeypatch):
    secret = "SECRET" + os.urandom(6).hex()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)   # moto accepts any key
    url = f"s3://{s3.bucket}/runs"
    run = runpages.init(project="p", dir=url, sync_interval=0.2, system_metrics=False,
                        capture_console=False)
    run.log({"loss": 1})
    run.finish()
    assert main(["build", url, "-o", str(tmp_path / "site")]) == 0
    for folder in (tmp_path / "site", tmp_path / "cache", tmp_path / "staging"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
    fs = s3.fs()
    for key in fs.find(s3.bucket):
        assert secret.encode() not in fs.cat_file(key), key


def test_the_next_init_on_a_machine_uploads_what_a_killed_job_left(s3, tmp_path, monkeypatch):
    url = f"s3://{s3.bucket}/runs"
    script = tmp_path / "train.py"
    script.write_text(WRITER)
    staging = tmp_path / "stage-box"
    env = dict(os.environ, RUNPAGES_DIR=url, RUNPAGES_STAGING=str(staging))
    # a long sync interval: the killed job uploaded (almost) nothing before it died
    job = subprocess.Popen([sys.executable, "-c", WRITER.replace("sync_interval=0.3",
                                                                 "sync_interval=600"),
                            "killed", "40", "hang"], env=env, stdout=subprocess.PIPE, text=True)
    killed_id = job.stdout.readline().strip()
    assert job.stdout.readline().strip() == "logged"
    time.sleep(1.2)                                  # its writer flushed to the staging folder
    job.send_signal(signal.SIGKILL)
    job.wait(10)
    fs = s3.fs()
    assert not fs.exists(f"{s3.bucket}/runs/team/{killed_id}/metrics.jsonl")

    monkeypatch.setenv("RUNPAGES_STAGING", str(staging))        # the same machine, later
    run = runpages.init(project="team", dir=url, sync_interval=0.3, system_metrics=False,
                        capture_console=False)
    key = f"{s3.bucket}/runs/team/{killed_id}/metrics.jsonl"
    deadline = time.time() + 15
    # the uploader names the leftovers once all is done: uploaded, compacted, parts deleted
    # (waiting for metrics.jsonl alone raced the deletion of its parts on a loaded machine)
    while time.time() < deadline and not run.uploader.leftovers:
        time.sleep(0.2)
    assert _metrics_steps(fs, key) == list(range(40))            # compacted, every step
    assert not fs.glob(f"{s3.bucket}/runs/team/{killed_id}/metrics.jsonl.parts/*")
    assert run.uploader.leftovers == [f"{url}/team/{killed_id}"]
    assert not (staging / "team" / killed_id).exists()          # whole in the store: deleted
    run.log({"loss": 1.0})
    run.finish()
    assert not os.path.exists(run.dir)
    # done once: the init after that one leaves it alone
    again = runpages.init(project="team", dir=url, sync_interval=0.3, system_metrics=False,
                          capture_console=False)
    again.finish()
    assert again.uploader.leftovers == []

    # read from the bucket, the killed run is lost (status running, heartbeat stale), the
    # finished one finished
    from runpages import store
    from runpages.sitegen.config import load_config
    from runpages.sitegen.reader import read_runs
    from runpages.sitegen.storemirror import refresh_mirrors

    config, _ = load_config(None, {"runs_dirs": [url], "output": str(tmp_path / "site")})
    refresh_mirrors(config)
    later = time.time() + store.LIVE_HEARTBEAT_S + 60     # past schema.LOST_AFTER_S
    projects, _problems = read_runs(config.runs_dirs, now=later)
    status = {r.id: r.status for p in projects for r in p.runs}
    assert status[killed_id] == "lost" and status[run.id] == "finished"


def _artifact_run(s3, tmp_path):
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights" * 100)
    run = runpages.init(project="p", dir=f"s3://{s3.bucket}/runs", sync_interval=5,
                        system_metrics=False, capture_console=False, save_code=False)
    run.log({"loss": 1.0})
    run.log_artifact(str(model), name="model", type="model")
    run.finish()
    return run


def _artifact_href(site, run) -> str:
    import re

    page = next(p for p in site.rglob("*.html") if run.id in str(p) and "artifact" in p.read_text())
    m = re.search(r'<table class="artifacts">.*?href="([^"]+)"', page.read_text(), re.S)
    assert m, "no artifact link on the run page"
    import html
    return html.unescape(m.group(1))


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as r:      # 127.0.0.1 only
        return r.read()


def test_artifacts_link_copy_skip_from_a_bucket(s3, tmp_path, monkeypatch):
    secret = "SECRET" + os.urandom(6).hex()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)        # moto accepts any key
    run = _artifact_run(s3, tmp_path)
    url = f"s3://{s3.bucket}/runs"

    copied = tmp_path / "copy"                                   # the default: copied as today
    assert main(["build", url, "-o", str(copied)]) == 0
    assert list(copied.rglob("model.bin")) and not _artifact_href(copied, run).startswith("http")

    signed = tmp_path / "link"                                   # site elsewhere: pre-signed
    assert main(["build", url, "-o", str(signed), "--artifacts", "link"]) == 0
    href = _artifact_href(signed, run)
    assert href.startswith(f"{s3.endpoint}/{s3.bucket}/runs/p/{run.id}/artifacts/")
    assert "Signature=" in href and "Expires=" in href                  # SigV2 or SigV4 query
    assert not list(signed.rglob("model.bin"))
    assert _get(href) == b"weights" * 100
    for path in signed.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path

    skipped = tmp_path / "skip"
    assert main(["build", url, "-o", str(skipped), "--artifacts", "skip"]) == 0
    assert not list(skipped.rglob("model.bin"))
    assert "artifacts = skip" in next(p for p in skipped.rglob("*.html")
                                      if run.id in str(p) and "artifacts" in p.read_text()).read_text()


def test_artifacts_link_leaves_artifact_objects_in_the_store_not_in_the_mirror(s3, tmp_path):
    from runpages.sitegen.storemirror import mirror_dir

    run = _artifact_run(s3, tmp_path)
    folder = tmp_path / "ckpt"
    for i in range(3):
        (folder / f"shard{i}.bin").parent.mkdir(exist_ok=True)
        (folder / f"shard{i}.bin").write_bytes(b"s" * 10)
    again = runpages.init(project="p", dir=f"s3://{s3.bucket}/runs", id=run.id, resume="allow",
                          system_metrics=False, capture_console=False, save_code=False)
    again.log_artifact(str(folder), name="ckpt", type="checkpoint")
    again.finish()
    url = f"s3://{s3.bucket}/runs"
    site = tmp_path / "site"
    assert main(["build", url, "-o", str(site), "--artifacts", "link"]) == 0
    held = mirror_dir(url) / "p" / run.id
    assert (held / "artifacts" / "manifest.jsonl").is_file()      # the reader lists artifacts
    assert not [p for p in (held / "artifacts").rglob("*") if p.is_file()
                and p.name != "manifest.jsonl"], "artifact objects were downloaded"
    href = _artifact_href(site, run)
    assert "Signature=" in href and _get(href) == b"weights" * 100
    page = next(p for p in site.rglob("*.html") if run.id in str(p) and "artifact" in p.read_text())
    assert "folder of 3 files, in the store" in page.read_text()
    # the same mirror then built with copy fetches them after all
    copied = tmp_path / "copy"
    assert main(["build", url, "-o", str(copied)]) == 0
    assert list((held / "artifacts").rglob("model.bin")) and list(copied.rglob("model.bin"))


def test_artifacts_link_in_a_site_published_to_the_same_bucket_is_the_public_url(s3, tmp_path):
    run = _artifact_run(s3, tmp_path)
    # a bucket serving a site is public-read; here the whole bucket, as the README says
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{s3.bucket}/*"}]}
    s3.fs().call_s3("put_bucket_policy", Bucket=s3.bucket, Policy=json.dumps(policy))
    site = tmp_path / "site"
    assert main(["publish", f"s3://{s3.bucket}/runs", "-o", str(site),
                 "--to", f"s3://{s3.bucket}/site", "--artifacts", "link"]) == 0
    href = _artifact_href(site, run)
    assert href.startswith(f"{s3.endpoint}/{s3.bucket}/runs/p/{run.id}/artifacts/")
    assert "Signature" not in href
    assert _get(href) == b"weights" * 100
    assert not s3.fs().glob(f"{s3.bucket}/site/**/model.bin")


def test_the_mirror_of_a_running_run_grows_with_each_pass(s3, tmp_path):
    """s3fs caches folder listings and its cat_file trusts them: a mirror pass must not."""
    from runpages.sitegen.storemirror import mirror, mirror_dir

    url = f"s3://{s3.bucket}/runs"
    run = runpages.init(project="p", dir=url, sync_interval=0.2, system_metrics=False,
                        capture_console=False, save_code=False)
    local = mirror_dir(url)
    seen = []
    for rnd in range(3):
        for i in range(10):
            run.log({"loss": float(rnd * 10 + i)})
        deadline = time.time() + 10
        target = local / "p" / run.id / "metrics.jsonl"
        while time.time() < deadline:
            mirror(url, local)
            if target.is_file() and len(target.read_bytes().splitlines()) == 10 * (rnd + 1):
                break
            time.sleep(0.2)
        seen.append(len(target.read_bytes().splitlines()))
    run.finish()
    assert seen == [10, 20, 30]


def _finished_run(url: str, steps: int = 5):
    run = runpages.init(project="p", dir=url, sync_interval=5, system_metrics=False,
                        capture_console=False)
    for i in range(steps):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    return run


def test_a_rebuild_with_nothing_changed_gets_no_object(proxy, s3, tmp_path):
    url = f"s3://{s3.bucket}/runs"
    for _ in range(3):
        _finished_run(url)
    assert main(["build", url, "-o", str(tmp_path / "site")]) == 0
    assert proxy.object_gets > 0
    before = proxy.object_gets
    assert main(["build", url, "-o", str(tmp_path / "site")]) == 0
    assert proxy.object_gets == before          # one listing, no GET


def test_publish_from_a_bucket_without_o_fetches_only_what_changed(proxy, s3, tmp_path, capsys):
    """publish without -o builds in a throw-away folder; the bucket's mirror is kept."""
    url = f"s3://{s3.bucket}/runs"
    _finished_run(url)
    to = f"s3://{s3.bucket}/site"
    assert main(["publish", url, "--to", to]) == 0
    first = proxy.object_gets
    assert first > 0
    assert main(["publish", url, "--to", to]) == 0
    assert proxy.object_gets == first            # nothing changed: nothing fetched again
    grown = _finished_run(url)                   # one new run: only its objects
    assert main(["publish", url, "--to", to]) == 0
    fetched = proxy.object_gets - first
    objects = [k for k, v in s3.fs().find(f"{s3.bucket}/runs/p/{grown.id}", detail=True).items()
               if v["size"]]
    assert 0 < fetched <= len(objects)
    assert "published to" in capsys.readouterr().out


def test_a_run_whose_upload_failed_keeps_its_staging_folder_until_sync(s3, tmp_path, monkeypatch):
    from runpages import store

    monkeypatch.setattr(store, "FINISH_TIMEOUT_S", 1.0)
    url = f"s3://{s3.bucket}/runs"
    run = runpages.init(project="p", dir=url, sync_interval=30, system_metrics=False,
                        capture_console=False)
    for i in range(5):
        run.log({"loss": float(i)})
    s3.stop()
    import warnings

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        run.finish()
    assert any("not fully uploaded" in str(w.message) for w in said)
    assert os.path.isfile(os.path.join(run.dir, "metrics.jsonl"))         # kept for sync
    s3.start()
    assert main(["sync", str(tmp_path / "staging"), url]) == 0
    assert _metrics_steps(s3.fs(), f"{s3.bucket}/runs/p/{run.id}/metrics.jsonl") == list(range(5))
    assert not os.path.exists(run.dir)                                     # now whole: deleted
