"""Plain-text logs as users have them: stdout pasted into Markdown, slurm .out files, a log a
restarted script appended to (one run per session), and --pattern over a folder of other files."""
from __future__ import annotations

import json

import pytest

from runpages.importers import ImportSourceError, detect, import_source

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _runs(runs_dir):
    out = {}
    for folder in sorted(p for p in runs_dir.glob("*/*") if p.is_dir()):
        meta = json.loads((folder / "meta.json").read_text())
        rows = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines() if x]
        console = folder / "console.log"
        out[meta["name"]] = {"meta": meta, "rows": rows,
                             "console": console.read_text() if console.exists() else ""}
    return out


def _steps(text_lines):
    return "".join(f"step {s} | loss: {1 / (s + 1):.4f}\n" for s in text_lines)


@pytest.mark.parametrize("name", ["results.md", "slurm-4242.out", "train.txt", "job.err",
                                  "stdout"])
def test_logs_with_other_extensions_are_detected_in_a_folder(tmp_path, name):
    body = _steps(range(5))
    if name.endswith(".md"):
        body = "# My run\n\nOutput:\n\n```\n" + body + "```\n"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / name).write_text(body)
    assert detect(tmp_path / "src") == "text"
    result = import_source(tmp_path / "src", tmp_path / "runs")
    assert len(result.written) == 1
    run = next(iter(_runs(tmp_path / "runs").values()))
    assert [r["_step"] for r in run["rows"]] == [0, 1, 2, 3, 4]


def test_a_log_whose_steps_restart_at_zero_is_one_run_per_session(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("starting run A\n" + _steps(range(0, 30, 10))
                   + "Traceback (most recent call last):\n  File \"train.py\", line 3\n"
                   "RuntimeError: CUDA out of memory\n"
                   "starting run B (resumed)\n" + _steps(range(0, 50, 10)) + "done\n")
    result = import_source(log, tmp_path / "runs")
    assert len(result.written) == 2 and len(set(result.written)) == 2
    runs = _runs(tmp_path / "runs")
    one, two = runs["train (session 1)"], runs["train (session 2)"]
    assert [r["_step"] for r in one["rows"]] == [0, 10, 20]
    assert [r["_step"] for r in two["rows"]] == [0, 10, 20, 30, 40]
    assert one["console"].startswith("starting run A")
    assert one["console"].rstrip().endswith("RuntimeError: CUDA out of memory")
    assert two["console"].startswith("starting run B") and two["console"].endswith("done\n")
    assert one["meta"]["status"] == "crashed"
    assert one["meta"]["exit"]["reason"] == "RuntimeError: CUDA out of memory"
    assert two["meta"]["status"] == "finished"
    again = import_source(log, tmp_path / "runs")
    assert sorted(again.skipped) == sorted(result.written) and not again.written


def test_steps_counted_within_each_epoch_run_on_in_one_run(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("".join(f"Epoch {e} step {s} loss {s / 10 + e}\n"
                           for e in (1, 2) for s in (0, 1, 2)))
    import_source(log, tmp_path / "runs")
    (run,) = _runs(tmp_path / "runs").values()
    assert [(r["_step"], r["Epoch"]) for r in run["rows"]] == [
        (0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 2)]


def test_pattern_never_turns_an_unrelated_file_into_an_empty_run(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "README.md").write_text("# notes\nnothing to see\n")
    (src / "other.log").write_text("INFO started\nINFO done\n")
    (src / "train.log").write_text("[it 10] loss=1.2\n[it 20] loss=0.9\n")
    pattern = r"\[it (?P<step>\d+)\] loss=(?P<loss>\S+)"
    result = import_source(src, tmp_path / "runs", pattern=pattern)
    assert len(result.written) == 1
    assert list(_runs(tmp_path / "runs")) == ["train"]
    assert result.notes == ["2 files not imported (no metrics found in them): README.md, other.log"]
    with pytest.raises(ImportSourceError, match="matched no line"):
        import_source(src / "other.log", tmp_path / "runs", pattern=pattern)
