"""Each media kind written by the logger and read back by the reader, from numpy, torch and PIL."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import runpages
from tests.media.helpers import by_key, read, start


def _png(run_read, item):
    return PILImage.open(Path(run_read.dir) / item.file)


def test_images_from_numpy_torch_pil_and_a_path_read_back_with_shape_and_caption(tmp_path):
    torch = pytest.importorskip("torch")
    src = tmp_path / "cat.png"
    PILImage.new("RGB", (10, 6), (0, 255, 0)).save(src)
    run = start(tmp_path)
    hwc = np.zeros((8, 12, 3), np.uint8)
    hwc[..., 0] = 255
    run.log({"np": runpages.Image(hwc, caption="red"),
             "chw": runpages.Image(np.ones((3, 5, 7), np.float32)),          # CHW float in [0, 1]
             "torch": runpages.Image(torch.zeros(3, 4, 9)),
             "pil": runpages.Image(PILImage.new("L", (3, 2), 128)),
             "path": runpages.Image(str(src), caption="from a file")})
    run.finish()
    r, problems = read(run)
    assert not problems
    got = {m.key: m for m in r.media}
    assert got["np"].caption == "red" and _png(r, got["np"]).getpixel((0, 0))[:3] == (255, 0, 0)
    assert _png(r, got["chw"]).size == (7, 5) and _png(r, got["chw"]).getpixel((0, 0))[:3] == (255, 255, 255)
    assert _png(r, got["torch"]).size == (9, 4)
    assert _png(r, got["pil"]).size == (3, 2)
    assert got["path"].caption == "from a file" and _png(r, got["path"]).size == (10, 6)
    assert got["np"].file.startswith("media/np/0-") and got["np"].extra["shape"] == [8, 12, 3]


def test_a_large_image_gets_a_thumbnail_and_index_lines_carry_size_and_sha256(tmp_path):
    run = start(tmp_path)
    run.log({"big": runpages.Image(np.random.default_rng(0).integers(0, 255, (600, 400, 3), dtype=np.uint8))})
    run.finish()
    line = json.loads((Path(run.dir) / "media.jsonl").read_text().splitlines()[0])
    assert {"step", "time", "key", "kind", "file", "caption", "shape", "bytes", "sha256"} <= set(line)
    assert (Path(run.dir) / line["file"]).stat().st_size == line["bytes"]
    thumb = PILImage.open(Path(run.dir) / line["thumb"])
    assert max(thumb.size) == 256


def test_without_pillow_images_are_written_by_the_stdlib_png_writer(tmp_path, monkeypatch):
    from runpages import media_encode
    monkeypatch.setattr(media_encode, "_pil", lambda: None)
    run = start(tmp_path)
    img = np.zeros((300, 20, 4), np.uint8)
    img[..., 2] = 200
    img[..., 3] = 255
    run.log({"x": runpages.Image(img)})
    run.finish()
    r, _ = read(run)
    (item,) = r.media
    assert _png(r, item).getpixel((0, 0)) == (0, 0, 200, 255)
    assert max(PILImage.open(Path(r.dir) / item.thumb).size) <= 256


def test_a_list_of_images_at_one_step_keeps_its_order(tmp_path):
    run = start(tmp_path)
    run.log({"val/samples": [runpages.Image(np.full((4, 4), v, np.uint8), caption=f"pred {v}")
                             for v in (10, 20, 30)]})
    run.finish()
    r, _ = read(run)
    items = sorted(by_key(r, "val/samples"), key=lambda m: m.index)
    assert [m.caption for m in items] == ["pred 10", "pred 20", "pred 30"]
    assert all(m.file.startswith("media/val/samples/0-") for m in items)


def test_video_in_wandb_tchw_order_becomes_a_webm_with_the_video_extra(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    run = start(tmp_path)
    run.log({"rollout": runpages.Video(np.zeros((30, 3, 15, 21), np.uint8), fps=15)})
    run.finish()
    r, _ = read(run)
    (item,) = r.media
    data = (Path(r.dir) / item.file).read_bytes()
    assert item.file.endswith(".webm") and data[:4] == b"\x1a\x45\xdf\xa3"   # EBML header
    assert item.extra == {"shape": [30, 15, 21, 3], "fps": 15}


def test_without_the_video_extra_array_video_becomes_an_animated_gif_and_a_path_is_copied(
        tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)     # as if not installed
    mp4 = tmp_path / "rollout.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42fake")
    run = start(tmp_path)
    frames = np.zeros((5, 3, 16, 24), np.uint8)          # (T, C, H, W)
    frames[:, 1] = np.arange(5)[:, None, None] * 50
    run.log({"rollout": runpages.Video(frames, fps=10), "file": runpages.Video(str(mp4))})
    run.finish()
    r, problems = read(run)
    assert not problems
    gif = by_key(r, "rollout")[0]
    img = PILImage.open(Path(r.dir) / gif.file)
    assert img.format == "GIF" and img.n_frames == 5 and img.size == (24, 16)
    assert gif.extra["fps"] == 10
    copied = by_key(r, "file")[0]
    assert copied.file.endswith(".mp4") and (Path(r.dir) / copied.file).read_bytes() == mp4.read_bytes()


def test_audio_from_numpy_and_torch_is_a_wav_with_its_sample_rate(tmp_path):
    torch = pytest.importorskip("torch")
    run = start(tmp_path)
    t = np.arange(22050) / 22050
    run.log({"tts/np": runpages.Audio(np.sin(2 * np.pi * 440 * t), sample_rate=22050),
             "tts/torch": runpages.Audio(torch.zeros(2, 8000), sample_rate=16000)})
    run.finish()
    r, _ = read(run)
    with wave.open(str(Path(r.dir) / by_key(r, "tts/np")[0].file)) as w:
        assert (w.getframerate(), w.getnframes(), w.getnchannels()) == (22050, 22050, 1)
    with wave.open(str(Path(r.dir) / by_key(r, "tts/torch")[0].file)) as w:
        assert (w.getframerate(), w.getnchannels()) == (16000, 2)


def test_tables_from_rows_add_data_and_a_dataframe_keep_columns_and_cells(tmp_path):
    import pandas as pd
    run = start(tmp_path)
    t = runpages.Table(columns=["id", "text"], data=[[1, "a"]])
    t.add_data(2, "<script>alert(1)</script>")
    run.log({"preds": t})
    t.add_data(3, "added after log")                      # not in the logged step
    run.log({"df": runpages.Table(dataframe=pd.DataFrame({"x": [1.5, 2.5], "y": ["u", "v"]}))})
    run.finish()
    r, _ = read(run)
    body = json.loads((Path(r.dir) / by_key(r, "preds")[0].file).read_text())
    assert body == {"columns": ["id", "text"], "data": [[1, "a"], [2, "<script>alert(1)</script>"]]}
    df = json.loads((Path(r.dir) / by_key(r, "df")[0].file).read_text())
    assert df == {"columns": ["x", "y"], "data": [[1.5, "u"], [2.5, "v"]]}


def test_histograms_from_values_torch_and_np_histogram(tmp_path):
    torch = pytest.importorskip("torch")
    run = start(tmp_path)
    counts, edges = np.histogram(np.arange(100), bins=10)
    run.log({"h/values": runpages.Histogram(np.random.default_rng(1).normal(size=1000), num_bins=20),
             "h/torch": runpages.Histogram(torch.arange(10.0)),
             "h/np": runpages.Histogram(np_histogram=(counts, edges)),
             "h/list": runpages.Histogram([1, 2, 2, 3, float("nan")])})
    run.finish()
    r, _ = read(run)
    load = lambda k: json.loads((Path(r.dir) / by_key(r, k)[0].file).read_text())
    assert len(load("h/values")["counts"]) == 20 and sum(load("h/values")["counts"]) == 1000
    assert sum(load("h/torch")["counts"]) == 10
    assert load("h/np")["counts"] == [10.0] * 10 and load("h/np")["edges"][-1] == 99.0
    assert sum(load("h/list")["counts"]) == 4


def test_a_media_only_log_still_advances_the_step_and_metrics_are_kept(tmp_path):
    run = start(tmp_path)
    for s in range(3):
        run.log({"loss": 1.0 / (s + 1), "img": runpages.Image(np.full((2, 2), s, np.uint8))})
    run.finish()
    r, _ = read(run)
    assert list(r.metrics["_step"]) == [0, 1, 2]
    assert sorted(m.step for m in r.media) == [0, 1, 2]


def test_import_runpages_loads_no_numpy_pil_or_torch():
    code = ("import sys, runpages; runpages.Image, runpages.Table; "
            "print([m for m in ('numpy', 'PIL', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_500_images_and_a_1000_row_table_are_all_indexed(tmp_path):
    run = start(tmp_path)
    rng = np.random.default_rng(2)
    for s in range(10):      # an eval every 10th step of a training loop: 50 samples each
        run.log({"grid": [runpages.Image(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)) for _ in range(50)]})
    run.log({"big": runpages.Table(columns=["i", "sq"], data=[[i, i * i] for i in range(1000)])})
    run.finish()
    r, problems = read(run)
    assert not problems
    assert len(by_key(r, "grid")) == 500
    body = json.loads((Path(r.dir) / by_key(r, "big")[0].file).read_text())
    assert len(body["data"]) == 1000 and body["data"][999] == [999, 998001]


def test_wandb_style_script_runs_unchanged():
    wandb = runpages
    assert callable(wandb.Image) and callable(wandb.Video) and callable(wandb.Audio)
    h = wandb.Histogram(np_histogram=([1, 2], [0.0, 0.5, 1.0]))
    assert h.encode().data
    t = wandb.Table(columns=["a"])
    t.add_data(1)
    with pytest.raises(ValueError):
        t.add_data(1, 2)
    with pytest.raises(ValueError):
        wandb.Audio(np.zeros(3))                         # an array needs sample_rate
