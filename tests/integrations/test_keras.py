"""RunpagesKerasCallback in a real Keras 3 fit (torch backend) on a tiny dense model."""
from __future__ import annotations

import importlib.util
import os

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("keras") is None,
                       reason="keras is not installed (pip install 'runpages[integrations]')"),
]


@pytest.fixture
def keras_torch():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    if keras.backend.backend() != "torch" and importlib.util.find_spec(
            keras.backend.backend()) is None:
        pytest.skip(f"keras backend {keras.backend.backend()} is not installed")
    return keras


def _fit(keras, tmp_path, fits=1, **kwargs):
    import numpy as np

    from runpages.integrations.keras import RunpagesKerasCallback

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)], name="tiny")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
                  metrics=["mae"])
    x, y = np.random.rand(40, 3).astype("float32"), np.random.rand(40, 1).astype("float32")
    callback = RunpagesKerasCallback(project="keras", dir=tmp_path / "runs",
                                     system_metrics=False, capture_console=False, **kwargs)
    for _ in range(fits):
        model.fit(x, y, epochs=3, batch_size=10, validation_split=0.25, verbose=0,
                  callbacks=[callback])
    return callback


def test_fit_logs_batches_epochs_and_fit_params(keras_torch, tmp_path, only_run, read_run,
                                                values):
    _fit(keras_torch, tmp_path)
    run = read_run(only_run(tmp_path / "runs", "keras"))
    assert run["meta"]["name"] == "tiny" and run["meta"]["status"] == "finished"
    assert run["config"]["fit"]["epochs"] == 3 and run["config"]["fit"]["steps"] == 3
    assert run["config"]["optimizer"]["class"] == "SGD"
    assert run["config"]["optimizer"]["learning_rate"] == pytest.approx(0.05)
    rows = run["metrics"]
    assert [r["_step"] for r in rows if "batch/loss" in r] == list(range(1, 10))
    assert values(rows, "epoch") == [0, 1, 2]
    assert [r["_step"] for r in rows if "epoch/val_loss" in r] == [3, 6, 9]
    assert isinstance(values(rows, "epoch/mae")[0], float)


def test_a_second_fit_continues_the_same_run(keras_torch, tmp_path, only_run, read_run, values):
    callback = _fit(keras_torch, tmp_path, fits=2, log_every_n_batches=0)
    run = read_run(only_run(tmp_path / "runs", "keras"))
    assert callback.run.status == "finished"
    assert not values(run["metrics"], "batch/loss")
    assert [r["_step"] for r in run["metrics"] if "epoch/loss" in r] == [3, 6, 9, 12, 15, 18]
