"""Crash safety and concurrency with real processes: kill -9, exceptions, signals, races."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runpages import names, schema
from tests.logger.conftest import REPO, wait_until

pytestmark = pytest.mark.slow

LOOP = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal
import runpages
run = runpages.init(project="p", dir="runs", name="loop", system_metrics=False)
print(run.dir, flush=True)
i = 0
while True:
    run.log({"i": i, "t": time.time()})
    i += 1
    time.sleep(0.002)
"""


def start_loop(script, code=LOOP):
    proc = script(code)
    run_dir = Path(proc.stdout.readline().strip())
    assert run_dir.is_dir(), proc.stderr.read()
    metrics = run_dir / schema.METRICS_FILE
    wait_until(lambda: metrics.stat().st_size > 0, timeout=10)
    time.sleep(0.5)
    return proc, run_dir


def complete_lines(path: Path) -> tuple[list[dict], str]:
    text = path.read_text()
    *lines, last = text.split("\n")
    return [json.loads(line) for line in lines], last  # json.loads raises on a corrupt line


def test_kill_9_loses_at_most_the_last_second_and_no_line_is_corrupt(script):
    proc, run_dir = start_loop(script)
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    rows, torn = complete_lines(run_dir / schema.METRICS_FILE)
    assert torn == "" or not torn.endswith("}")      # at most one torn last line
    assert [r["_step"] for r in rows] == list(range(len(rows)))
    assert rows[-1]["t"] >= killed_at - schema.FLUSH_INTERVAL_S - 0.5   # slack for a busy CI


def test_heartbeat_stopped_by_kill_9_leaves_status_running_for_readers_to_call_lost(script):
    proc, run_dir = start_loop(script)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    meta = json.loads((run_dir / schema.META_FILE).read_text())
    assert meta["status"] == schema.RUNNING and meta["ended_at"] is None
    assert meta["heartbeat_at"] <= time.time()
    # a reader `LOST_AFTER_S` later sees a stale heartbeat: lost
    assert time.time() + schema.LOST_AFTER_S - meta["heartbeat_at"] > schema.LOST_AFTER_S


def test_unhandled_exception_marks_crashed_with_traceback(script):
    proc = script("""
        import runpages
        run = runpages.init(project="p", dir="runs", system_metrics=False)
        print(run.dir, flush=True)
        run.log({"loss": 1.0})
        def train():
            raise ValueError("loss exploded")
        train()
    """)
    out, err = proc.communicate(timeout=30)
    run_dir = Path(out.splitlines()[0])
    assert proc.returncode == 1 and "ValueError: loss exploded" in err  # traceback still shown
    meta = json.loads((run_dir / schema.META_FILE).read_text())
    assert meta["status"] == schema.CRASHED
    assert meta["exit"]["reason"] == "ValueError: loss exploded"
    assert "in train" in meta["exit"]["traceback"]
    assert json.loads((run_dir / schema.METRICS_FILE).read_text())["loss"] == 1.0
    assert "ValueError: loss exploded" in (run_dir / schema.CONSOLE_FILE).read_text()


def test_sigterm_marks_killed_flushes_and_the_process_still_dies_by_sigterm(script):
    proc, run_dir = start_loop(script)
    sent_at = time.time()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == -signal.SIGTERM
    meta = json.loads((run_dir / schema.META_FILE).read_text())
    assert meta["status"] == schema.KILLED and meta["exit"]["reason"] == "SIGTERM"
    assert meta["ended_at"] is not None
    rows, torn = complete_lines(run_dir / schema.METRICS_FILE)
    assert torn == "" and rows[-1]["t"] >= sent_at - 0.5   # everything up to the signal


def test_sigint_marks_killed(script):
    proc, run_dir = start_loop(script)
    proc.send_signal(signal.SIGINT)
    proc.wait(10)
    assert proc.returncode in (-signal.SIGINT, 1, 130)
    meta = json.loads((run_dir / schema.META_FILE).read_text())
    assert meta["status"] == schema.KILLED and meta["exit"]["reason"] == "SIGINT"
    assert meta["ended_at"] is not None


def test_a_previous_sigterm_handler_still_runs(script, tmp_path):
    proc, run_dir = start_loop(script, LOOP.replace("import runpages", """
def mine(signum, frame):
    open("handler-ran", "w").close()
    sys.exit(3)
signal.signal(signal.SIGTERM, mine)
import runpages"""))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 3
    assert (tmp_path / "handler-ran").exists()
    meta = json.loads((run_dir / schema.META_FILE).read_text())
    assert meta["status"] == schema.KILLED and meta["ended_at"] is not None


