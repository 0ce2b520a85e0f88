"""SIGTERM / SIGINT at any moment of finish() or a flush: the run still ends killed or finished
with every record written exactly once.

One driver process imports the logger once and forks a child per case (real processes, real
signals sent with kill(2)); in each child a timer thread sends the signal 0-30 ms after finish()
starts, or while the training loop logs (so flushes by size run on the main thread). Each
child also counts, in memory shared with the driver, the log() calls that returned: those are
the records that must be in the file.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runpages import schema
from tests.logger.conftest import REPO

pytestmark = pytest.mark.slow

DRIVER = textwrap.dedent(r"""
    import json, mmap, os, signal, sys, threading, time
    import runpages

    runs, cases = sys.argv[1], json.loads(sys.argv[2])
    done = mmap.mmap(-1, 8)                 # log() calls that returned, written by the child

    def child(case):
        sig = getattr(signal, case["signal"])
        signal.signal(sig, signal.default_int_handler if case["handler"] == "python"
                      else signal.SIG_DFL)
        run = runpages.init(project="p", dir=runs, id=case["id"], system_metrics=False,
                            capture_console=case["console"])
        go = threading.Event()

        def fire():
            go.wait()
            time.sleep(case["delay"])
            os.kill(os.getpid(), sig)
        threading.Thread(target=fire, daemon=True).start()
        pad = "x" * 150                      # ~200 bytes a record: flushes by size happen
        if case["when"] == "logging":
            go.set()
        for k in range(case["steps"]):
            run.log({"k": k, "loss": 1.0 / (k + 1), "pad": pad})
            done[:8] = (k + 1).to_bytes(8, "little")
        if case["when"] == "finish":
            go.set()
        run.finish()
        time.sleep(1.0)                      # the signal may come after finish(): it still lands

    for case in cases:
        done[:8] = bytes(8)
        pid = os.fork()
        if pid == 0:
            try:
                child(case)
            except BaseException:           # uncaught, as in a script: the excepthook runs
                sys.excepthook(*sys.exc_info())
            import atexit
            atexit._run_exitfuncs()          # and the exit handlers, then the child is gone
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"id": case["id"], "status": status,
                          "returned": int.from_bytes(done[:8], "little")}), flush=True)
""")


# the signal, and what was installed for it before init(): Python's KeyboardInterrupt raiser
# (SIGINT in a terminal), or the default action (the process dies by the signal)
KINDS = (("SIGTERM", "dfl"), ("SIGINT", "python"), ("SIGINT", "dfl"))


def cases() -> list[dict]:
    out = []
    for i in range(60):
        when = "finish" if i % 3 else "logging"
        if when == "finish":    # finish() takes a few ms: half the signals land inside it
            delay = (i % 10) * 0.0004 if i % 2 else (i % 31) * 0.001
        else:
            delay = 0.005 + (i % 13) * 0.002
        sig, handler = KINDS[(i // 3) % len(KINDS)]
        out.append({"id": f"case-{i:02d}", "when": when, "delay": delay, "signal": sig,
                    "handler": handler, "console": i % 4 == 0,
                    "steps": 3000 if when == "finish" else 20000})
    return out


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32",
                    reason="needs POSIX signals and fork")
def test_a_signal_during_finish_or_a_flush_leaves_every_record_written_exactly_once(tmp_path):
    runs = tmp_path / "runs"
    todo = cases()
    res = subprocess.run([sys.executable, "-c", DRIVER, str(runs), json.dumps(todo)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    results = {r["id"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert len(results) == len(todo), res.stderr[-2000:]
    bad = []
    for case in todo:
        run_dir = runs / "p" / case["id"]
        meta = json.loads((run_dir / schema.META_FILE).read_text())
        text = (run_dir / schema.METRICS_FILE).read_text()
        steps = [json.loads(line)["_step"] for line in text.splitlines()]
        returned = results[case["id"]]["returned"]
        why = []
        if meta["status"] not in (schema.KILLED, schema.FINISHED) or meta["ended_at"] is None:
            why.append(f"status {meta['status']}, ended_at {meta['ended_at']}")
        if text and not text.endswith("\n"):
            why.append("torn last line")
        if steps != list(range(len(steps))):
            why.append(f"{len(steps)} lines, {len(set(steps))} distinct steps")
        if not returned <= len(steps) <= returned + 1:   # the call in flight may be written
            why.append(f"{len(steps)} records written, {returned} log() calls returned")
        if case["when"] == "finish" and len(steps) != case["steps"]:
            why.append(f"{len(steps)} of {case['steps']} records")
        if why:
            bad.append(f"{case}: {'; '.join(why)}")
    assert not bad, "\n".join(bad[:10])
    killed = sum(json.loads((runs / "p" / c["id"] / schema.META_FILE).read_text())["status"]
                 == schema.KILLED for c in todo)
    print(f"signals: {len(todo)} cases held, {killed} killed, {len(todo) - killed} finished")
