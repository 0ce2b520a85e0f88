import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from runpages.sitegen import charts, packed
from runpages.sitegen.colors import run_color
from runpages.sitegen.model import Run
from tests.site.data_scripts import read_data_script


def test_downsample_keeps_at_most_2000_points_and_every_spike():
    n = 1_000_000
    y = np.sin(np.arange(n) / 5000.0)
    y[123_457] = 50.0       # one-step spikes up and down
    y[765_433] = -50.0
    idx = charts.downsample_indices(y)
    assert len(idx) <= charts.MAX_POINTS
    assert 123_457 in idx and 765_433 in idx
    assert idx[0] == 0 and idx[-1] == n - 1
    assert np.all(np.diff(idx) > 0)


def test_downsample_keeps_nonfinite_positions():
    y = np.linspace(0, 1, 100_000)
    y[5000] = np.nan
    y[60_000] = np.inf
    idx = charts.downsample_indices(y)
    assert len(idx) <= charts.MAX_POINTS
    assert 5000 in idx and 60_000 in idx


def test_short_series_are_kept_whole():
    assert list(charts.downsample_indices(np.arange(10.0))) == list(range(10))


def test_js_literals_for_nan_and_inf():
    text = charts.to_js({"a": [1.5, float("nan"), float("inf"), float("-inf")],
                         "b": charts.num_array([1.0, float("nan"), float("-inf")])})
    assert text == '{"a":[1.5,NaN,Infinity,-Infinity],"b":"AAAAAAAA8D8AAAAAAAD4fwAAAAAAAPD/"}'
    assert packed.unpack(json.loads(text)["b"])[::2] == [1.0, float("-inf")]


@pytest.mark.parametrize("evil", ["</script><script>alert(1)</script>", "\u2028x\u2029", '"); alert(1); ("'])
def test_user_strings_cannot_break_out_of_the_data_script(evil):
    text = charts.data_script("add", {evil: evil, "tags": [evil]})
    assert "</script" not in text and "<" not in text and "\u2028" not in text
    # The statement is one call: no user text outside a JS string.
    body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert body.strip() == 'RunpagesData.add({"":"","":[""]});'


class _Site:
    def key(self, run): return f"{run.project}/{run.id}"
    def run_url(self, run): return f"p/{run.project}/r/{run.id}/index.html"
    def project_slug(self, name): return name
    def project_url(self, p): return f"p/{p.name}/index.html"
    def color(self, run): return run_color(self.key(run))


def _run(n=5000):
    steps = np.arange(n)
    loss = 1.0 / (steps + 1.0)
    loss[10] = np.nan          # a logged NaN and a missing value look alike: both dropped
    loss[20] = np.inf
    metrics = pd.DataFrame({"_step": steps, "_time": 1000.0 + steps * 0.1, "loss": loss,
                            "val/acc": np.where(steps % 100 == 0, steps / n, np.nan)})
    system = pd.DataFrame({"_time": 1000.0 + np.arange(50) * 10.0, "gpu/0/util_pct": np.full(50, 97.0)})
    return Run(id="r1", project="p", name="<b>x</b>", dir="/tmp/x", meta={"started_at": 1000.0, "user": "ana"},
               config={"lr": 1e-3, "bad": float("nan")}, summary={"loss": 0.1}, metrics=metrics, system=system,
               fingerprint="f")


def test_run_payload_shapes():
    p = charts.run_payload(_run(), _Site())
    assert p["key"] == "p/r1" and p["name"] == "<b>x</b>" and p["color"].startswith("#")
    assert set(p["metrics"]) == {"loss", "val/acc"}
    text = charts.run_script(_run(), _Site())
    assert text.startswith("RunpagesData.add({") and text.endswith("});\n")
    assert '"bad":NaN' in text
    p = read_data_script(text)
    assert p["metrics"]["val/acc"]["step"] == list(range(0, 5000, 100))   # sparse metric: only logged steps
    loss = p["metrics"]["loss"]
    assert math.inf in loss["y"] and 20 in loss["step"]
    assert len(loss["step"]) == len(loss["y"]) <= charts.MAX_POINTS
    finite = [(s, y) for s, y in zip(loss["step"], loss["y"]) if s != 20]
    assert [y for _, y in finite] == pytest.approx([1.0 / (s + 1.0) for s, _ in finite], rel=1e-7)  # float32
    assert p["system"]["gpu/0/util_pct"]["y"][0] == 97.0
    assert p["steps"]["t"] == pytest.approx([0.1 * s for s in p["steps"]["step"]])   # relative to t0


def test_project_points_shrink_for_huge_projects():
    assert charts.project_points(10) == charts.PROJECT_MAX_POINTS
    assert charts.PROJECT_MIN_POINTS <= charts.project_points(8000) < charts.PROJECT_MAX_POINTS
