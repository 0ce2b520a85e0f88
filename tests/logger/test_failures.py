"""Wrong use fails fast; after init, nothing the logger does raises into training."""
from __future__ import annotations

import errno
import json
import os
import warnings
from pathlib import Path

import pytest

import runpages
from runpages import api as api_module
from runpages import schema, writer
from runpages.warn import RunpagesWarning
from tests.logger.conftest import delete_live_folder, wait_until


def test_log_with_a_string_names_the_fix(live_run):
    run = live_run()
    with pytest.raises(TypeError, match=r"takes a dict of values, e\.g\. run\.log\(\{'loss'"):
        run.log("loss")


def test_module_log_before_init_names_runpages_init(monkeypatch):
    monkeypatch.setattr(api_module, "_current", None)
    monkeypatch.setattr(api_module, "_last_finished", None)  # no run in this process yet
    with pytest.raises(RuntimeError, match=r"before runpages\.init\(\)"):
        runpages.log({"loss": 1.0})


def test_log_after_finish_warns_and_is_ignored(live_run, files):
    run = live_run()
    run.finish()
    with pytest.warns(RunpagesWarning, match="finished"):
        run.log({"x": 1})
    assert files.metrics(run.dir) == []


@pytest.mark.parametrize("kwargs, match", [({"mode": "turbo"}, "mode must be"),
                                           ({"resume": "yes"}, "resume must be"),
                                           ({"system_interval": 0}, "system_interval"),
                                           ({"colour": "red"}, "unexpected")])
def test_bad_init_arguments_fail_at_init(live_run, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        live_run(**kwargs)


def test_disabled_mode_writes_nothing(tmp_path):
    run = runpages.init(project="p", dir=tmp_path / "r", mode="disabled", config={"lr": 1})
    run.log({"x": 1})
    run.log({"x": 2}, step=5, commit=False)
    run.summary["best"] = 1.0
    run.config["more"] = 2
    assert run.log_artifact("does-not-matter") is None
    run.log_system({"cpu/host_pct": 1.0})
    runpages.log({"x": 3})
    run.finish()
    with runpages.init(project="p", dir=tmp_path / "r", mode="disabled") as r2:
        r2.log({"y": 1})
    assert not (tmp_path / "r").exists()
    assert run.config["lr"] == 1 and run.summary["best"] == 1.0


def test_runpages_mode_env_disables_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNPAGES_MODE", "disabled")
    monkeypatch.setattr(api_module, "_current", None)
    runpages.log({"before": 1})   # a no-op, not an error, when disabled
    run = runpages.init(project="p", dir=tmp_path / "r")
    run.log({"x": 1})
    runpages.finish()
    assert not (tmp_path / "r").exists()


def test_disabled_run_still_rejects_a_non_dict(tmp_path):
    run = runpages.init(project="p", dir=tmp_path / "r", mode="disabled")
    with pytest.raises(TypeError):
        run.log(1.0)


def test_run_folder_deleted_mid_run_warns_and_training_continues(live_run, files):
    run = live_run()
    run.log({"x": 1})
    assert wait_until(lambda: Path(run.dir, schema.METRICS_FILE).stat().st_size > 0)
    delete_live_folder(run.dir)
    with pytest.warns(RunpagesWarning, match="deleted"):
        for i in range(3):
            run.log({"x": 2 + i})
        run._files.flush()
        run.finish()
    assert [r["x"] for r in files.metrics(run.dir)] == [2, 3, 4]
    assert files.meta(run.dir)["status"] == schema.FINISHED


def test_disk_full_warns_once_keeps_records_and_writes_them_later(live_run, files, monkeypatch):
    run = live_run()
    real_write = os.write
    failing = [True]

    def write(fd, data):
        if failing[0]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(writer.os, "write", write)
    with pytest.warns(RunpagesWarning, match="No space left") as rec:
        for i in range(3):
            run.log({"x": i})
            run._files.flush()
    assert sum("No space" in str(w.message) for w in rec) == 1
    failing[0] = False
    with pytest.warns(RunpagesWarning, match="No space left on device \\(3 times\\)"):
        run.finish()
    assert [r["x"] for r in files.metrics(run.dir)] == [0, 1, 2]


def test_short_writes_are_completed_not_torn(live_run, files, monkeypatch):
    run = live_run()
    real_write = os.write

    def short_write(fd, data):  # the kernel may write fewer bytes than asked
        return real_write(fd, bytes(data[:7]))

    monkeypatch.setattr(writer.os, "write", short_write)
    for i in range(20):
        run.log({"x": i, "y": "text"})
    run.finish()
    assert [r["x"] for r in files.metrics(run.dir)] == list(range(20))


def test_failing_meta_write_does_not_raise(live_run, monkeypatch, files):
    run = live_run()
    monkeypatch.setattr(writer.os, "replace",
                        lambda *a: (_ for _ in ()).throw(OSError(errno.EDQUOT, "Quota")))
    with pytest.warns(RunpagesWarning, match="Quota"):
        run.summary["x"] = 1
        run.finish()


def test_warnings_turned_into_errors_still_do_not_raise(live_run, capfd):
    run = live_run()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run.log({"bad": object()})
        run.finish()
    assert "cannot log object" in capfd.readouterr().err


def test_unwritable_dir_fails_at_init_with_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match="cannot create a run folder in .*RUNPAGES_DIR"):
        runpages.init(project="p", dir=blocker, system_metrics=False, capture_console=False)


