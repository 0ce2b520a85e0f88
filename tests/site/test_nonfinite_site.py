"""NaN must be seen in what a build writes: the CSV download says NaN/inf (and leaves a step
empty only where the key was not logged), the summary shows NaN as the last value, the chart
data carries the NaN steps and their count, and an incremental build keeps all of it."""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import runpages
from runpages.sitegen.build import build_site
from tests.site.data_scripts import read_data_script

NAN, INF = float("nan"), float("inf")


def _diverging(runs, steps=10, nan_from=6):
    run = runpages.init(dir=str(runs), project="div", name="diverged", system_metrics=False,
                        capture_console=False)
    for step in range(steps):
        row = {"loss": 1.0 / (step + 1) if step < nan_from else NAN,
               "grad": INF if step == 2 else -INF if step == 3 else 0.5}
        if step % 3 == 0:
            row["val/loss"] = 0.25
        run.log(row, step=step)
    run.finish()
    (folder,) = (runs / "div").iterdir()
    return folder


def _rows(out: Path, folder: Path) -> list[dict]:
    """The CSV the run page makes (static/csv-export.js) from the site's metrics.jsonl."""
    from tests.site.test_csv_twin import browser_csvs

    (data,) = browser_csvs([out / "files" / "div" / folder.name])
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_csv_download_writes_nan_and_inf_and_leaves_unlogged_steps_empty(tmp_path, make_config):
    folder = _diverging(tmp_path / "runs")
    config = make_config([tmp_path / "runs"])
    build_site(config)
    rows = _rows(Path(config.output), folder)
    assert [r["loss"] for r in rows[5:]] == ["0.16666666666666666", "NaN", "NaN", "NaN", "NaN"]
    assert [r["grad"] for r in rows[1:5]] == ["0.5", "inf", "-inf", "0.5"]
    assert [r["val/loss"] for r in rows[:4]] == ["0.25", "", "", "0.25"]   # not logged: empty


def test_the_summary_shows_nan_as_the_last_value(tmp_path, make_config):
    folder = _diverging(tmp_path / "runs")
    (folder / "summary.json").unlink()             # the reader's own last values, not the logger's
    config = make_config([tmp_path / "runs"])
    build_site(config)
    out = Path(config.output)
    page = (out / "p" / "div" / "r" / folder.name / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<th scope="row">loss</th><td>NaN</td>', page)
    assert re.search(r'<th scope="row">val/loss</th><td>0.25</td>', page)
    table = (out / "p" / "div" / "index.html").read_text(encoding="utf-8")
    assert ">NaN<" in table


def test_chart_data_keeps_the_nan_steps_and_counts_them_also_after_an_incremental_build(tmp_path, make_config):
    folder = _diverging(tmp_path / "runs")
    config = make_config([tmp_path / "runs"])
    build_site(config)
    data = Path(config.output) / "data" / "runs" / "div" / f"{folder.name}.js"
    text = data.read_text(encoding="utf-8")
    series = read_data_script(text)["metrics"]
    loss = series["loss"]
    assert loss["step"] == list(range(10)) and all(math.isnan(v) for v in loss["y"][-4:])
    assert loss["nonfinite"] == {"NaN": [4, 6]}
    assert series["val/loss"]["step"] == [0, 3, 6, 9]        # no NaN points where it was not logged
    with open(folder / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write('{"_step": 10, "_time": 1.0, "loss": "NaN"}\n')
    result = build_site(config)                             # the read cache saved and loaded
    assert result.rebuilt_runs == 1
    text = data.read_text(encoding="utf-8")
    assert '"nonfinite":{"NaN":[5,6]}' in text
    rows = _rows(Path(config.output), folder)
    assert rows[-1]["loss"] == "NaN" and rows[-1]["val/loss"] == ""
