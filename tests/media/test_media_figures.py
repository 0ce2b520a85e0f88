"""A matplotlib Figure logged as it is (or wrapped in runpages.Image) becomes a PNG image, drawn
when it is logged: a script that clears and reuses the figure afterwards still gets what it saw."""
from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import runpages
from tests.media.helpers import by_key, read, start

matplotlib = pytest.importorskip("matplotlib")     # in the test extra (pyproject.toml)
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402


def _ink(path: Path) -> int:
    """How many pixels are not white."""
    a = np.asarray(PILImage.open(path).convert("L"))
    return int((a < 250).sum())


def test_a_logged_figure_is_a_png_of_what_it_showed_at_log_time(tmp_path):
    run = start(tmp_path)
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 1, 0], linewidth=6)
    ax.set_title("pr <curve>")
    run.log({"plots/pr": fig}, step=0)
    fig.clf()                                          # reused at once, as loops do
    run.log({"plots/pr": fig, "wrapped": runpages.Image(fig, caption="empty <b>")}, step=1)
    run.finish()
    r, problems = read(run)
    assert not problems
    first, second = by_key(r, "plots/pr")
    assert (first.kind, first.step, first.file.endswith(".png")) == ("image", 0, True)
    assert first.extra["shape"] == [300, 400, 4]
    with PILImage.open(Path(r.dir) / first.file) as img:
        assert img.size == (400, 300)
    assert _ink(Path(r.dir) / first.file) > 5 * _ink(Path(r.dir) / second.file)   # drawn at log()
    (wrapped,) = by_key(r, "wrapped")
    assert wrapped.caption == "empty <b>"


def test_a_figure_that_cannot_draw_warns_once_and_training_continues(tmp_path):
    run = start(tmp_path)
    fig = Figure()
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, r"$\notacommand{x}$")           # mathtext fails when drawn
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for s in range(3):
            run.log({"bad": fig, "loss": float(s)})
        run.finish()
    texts = [str(w.message) for w in caught if str(w.message).startswith("runpages: cannot encode image for 'bad'")]
    assert len(texts) == 1 and "matplotlib could not draw the figure" in texts[0]
    r, _ = read(run)
    assert not r.media and len(r.metrics) == 3


def test_import_runpages_does_not_load_matplotlib():
    code = "import sys, runpages; runpages.log; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
