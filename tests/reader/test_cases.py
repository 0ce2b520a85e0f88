"""The readable cases in tests/cases/reader/*.case (format in its README.md), each read by
the line-by-line parser and by the pyarrow fast path: both must give what the case expects."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from runpages.sitegen import reader

CASES = Path(__file__).resolve().parents[1] / "cases" / "reader"
NOW = 1764000000.0
NO_NEWLINE = "\\ No newline at end of file"


def parse_case(path: Path) -> tuple[str, dict[str, str], dict]:
    title, files, current, lines = "", {}, None, []

    def close():
        if current is not None:
            text = "".join(lines)
            files[current] = text
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("title:") and current is None:
            title = line[len("title:"):].strip()
        elif line.startswith("--- "):
            close()
            current, lines = line[4:].strip(), []
        elif line.rstrip("\n") == NO_NEWLINE:
            lines[-1] = lines[-1].rstrip("\n")
        else:
            lines.append(line)
    close()
    expected = json.loads(files.pop("expected"))
    return title, files, expected


def as_float(v):
    if v is None:
        return math.nan
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v)


def same(a, b) -> bool:
    a, b = as_float(a), as_float(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def match_problem(got: str, want: str) -> bool:
    return got.startswith(want[:-1]) if want.endswith("*") else got == want


@pytest.mark.parametrize("path", sorted(CASES.glob("*.case")), ids=lambda p: p.stem)
@pytest.mark.parametrize("parser", ["line-by-line", "fast-path"])
def test_reader_case(path, parser, tmp_path, monkeypatch):
    title, files, want = parse_case(path)
    assert title, f"{path.name} needs a title"
    monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0 if parser == "fast-path" else 10**12)
    run_dir = tmp_path / "p" / "r"
    run_dir.mkdir(parents=True)
    for name, text in files.items():
        (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / name).write_bytes(text.encode("utf-8"))

    run, problems = reader.read_run(run_dir, now=NOW)

    got_problems = [str(p).removeprefix(f"{run_dir}/") for p in problems]
    if "problems" in want:
        assert len(got_problems) == len(want["problems"]), got_problems
        for g, w in zip(got_problems, want["problems"]):
            assert match_problem(g, w), (g, w)
    if want.get("skipped"):
        assert run is None
        return
    assert run is not None, got_problems
    for key in ("status", "name", "metric_keys", "config"):
        if key in want:
            assert getattr(run, key) == want[key], key
    if "steps" in want:
        assert run.metrics["_step"].tolist() == want["steps"]
    for key, values in want.get("metrics", {}).items():
        got = run.metrics[key].tolist()
        assert len(got) == len(values) and all(map(same, got, values)), (key, got)
        # "NaN" is a logged NaN, null a step where the key was not logged: never the same
        steps = run.metrics["_step"].tolist()
        nan_steps = set(run.nan_steps.get(key, ()))
        assert [s for s, v in zip(steps, values) if v == "NaN"] == sorted(nan_steps), (key, nan_steps)
    if "text_keys" in want:
        assert {k: [list(e) for e in v] for k, v in run.text_keys.items()} == want["text_keys"]
    if "summary" in want:
        assert run.summary.keys() == want["summary"].keys()
        assert all(same(run.summary[k], v) for k, v in want["summary"].items()), run.summary
