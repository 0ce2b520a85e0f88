"""Derived values the pages show: durations, best values, the main metric, key orders."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from runpages.sitegen.model import Project, Run, apply_main_metrics, flatten, metric_direction


def model_run(id="r1", meta=None, config=None, summary=None, metrics=None, system=None, **kw) -> Run:
    frame = pd.DataFrame(metrics if metrics is not None else {"_step": [], "_time": []})
    return Run(id=id, project="p", name=id, dir="/x/" + id, meta=meta or {}, config=config or {},
               summary=summary or {}, metrics=frame,
               system=pd.DataFrame(system if system is not None else {"_time": []}), **kw)


@pytest.mark.parametrize("key,direction", [
    ("train/loss", "min"), ("val_loss", "min"), ("eval/perplexity", "min"), ("val/ppl", "min"),
    ("test/wer", "min"), ("cer", "min"), ("val/mse", "min"), ("mae", "min"), ("rmse", "min"),
    ("top1_err", "min"), ("val/error_rate", "min"),
    ("val/acc", "max"), ("accuracy", "max"), ("f1", "max"), ("bleu", "max"), ("reward", "max"),
])
def test_metric_direction_guesses_from_the_name(key, direction):
    assert metric_direction(key) == direction


def test_best_and_last_values_follow_the_direction_and_skip_nan():
    run = model_run(metrics={"_step": [0, 1, 2, 3], "_time": [0.0, 1, 2, 3],
                            "val/loss": [0.9, 0.3, 0.5, np.nan], "val/acc": [0.1, 0.8, 0.7, 0.75]})
    assert run.best_value("val/loss") == 0.3 and run.best_step("val/loss") == 1
    assert run.best_value("val/acc") == 0.8
    assert run.last_value("val/loss") == 0.5 and run.last_value("val/acc") == 0.75
    assert run.last_value("nope") is None and run.best_value("nope") is None
    assert run.metric_keys == ["val/loss", "val/acc"]


def test_metric_that_diverged_to_inf_keeps_inf_as_its_last_value():
    run = model_run(metrics={"_step": [0, 1], "_time": [0.0, 1.0], "loss": [1.0, math.inf]})
    assert run.last_value("loss") == math.inf and run.best_value("loss") == 1.0


def test_duration_of_finished_run_is_end_minus_start():
    assert model_run(meta={"started_at": 100.0, "ended_at": 160.5}).duration_s == 60.5


def test_duration_of_running_run_goes_to_last_heartbeat_or_record():
    run = model_run(meta={"started_at": 100.0, "heartbeat_at": 150.0},
                   metrics={"_step": [0], "_time": [170.0], "loss": [1.0]})
    assert run.duration_s == 70.0
    assert model_run(meta={"started_at": 100.0, "heartbeat_at": 130.0}).duration_s == 30.0
    assert model_run(meta={}).duration_s is None


@pytest.mark.parametrize("git,short", [
    ({"commit": "0123456789abcdef", "dirty": False}, "0123456"),
    ({"commit": "0123456789abcdef", "dirty": True}, "0123456*"),
    ({}, ""), (None, ""), ("garbage", ""),
])
def test_git_short_has_seven_chars_and_a_dirty_mark(git, short):
    assert model_run(meta={"git": git}).git_short == short


def test_flatten_joins_nested_config_with_slash():
    assert flatten({"opt": {"name": "adam", "betas": [0.9, 0.99], "x": {"y": 1}}, "lr": 1e-3,
                    "empty": {}}) == {"opt/name": "adam", "opt/betas": [0.9, 0.99],
                                      "opt/x/y": 1, "lr": 1e-3, "empty": {}}


def test_project_main_metric_prefers_validation_accuracy():
    runs = [model_run(summary={"train/loss": 0.1, "val/loss": 0.2, "val/accuracy": 0.9})]
    assert Project("p", runs).main_metric == "val/accuracy"
    runs = [model_run(summary={"train/loss": 0.1, "val/loss": 0.2})]
    assert Project("p", runs).main_metric == "val/loss"
    runs = [model_run(summary={"_runtime": 3, "note": "text", "bleu": 30.0})]
    assert Project("p", runs).main_metric == "bleu"
    assert Project("p", [model_run()]).main_metric is None


def test_configured_main_metric_wins_over_the_guess():
    a = Project("a", [model_run(summary={"val/acc": 0.9, "f1": 0.5})])
    b = Project("b", [model_run(summary={"val/acc": 0.9, "bleu": 0.5})])
    apply_main_metrics([a, b], {"a": "f1"}, default="bleu")
    assert a.main_metric == "f1" and b.main_metric == "bleu"
    apply_main_metrics([a], {}, default="bleu")            # a never logged bleu: keep the guess
    assert a.main_metric == "val/acc"


def test_project_users_last_activity_and_key_order():
    old = model_run("old", meta={"user": "bo", "started_at": 10.0, "ended_at": 20.0},
                   config={"lr": 1, "bs": 2}, summary={"loss": 1.0})
    new = model_run("new", meta={"user": "ana", "started_at": 30.0, "heartbeat_at": 45.0},
                   config={"bs": 3, "dropout": 0.1}, summary={"acc": 1.0, "loss": 2.0})
    new2 = model_run("new2", meta={"user": "ana", "started_at": 31.0})
    project = Project("p", [new2, new, old])                 # newest first, as the reader gives
    assert project.users == ["ana", "bo"]
    assert project.last_activity == 45.0
    assert project.config_keys == ["lr", "bs", "dropout"]     # oldest run's order first
    assert project.summary_keys == ["loss", "acc"]
    assert project.status_counts() == {"running": 3}


def test_run_key_and_plain_accessors():
    run = model_run(meta={"user": "ana", "host": "h", "group": "g", "tags": ["a"], "notes": "n",
                         "command": ["python", "t.py"]})
    assert (run.key, run.user, run.host, run.group, run.tags, run.notes, run.command) == (
        "p/r1", "ana", "h", "g", ["a"], "n", ["python", "t.py"])
    assert model_run(meta={"user": None, "tags": None}).tags == []
