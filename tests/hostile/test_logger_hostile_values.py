"""Hostile values handed to the logger: it warns once and never raises into the script, and it
never writes what its reader would reject."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

import runpages
from runpages import schema
from runpages.sitegen.reader import read_run


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNPAGES_MODE", raising=False)
    monkeypatch.delenv("RUNPAGES_DIR", raising=False)
    r = runpages.init(project="p", dir=tmp_path / "runs", system_metrics=False, capture_console=False)
    yield r
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r.finish()


def _lines(run, name=schema.METRICS_FILE):
    return [json.loads(x) for x in Path(run.dir, name).read_text().splitlines() if x]


def _warned(record, text):
    """Warnings about ``text``, leaving out finish()'s line that counts repeats."""
    return [w for w in record if text in str(w.message) and "repeated" not in str(w.message)]


def test_lone_surrogates_are_written_as_replacement_characters_with_one_warning(run):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        run.log({"name\udc80": "bad \ud800 text", "emoji": "\U0001F600"})
        run.log({"again\ud800": 1.0})
        run.config["opt\udcff"] = "x\ud801"
        run.summary["best\ud800"] = "y\udc00"
        run.finish()
    assert len(_warned(got, "lone surrogates")) == 1
    first = _lines(run)[0]
    assert first["name\ufffd"] == "bad \ufffd text" and first["emoji"] == "\U0001F600"
    for name in (schema.METRICS_FILE, schema.CONFIG_FILE, schema.SUMMARY_FILE, schema.META_FILE):
        text = Path(run.dir, name).read_text()
        assert "\\ud800" not in text and "\\udc" not in text, name
    _, problems = read_run(run.dir)
    assert not [p for p in problems if "surrogate" in p.reason]


def test_a_step_past_two_to_the_53_is_refused_with_one_warning(run):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        run.log({"x": 1.0}, step=5)
        run.log({"x": 2.0}, step=2 ** 53 + 1)
        run.log({"x": 3.0}, step=2 ** 60)
        run.log({"x": 4.0})
        run.finish()
    assert len(_warned(got, "above 2**53")) == 1
    assert [r["_step"] for r in _lines(run)] == [5, 6]
    r, problems = read_run(run.dir)
    assert r.metrics["_step"].tolist() == [5, 6] and not problems


def test_a_self_referencing_dict_in_summary_warns_and_does_not_raise(run):
    d = {"a": 1}
    d["self"] = d
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        run.summary["loop"] = d           # used to raise RecursionError into the script
        run.log({"loop": d})
        run.finish()
    assert len(_warned(got, "a dict that holds itself")) == 1
    summary = json.loads(Path(run.dir, schema.SUMMARY_FILE).read_text())
    assert summary["loop/a"] == 1
    r, problems = read_run(run.dir)
    assert r is not None and not problems