def test_script_that_never_calls_finish_is_finished_at_exit(script):
    proc = script("""
        import runpages
        run = runpages.init(project="p", dir="runs", system_metrics=False)
        print(run.dir, flush=True)
        for i in range(50):
            run.log({"i": i})
    """)
    out, err = proc.communicate(timeout=30)
    run_dir = Path(out.splitlines()[0])
    meta = json.loads((run_dir / schema.META_FILE).read_text())
    assert proc.returncode == 0 and meta["status"] == schema.FINISHED, err
    assert len((run_dir / schema.METRICS_FILE).read_text().splitlines()) == 50


def test_two_processes_logging_to_one_project_never_touch_each_others_files(script, tmp_path):
    code = """
        import sys, runpages
        key = sys.argv[1] if len(sys.argv) > 1 else "{key}"
        run = runpages.init(project="shared", dir="runs", name="same-name", system_metrics=False)
        for i in range(300):
            run.log({{"{key}": i}})
        print(run.dir)
        run.finish()
    """
    procs = [script(code.format(key=k)) for k in ("a", "b")]
    dirs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        dirs.append(Path(out.strip()))
    assert dirs[0] != dirs[1] and dirs[0].parent == dirs[1].parent
    for d, key in zip(dirs, ("a", "b")):
        rows = [json.loads(line) for line in (d / schema.METRICS_FILE).read_text().splitlines()]
        assert [r[key] for r in rows] == list(range(300))
        assert all(set(r) == {"_step", "_time", key} for r in rows)


def test_many_processes_starting_in_the_same_second_get_unique_ids(script):
    code = """
        import runpages
        run = runpages.init(project="p", dir="runs", name="sweep", clock=lambda: 1.7e9,
                          system_metrics=False, capture_console=False)
        print(run.id)
        run.finish()
    """
    procs = [script(code) for _ in range(8)]
    ids = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(i.startswith("20231114-221320-sweep-") for i in ids), ids
    assert len(set(ids)) == 8


def test_run_id_clash_draws_a_new_random_tail(tmp_path, monkeypatch):
    tails = iter(["aaaaaa", "aaaaaa", "bbbbbb"])
    monkeypatch.setattr(names, "random_tail", lambda: next(tails))
    first, _ = names.create_run_dir(str(tmp_path), "x", 1.7e9)
    second, _ = names.create_run_dir(str(tmp_path), "x", 1.7e9)
    assert first.endswith("-aaaaaa") and second.endswith("-bbbbbb")


