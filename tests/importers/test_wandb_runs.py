"""W&B run folders written by the real wandb package (offline): media files and the history
values that name them become runpages media; a history that stops before the summary's step
is imported with a Problem saying so."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave

import pytest

from runpages.importers import import_source

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

_SCRIPT = """
import numpy as np, wandb
run = wandb.init(project="p", name="media")
for i in range(20):
    row = {"loss": 1 / (i + 1)}
    if i % 10 == 0:
        row.update({
            "val/img": wandb.Image(np.full((8, 8, 3), i * 10, dtype=np.uint8), caption=f"<b>c{i}</b>"),
            "imgs": [wandb.Image(np.zeros((4, 4, 3), dtype=np.uint8), caption="z"),
                     wandb.Image(np.full((4, 4, 3), 255, dtype=np.uint8))],
            "h": wandb.Histogram(np_histogram=([1, 2, 3], [0.0, 1.0, 2.0, 3.0])),
            "tbl": wandb.Table(columns=["id", "text"], data=[[1, "<script>x</script>"], [2, "y"]]),
            "aud": wandb.Audio(AUDIO, caption="beep"),
        })
    run.log(row)
run.finish()
"""


@pytest.fixture(scope="module")
def wandb_run(tmp_path_factory):
    pytest.importorskip("wandb", reason="wandb is not installed")
    pytest.importorskip("numpy")
    root = tmp_path_factory.mktemp("wb")
    audio = root / "beep.wav"
    with wave.open(str(audio), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\0\0" * 80)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
           "WANDB_DIR": str(root), "WANDB_DISABLE_CODE": "true"}
    subprocess.run([sys.executable, "-c", f"AUDIO = {str(audio)!r}\n" + _SCRIPT], env=env,
                   cwd=root, check=True, timeout=180, capture_output=True)
    (run_dir,) = (root / "wandb").glob("offline-run-*")
    return run_dir


def _copy(run_dir, tmp_path):
    dst = tmp_path / "wandb" / run_dir.name
    shutil.copytree(run_dir, dst, symlinks=True)
    return dst


def _index(runs_dir):
    (run,) = [p for p in runs_dir.glob("*/*") if p.is_dir()]
    return run, [json.loads(x) for x in (run / "media.jsonl").read_text().splitlines() if x]


def test_wandb_media_become_runpages_media_with_captions(wandb_run, tmp_path):
    result = import_source(_copy(wandb_run, tmp_path), tmp_path / "runs")
    assert not result.problems
    run, index = _index(tmp_path / "runs")
    got = sorted((r["key"], r["step"], r["kind"], r.get("index"), r["caption"]) for r in index)
    expected = []
    for step in (0, 10):
        expected += [("aud", step, "audio", None, "beep"), ("h", step, "histogram", None, None),
                     ("imgs", step, "image", 0, "z"), ("imgs", step, "image", 1, None),
                     ("tbl", step, "table", None, None),
                     ("val/img", step, "image", None, f"<b>c{step}</b>")]
    assert got == sorted(expected)
    hist = next(r for r in index if r["kind"] == "histogram")
    assert json.loads((run / hist["file"]).read_text()) == {"counts": [1, 2, 3],
                                                            "edges": [0, 1, 2, 3]}
    table = next(r for r in index if r["kind"] == "table")
    assert json.loads((run / table["file"]).read_text()) == {
        "columns": ["id", "text"], "data": [[1, "<script>x</script>"], [2, "y"]]}
    image = next(r for r in index if r["key"] == "val/img" and r["step"] == 10)
    original = next((wandb_run / "files/media/images/val").glob("img_10_*.png")).read_bytes()
    assert (run / image["file"]).read_bytes() == original
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["_step"] for r in rows if "loss" in r] == list(range(20))
    assert not any(k.startswith(("imgs", "val/img", "h/")) for r in rows for k in r)


def test_media_files_without_the_run_file_are_imported_from_their_names(wandb_run, tmp_path):
    run_dir = _copy(wandb_run, tmp_path)
    next(run_dir.glob("*.wandb")).unlink()
    evil = run_dir / "files/media/images/evil_0_0123456789abcdef0123.png"
    evil.symlink_to("/etc/hostname")                    # a symlink out of the run: not read
    import_source(run_dir, tmp_path / "runs")
    _, index = _index(tmp_path / "runs")
    got = sorted({(r["key"], r["step"], r["kind"]) for r in index})
    assert got == sorted((k, s, kind) for s in (0, 10) for k, kind in (
        ("aud", "audio"), ("imgs", "image"), ("tbl", "table"), ("val/img", "image")))


def test_a_history_that_stops_before_the_summary_step_is_imported_with_a_problem(wandb_run,
                                                                                 tmp_path):
    run_dir = _copy(wandb_run, tmp_path)
    wb = next(run_dir.glob("*.wandb"))
    from runpages.importers.wandb import read_run
    full = read_run(run_dir)
    assert max(s for s, _, _ in full.records) == 19 and not full.problems
    summary = run_dir / "files" / "wandb-summary.json"     # as an online run writes it
    summary.write_text(json.dumps({"loss": 0.05, "_step": 19, "_runtime": 3.0}))
    data = wb.read_bytes()
    wb.write_bytes(data[:len(data) // 3])                   # the history stops early
    result = import_source(run_dir, tmp_path / "runs")
    assert len(result.written) == 1
    (problem,) = [p for p in result.problems if "history ends" in p.reason]
    assert "the W&B summary says the run reached step 19" in problem.reason
    (run,) = [p for p in (tmp_path / "runs").glob("*/*") if p.is_dir()]
    meta = json.loads((run / "meta.json").read_text())
    assert any("history ends" in p for p in meta["imported_from"]["problems"])
    assert json.loads((run / "summary.json").read_text())["loss"] == 0.05


def test_the_real_wandb_run_without_history_says_how_far_it_went(real_logs, tmp_path):
    result = import_source(next(real_logs.glob("wandb_run/*/run-*-o5vo12ki")), tmp_path / "runs")
    (problem,) = result.problems
    assert "no .wandb file" in problem.reason
    assert "the summary says the run reached step 62509" in problem.reason


@pytest.mark.parametrize("rel", ["../../../../etc/hostname", "/etc/hostname"])
def test_a_history_media_path_out_of_the_run_folder_is_a_problem_not_a_read(tmp_path, rel):
    from runpages.importers.common import Imported
    from runpages.importers.wandb_media import Resolver
    (tmp_path / "run" / "files").mkdir(parents=True)
    imp = Imported(format="wandb", source=str(tmp_path / "run"), name="x")
    media = Resolver(str(tmp_path / "run"), imp).media({"_type": "image-file", "path": rel})
    assert media is None
    assert [p.reason for p in imp.problems] == ["media path leads out of the run folder; skipped"]
