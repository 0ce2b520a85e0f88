"""A logged NaN is not a missing step: the reader keeps, per key, the steps logged as NaN,
through both parsers, the read cache (saved and loaded), and a file that grows."""
from __future__ import annotations

import math

import runpages
from runpages.sitegen import reader
from runpages.sitegen.reader import ReadCache, read_run


def _diverging(tmp_path, steps=20, nan_from=12):
    run = runpages.init(dir=str(tmp_path / "runs"), project="p", name="diverge",
                        system_metrics=False, capture_console=False)
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1) if step < nan_from else float("nan"),
                 "only_nan": float("nan")}, step=step)
        if step % 5 == 0:
            run.log({"val/loss": 0.5}, step=step)
    run.finish()
    (folder,) = (tmp_path / "runs" / "p").iterdir()
    return folder


def test_a_logged_nan_is_kept_apart_from_a_step_where_the_key_was_not_logged(tmp_path):
    folder = _diverging(tmp_path)
    run, problems = read_run(folder)
    assert problems == []
    assert run.nan_steps["loss"].tolist() == list(range(12, 20))
    assert "val/loss" not in run.nan_steps          # logged every 5 steps, never NaN
    steps, values = run.series("val/loss")
    assert steps.tolist() == [0, 5, 10, 15] and values.tolist() == [0.5] * 4
    steps, values = run.series("loss")
    assert steps.tolist() == list(range(20)) and all(math.isnan(v) for v in values[12:])
    assert run.nonfinite_counts("loss") == {"NaN": (8, 12)}
    assert run.nonfinite_counts("val/loss") == {}


def test_a_metric_whose_only_values_are_nan_is_a_metric_with_nan_as_its_last_value(tmp_path):
    run, _ = read_run(_diverging(tmp_path))
    assert "only_nan" in run.metric_keys
    assert run.series("only_nan")[0].tolist() == list(range(20))
    assert math.isnan(run.summary["only_nan"]) and math.isnan(run.last_value("only_nan"))
    assert math.isnan(run.summary["loss"]) and math.isnan(run.last_value("loss"))
    assert run.best_value("loss") == 1 / 12      # best ignores NaN
    assert run.best_value("only_nan") is None


def test_nan_steps_come_back_from_a_saved_read_cache_and_from_a_file_that_grew(tmp_path, monkeypatch):
    folder = _diverging(tmp_path)
    for fast in (True, False):
        monkeypatch.setattr(reader, "FAST_PATH_MIN_BYTES", 0 if fast else 10**12)
        cache = ReadCache()
        first, _ = read_run(folder, cache)
        cache.save(tmp_path / f"cache{fast}")
        loaded = ReadCache.load(tmp_path / f"cache{fast}")
        again, _ = read_run(folder, loaded)
        assert loaded.parsed_bytes == 0               # nothing parsed: it came from the cache
        assert again.nan_steps["loss"].tolist() == first.nan_steps["loss"].tolist() == list(range(12, 20))
        assert math.isnan(again.summary["loss"])
        metrics = folder / "metrics.jsonl"
        before = metrics.read_bytes()
        with open(metrics, "ab") as f:
            f.write(b'{"_step": 20, "_time": 1.0, "loss": "NaN", "val/loss": null}\n'
                    b'{"_step": 21, "_time": 2.0, "val/loss": 0.25}\n')
        grown, _ = read_run(folder, loaded)
        assert 0 < loaded.parsed_bytes < 200            # only the new lines were parsed
        assert grown.nan_steps["loss"].tolist() == list(range(12, 21))
        assert grown.series("val/loss")[0].tolist() == [0, 5, 10, 15, 21]
        metrics.write_bytes(before)


def test_a_real_gan_log_that_diverged_reads_back_its_nan_steps(tmp_path):
    """shared/fixtures/real_logs/lightning_csv/genrisk-gan: version_0's generator loss is NaN at
    every step and its discriminator loss from step 1 (Lightning writes ``nan`` cells)."""
    from pathlib import Path

    import pytest

    from runpages.importers import import_source
    from runpages.sitegen.reader import read_runs

    # where tests/importers/conftest.py finds the real logs: shared/ beside the checkout
    source = (Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real_logs"
              / "lightning_csv" / "genrisk-gan")
    if not source.is_dir():
        pytest.skip("shared/fixtures/real_logs is not here")
    import_source(source, tmp_path / "runs")
    (project,), _ = read_runs([tmp_path / "runs"])
    (run,) = [r for r in project.runs if r.name.endswith("version_0")]
    assert run.nonfinite_counts("train_gen_loss") == {"NaN": (320, 0)}
    assert run.nonfinite_counts("train_disc_loss") == {"NaN": (319, 1)}
    assert math.isnan(run.summary["train_gen_loss"])
    others = [r for r in project.runs if r is not run]
    assert others and all(r.nonfinite_counts("train_gen_loss") == {} for r in others)
