"""TensorBoard event folders as torch's SummaryWriter writes them: add_scalars and add_hparams
sub-folders belong to their run, hparams keep their types, each metric its own wall time, and
images, histograms and text become media."""
from __future__ import annotations

import json
import time

import pytest

from runpages.importers import import_source

pytest.importorskip("tensorboard", reason="tensorboard is not installed")
torch = pytest.importorskip("torch", reason="torch is not installed (writes the event files)")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _lines(folder, name):
    path = folder / name
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def _writer(path):
    from torch.utils.tensorboard import SummaryWriter
    return SummaryWriter(str(path))


def _only_run(runs_dir):
    runs = sorted(p for p in runs_dir.glob("*/*") if p.is_dir())
    assert len(runs) == 1, runs
    return runs[0]


def test_add_scalars_and_add_hparams_sub_folders_belong_to_their_run(tmp_path):
    w = _writer(tmp_path / "tb" / "run1")
    for i in range(3):
        w.add_scalar("train/loss", 1 / (i + 1), i)
        w.add_scalars("loss/compare", {"train": 1.0 * i, "val": 2.0 * i}, i)
    w.add_hparams({"lr": 0.1, "layers": 3, "batch": 32, "opt": "adam", "bn": True},
                  {"hp/acc": 0.9})              # default run_name: a timestamp sub-folder
    w.close()
    assert len([p for p in (tmp_path / "tb" / "run1").iterdir() if p.is_dir()]) == 3
    result = import_source(tmp_path / "tb", tmp_path / "runs")
    assert len(result.written) == 1 and result.found == {"tensorboard": 1}
    run = _only_run(tmp_path / "runs")
    config = json.loads((run / "config.json").read_text())
    assert config == {"lr": 0.1, "layers": 3, "batch": 32, "opt": "adam", "bn": True}
    assert type(config["layers"]) is int and type(config["batch"]) is int
    assert json.loads((run / "summary.json").read_text())["hp/acc"] == pytest.approx(0.9)
    rows = _lines(run, "metrics.jsonl")
    assert [(r["_step"], r["loss/compare/val"]) for r in rows if "loss/compare/val" in r] == [
        (0, 0.0), (1, 2.0), (2, 4.0)]
    assert [r["_step"] for r in rows if "loss/compare/train" in r] == [0, 1, 2]
    assert not any("hp/acc" in r for r in rows)
    assert json.loads((run / "meta.json").read_text())["name"] == "tb/run1"


def test_each_metric_keeps_its_own_wall_time_at_a_shared_step(tmp_path):
    w = _writer(tmp_path / "tb")
    for i in range(3):
        w.add_scalar("train/loss", 1.0 / (i + 1), i)
        time.sleep(0.05)
        w.add_scalar("val/loss", 2.0 / (i + 1), i)
    w.close()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    ea = EventAccumulator(str(tmp_path / "tb"))
    ea.Reload()
    original = {(tag, e.step): round(e.wall_time, 3) for tag in ("train/loss", "val/loss")
                for e in ea.Scalars(tag)}
    import_source(tmp_path / "tb", tmp_path / "runs")
    run = _only_run(tmp_path / "runs")
    rows = _lines(run, "metrics.jsonl")
    got = {(k, r["_step"]): r["_time"] for r in rows for k in ("train/loss", "val/loss") if k in r}
    assert got == original
    assert got[("train/loss", 1)] != got[("val/loss", 1)]
    from runpages.sitegen.reader import read_run
    frame = read_run(run)[0].metrics
    assert frame.loc[frame["_step"] == 1, ["train/loss", "val/loss"]].values.tolist() == [
        [0.5, 1.0]]


def test_separate_writers_in_sub_folders_stay_separate_runs(tmp_path):
    for sub in ("train", "eval"):
        w = _writer(tmp_path / "logs" / sub)
        w.add_scalar("loss", 1.0, 0)
        w.close()
    result = import_source(tmp_path / "logs", tmp_path / "runs")
    assert len(result.written) == 2


def test_images_histograms_and_text_are_imported_as_media(tmp_path):
    np = pytest.importorskip("numpy")
    w = _writer(tmp_path / "tb")
    rng = np.random.default_rng(0)
    for step in (0, 10):
        w.add_scalar("loss", 1.0, step)
        img = np.zeros((3, 8, 12), dtype=np.float32)
        img[0] = step / 10
        w.add_image("samples/pred", img, step)
        w.add_histogram("weights/fc1", rng.normal(size=1000), step)
        w.add_text("notes", f"<script>alert(1)</script> step {step}", step)
    w.close()
    import_source(tmp_path / "tb", tmp_path / "runs")
    run = _only_run(tmp_path / "runs")
    index = _lines(run, "media.jsonl")
    kinds = sorted((r["key"], r["step"], r["kind"]) for r in index)
    assert kinds == [("notes", 0, "table"), ("notes", 10, "table"),
                     ("samples/pred", 0, "image"), ("samples/pred", 10, "image"),
                     ("weights/fc1", 0, "histogram"), ("weights/fc1", 10, "histogram")]
    image = next(r for r in index if r["kind"] == "image" and r["step"] == 10)
    data = (run / image["file"]).read_bytes()
    assert data.startswith(b"\x89PNG") and image["shape"] == [8, 12]
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(data)).getpixel((0, 0))[0] == 255
    hist = json.loads((run / next(r for r in index if r["kind"] == "histogram")["file"]).read_text())
    assert sum(hist["counts"]) == 1000 and len(hist["edges"]) == len(hist["counts"]) + 1
    assert hist["edges"] == sorted(hist["edges"])
    text = json.loads((run / next(r for r in index if r["kind"] == "table")["file"]).read_text())
    assert text == {"columns": ["text"], "data": [["<script>alert(1)</script> step 0"]]}


def test_tensorflow_style_open_buckets_are_clamped_to_the_data_range():
    from runpages.importers.media import histogram_edges
    big = 1.7976931348623157e308
    counts, edges = histogram_edges([-big, -1.0, 0.0, 1.0, big], [0, 2, 3, 0, 0], -1.5, 0.5)
    assert counts == [2.0, 3.0] and edges == [-1.5, -1.0, 0.0]
    counts, edges = histogram_edges([1.0, 2.0], [0, 0], 0.0, 0.0)
    assert counts == [] and edges == []
