"""Step semantics of log(values, step=None, commit=True) and resuming a run."""
from __future__ import annotations

import json

import pytest

from runpages import schema
from runpages.warn import RunpagesWarning


def steps(files, run):
    return [(r["_step"], {k: v for k, v in r.items() if not k.startswith("_")})
            for r in files.metrics(run.dir)]


def test_steps_count_up_from_zero(live_run, files):
    run = live_run()
    for i in range(3):
        run.log({"x": i})
    run.finish()
    assert steps(files, run) == [(0, {"x": 0}), (1, {"x": 1}), (2, {"x": 2})]


def test_commit_false_merges_into_one_step(live_run, files):
    run = live_run()
    run.log({"a": 1}, commit=False)
    run.log({"b": 2}, commit=False)
    assert run.step == 0
    run.log({"c": 3})
    run.log({"d": 4})
    run.finish()
    assert steps(files, run) == [(0, {"a": 1, "b": 2, "c": 3}), (1, {"d": 4})]


def test_uncommitted_values_are_written_at_finish(live_run, files):
    run = live_run()
    run.log({"a": 1}, commit=False)
    run.finish()
    assert steps(files, run) == [(0, {"a": 1})]


def test_explicit_step_may_repeat_and_auto_step_continues_after_it(live_run, files):
    run = live_run()
    run.log({"train/loss": 1.0}, step=100)
    run.log({"val/acc": 0.5}, step=100)
    run.log({"train/loss": 0.9})
    run.finish()
    assert steps(files, run) == [(100, {"train/loss": 1.0}), (100, {"val/acc": 0.5}),
                                 (101, {"train/loss": 0.9})]


def test_explicit_step_with_commit_false_merges_until_the_step_changes(live_run, files):
    run = live_run()
    run.log({"a": 1}, step=5, commit=False)
    run.log({"b": 2}, step=5, commit=False)
    run.log({"c": 3}, step=6, commit=False)
    run.finish()
    assert steps(files, run) == [(5, {"a": 1, "b": 2}), (6, {"c": 3})]


def test_step_going_backwards_warns_once_and_keeps_the_record(live_run, files):
    run = live_run()
    run.log({"x": 1}, step=10)
    with pytest.warns(RunpagesWarning, match="step 3 is lower than step 10") as rec:
        run.log({"x": 2}, step=3)
        run.log({"x": 3}, step=2)
    assert sum("lower than" in str(w.message) for w in rec) == 1
    with pytest.warns(RunpagesWarning, match="2 times"):
        run.finish()
    assert [s for s, _ in steps(files, run)] == [10, 3, 2]


def test_numpy_int_step_is_accepted(live_run, files):
    np = pytest.importorskip("numpy")
    run = live_run()
    run.log({"x": 1}, step=np.int64(7))
    run.finish()
    assert steps(files, run) == [(7, {"x": 1})]


@pytest.mark.parametrize("bad", [1.5, "3", True])
def test_step_of_wrong_type_fails_at_the_call(live_run, bad):
    run = live_run()
    with pytest.raises(TypeError, match="step must be an int"):
        run.log({"x": 1}, step=bad)


def test_reserved_keys_are_dropped_with_a_warning(live_run, files):
    run = live_run()
    with pytest.warns(RunpagesWarning, match="set by the logger"):
        run.log({"_step": 99, "x": 1})
    run.finish()
    assert steps(files, run) == [(0, {"x": 1})]


def test_resume_continues_steps_and_keeps_config(live_run, files):
    first = live_run(name="long", config={"lr": 0.1})
    for i in range(3):
        first.log({"loss": 1.0 / (i + 1)})
    first.finish()
    again = live_run(id=first.id, resume="allow", config={"epochs": 9})
    assert again.dir == first.dir and again.step == 3
    again.log({"loss": 0.1})
    again.finish()
    assert [r["_step"] for r in files.metrics(first.dir)] == [0, 1, 2, 3]
    assert files.config(first.dir) == {"lr": 0.1, "epochs": 9}
    meta = files.meta(first.dir)
    assert meta["name"] == "long" and meta["status"] == schema.FINISHED
    assert len(meta["resumed_at"]) == 1
    assert files.summary(first.dir)["loss"] == 0.1


def test_resume_after_a_torn_last_line_cuts_the_fragment_and_keeps_lines_apart(live_run, files):
    run = live_run()
    run.log({"loss": 1.0})
    run.finish()
    path = f"{run.dir}/{schema.METRICS_FILE}"
    with open(path, "a") as f:
        f.write('{"_step":1,"_time":1.0,"lo')      # killed mid-write
    again = live_run(id=run.id, resume="must")
    again.log({"loss": 0.5})
    again.finish()
    lines = open(path).read().splitlines()
    assert len(lines) == 2 and all(json.loads(x) for x in lines)    # the fragment was never a record
    assert '"loss":0.5' in lines[1] and lines[1].startswith('{"_step":1,')


def test_resume_after_a_whole_record_without_its_newline_keeps_that_record(live_run, files):
    run = live_run()
    run.log({"loss": 1.0})
    run.finish()
    path = f"{run.dir}/{schema.METRICS_FILE}"
    with open(path, "a") as f:
        f.write('{"_step":1,"_time":1.0,"loss":0.7}')     # killed between the record and "\n"
    again = live_run(id=run.id, resume="must")
    again.log({"loss": 0.5})
    again.finish()
    assert [json.loads(x)["loss"] for x in open(path).read().splitlines()] == [1.0, 0.7, 0.5]


def test_resume_allow_with_a_new_id_starts_that_run(live_run):
    run = live_run(id="my-run-1", resume="allow")
    assert run.id == "my-run-1" and run.step == 0


def test_resume_must_without_the_run_fails_at_init(live_run):
    with pytest.raises(FileNotFoundError, match="no run 'ghost'"):
        live_run(id="ghost", resume="must")


def test_existing_id_without_resume_fails_at_init(live_run):
    run = live_run(id="taken")
    run.finish()
    with pytest.raises(FileExistsError, match="resume='allow'"):
        live_run(id="taken")


def test_unsafe_id_fails_at_init(live_run):
    with pytest.raises(ValueError, match="names a folder"):
        live_run(id="../escape")