def test_logging_from_many_threads_loses_nothing(live_run, files):
    import threading
    run = live_run()

    def work(k):
        for i in range(200):
            run.log({f"t{k}": i})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.finish()
    rows = files.metrics(run.dir)
    assert len(rows) == 800 and sorted(r["_step"] for r in rows) == list(range(800))


def test_resuming_after_a_torn_last_line_reads_back_clean_under_strict(tmp_path):
    from runpages.sitegen.cli import main

    runs = tmp_path / "runs"
    first = runpages.init(project="p", dir=runs, name="torn", system_metrics=False, capture_console=False)
    first.log({"a": 1.0})
    first.finish()
    metrics = Path(first.dir) / "metrics.jsonl"
    with open(metrics, "a") as f:
        f.write('{"_step": 1, "_time": 1.0, "a": 2.0}\n{"_step": 5, "a"')   # killed mid-write
    again = runpages.init(project="p", dir=runs, id=first.id, resume="must", system_metrics=False,
                          capture_console=False)
    again.log({"a": 3.0})
    again.finish()
    lines = metrics.read_text().splitlines()
    assert [json.loads(x)["a"] for x in lines] == [1.0, 2.0, 3.0]
    empty = runpages.init(project="p", dir=runs, name="nothing-yet", system_metrics=False,
                          capture_console=False)
    empty.finish()
    assert main(["build", str(runs), "-o", str(tmp_path / "site"), "--strict"]) == 0


def test_config_is_written_again_when_the_run_folder_was_deleted(live_run, files):
    run = live_run(config={"lr": 3e-4, "model": {"depth": 12}})
    run.log({"x": 1})
    run._files.flush()
    delete_live_folder(run.dir)
    with pytest.warns(RunpagesWarning, match="deleted"):
        run.log({"x": 2})
        # the next tick writes every rewritten file again, within about a second
        assert wait_until(lambda: Path(run.dir, schema.CONFIG_FILE).exists(), timeout=5)
        run.finish()
    assert files.config(run.dir) == {"lr": 3e-4, "model": {"depth": 12}}
    assert files.meta(run.dir)["status"] == schema.FINISHED
    assert "x" in files.summary(run.dir)


def test_config_is_written_at_finish_when_the_folder_went_just_before(live_run, files):
    run = live_run(config={"seed": 7})
    run._files.flush()
    delete_live_folder(run.dir)
    with pytest.warns(RunpagesWarning, match="deleted"):
        run.log({"x": 1})
        run.finish()
    assert files.config(run.dir) == {"seed": 7}


def test_a_burst_past_64_kb_is_written_by_log_itself_before_the_tick(live_run):
    from runpages.writer import FLUSH_AT_BYTES
    run = live_run()
    run._files.stop()                # no ticker: only the size bound can write
    pad = "y" * 200
    n = FLUSH_AT_BYTES // 200 + 50
    for i in range(n):
        run.log({"i": i, "pad": pad})
    size = Path(run.dir, schema.METRICS_FILE).stat().st_size
    assert size >= FLUSH_AT_BYTES
    lines = Path(run.dir, schema.METRICS_FILE).read_text().splitlines()
    assert len(lines) < n and [json.loads(x)["i"] for x in lines] == list(range(len(lines)))