def test_import_runpages_loads_no_heavy_module():
    # how long the import takes is measured in benchmarks/bench_logger.py, not asserted here
    code = ("import sys; import runpages; "
            "print([m for m in ('pandas', 'bokeh', 'pyarrow', 'numpy', 'torch', 'psutil', "
            "'pynvml', 'jinja2', 'runpages.sitegen') if m in sys.modules])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_like_a_dataloader_worker_writes_nothing(script):
    proc = script("""
        import os, runpages
        run = runpages.init(project="p", dir="runs", system_metrics=False)
        print(run.dir, flush=True)
        run.log({"parent": 1})
        pid = os.fork()
        if pid == 0:
            print("from the child")
            run.log({"child": 1})
            os._exit(0)
        os.waitpid(pid, 0)
        run.log({"parent": 2})
        run.finish()
    """)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    run_dir = Path(out.splitlines()[0])
    rows = [json.loads(x) for x in (run_dir / schema.METRICS_FILE).read_text().splitlines()]
    assert [r.get("parent") for r in rows] == [1, 2] and "from the child" in out
    assert json.loads((run_dir / schema.META_FILE).read_text())["status"] == schema.FINISHED


FULL_SPEED = """
import sys, time
import runpages
run = runpages.init(project="p", dir="runs", name="fast", system_metrics=False,
                    capture_console=False)
print(run.dir, flush=True)
i = 0
while True:                                     # as fast as log() goes: no sleep
    run.log({"i": i, "t": time.time(), "loss": 0.5, "lr": 3e-4})
    i += 1
"""


def test_kill_9_at_full_logging_speed_loses_under_a_second_and_under_64_kb(script):
    from runpages.writer import FLUSH_AT_BYTES
    proc, run_dir = start_loop(script, FULL_SPEED)
    time.sleep(1.7)                  # mid-way between two ticks of the 1 s schedule, roughly
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    rows, torn = complete_lines(run_dir / schema.METRICS_FILE)
    assert [r["i"] for r in rows] == list(range(len(rows)))
    lost_s = killed_at - rows[-1]["t"]
    per_record = (run_dir / schema.METRICS_FILE).stat().st_size / len(rows)
    # records written by size: what a kill loses is one buffer, a few ms of logging here
    assert lost_s < 0.5, f"lost the last {lost_s:.2f} s"
    logged_after = lost_s * len(rows) / (rows[-1]["t"] - rows[0]["t"])
    assert logged_after * per_record < FLUSH_AT_BYTES * 2 + 4096, (lost_s, logged_after)


def test_kill_9_at_a_slow_logging_rate_loses_at_most_the_last_second(script):
    # 100 steps a second is ~6 KB/s: nothing fills the 64 KB buffer, the 1 s tick writes
    proc, run_dir = start_loop(script, LOOP.replace("time.sleep(0.002)", "time.sleep(0.01)"))
    time.sleep(2.5)
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    rows, _ = complete_lines(run_dir / schema.METRICS_FILE)
    assert [r["i"] for r in rows] == list(range(len(rows)))
    # 1 s of schedule; 0.1 s for the ticker to get a shared, busy CPU
    assert killed_at - rows[-1]["t"] <= schema.FLUSH_INTERVAL_S + 0.1


RESUMER = """
import sys, time, warnings
import runpages
tag, hold = sys.argv[1], float(sys.argv[2])
warnings.simplefilter("always")
run = runpages.init(project="p", dir="runs", id="shared-run", resume="allow",
                    name="shared", config={"who": tag}, system_metrics=False,
                    capture_console=False)
print(run.dir, flush=True)
for i in range(200):
    run.log({tag: i})
time.sleep(hold)                 # still writing while the other one starts
run.finish()
"""


def test_two_processes_resuming_one_run_at_once_lose_nothing_and_the_second_is_told(script):
    from runpages.sitegen.reader import read_run
    first = script(RESUMER.replace("sys.argv[1], float(sys.argv[2])", "'a', 3.0"))
    first_dir = Path(first.stdout.readline().strip())
    second = script(RESUMER.replace("sys.argv[1], float(sys.argv[2])", "'b', 0.0"))
    out_b, err_b = second.communicate(timeout=60)
    out_a, err_a = first.communicate(timeout=60)
    assert first.returncode == 0 and second.returncode == 0, err_a + err_b
    second_dir = Path(out_b.strip())
    assert "is being written by pid" in err_b and "new run folder" in err_b, err_b
    assert second_dir != first_dir and second_dir.parent == first_dir.parent
    run_a, problems_a = read_run(first_dir)
    run_b, problems_b = read_run(second_dir)
    assert run_a.metrics["a"].tolist() == list(range(200)) and "b" not in run_a.metrics
    assert run_b.metrics["b"].tolist() == list(range(200)) and "a" not in run_b.metrics
    # the second says which run it could not join
    meta_b = json.loads((second_dir / schema.META_FILE).read_text())
    assert meta_b["resume_conflict"]["id"] == "shared-run" and meta_b["name"] == "shared"
    assert json.loads((second_dir / schema.CONFIG_FILE).read_text()) == {"who": "b"}


def test_resuming_after_the_writer_ended_joins_the_same_folder(script):
    first = script(RESUMER.replace("sys.argv[1], float(sys.argv[2])", "'a', 0.0"))
    out_a, _ = first.communicate(timeout=60)
    second = script(RESUMER.replace("sys.argv[1], float(sys.argv[2])", "'b', 0.0"))
    out_b, err_b = second.communicate(timeout=60)
    assert out_a.strip() == out_b.strip() and "being written" not in err_b
    rows = [json.loads(x) for x in Path(out_a.strip(), schema.METRICS_FILE).read_text().splitlines()]
    assert [r["_step"] for r in rows] == list(range(400))


def test_resuming_a_run_killed_with_kill_9_is_not_a_conflict(script):
    proc, run_dir = start_loop(script, LOOP.replace('name="loop"', 'name="loop", id="k9"'))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    again = script(RESUMER.replace('id="shared-run"', 'id="k9"')
                   .replace("sys.argv[1], float(sys.argv[2])", "'b', 0.0"))
    out, err = again.communicate(timeout=60)
    assert Path(out.strip()) == run_dir and "being written" not in err, err
