"""Reports with ```media and ```table blocks, built into the site and exported to one file."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import runpages
from runpages.sitegen.config import SiteConfig

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
LABELS = ["cat", "dog", "emu"]


def _logbook(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    for name, steps in (("alpha", [0, 10, 20]), ("beta", [0, 15])):
        run = runpages.init(project="vision", name=name, dir=str(runs), system_metrics=False,
                            capture_console=False, save_code=False)
        for step in steps:
            img = np.full((300, 300, 3), step * 10, np.uint8)      # big enough for a thumbnail
            run.log({"loss": 1.0 / (step + 1),
                     "samples": [runpages.Image(img, caption=f"{name} {step} {HOSTILE}"),
                                 runpages.Image(img[:8, :8], caption="small")],
                     "w": runpages.Histogram(np.random.default_rng(step).normal(0, 1, 300))}, step=step)
        run.log({"preds": runpages.Table(columns=["id", "text", "score"],
                                         data=[[i, HOSTILE if i == 3 else f"t{i}", i / 10] for i in range(40)]),
                 "confusion": runpages.Table(columns=["actual"] + LABELS,
                                             data=[[lab] + [9 if i == j else 1 for j in range(3)]
                                                   for i, lab in enumerate(LABELS)])}, step=steps[-1])
        run.finish()
    return runs


REPORT = """---
title: Samples
---
```media
runs: name = alpha
key: samples
step: 12
```

```media
runs: ""
key: samples
layout: rows
limit: 1
```

```media
key: w
```

```table
runs: name = beta
key: preds
sort: -score
columns: [id, text]
limit: 5
```

```table
runs: name = beta
key: confusion
```

```media
key: preds
```

```table
key: pred
```

```media
key: samples
step: soon
```

```media
key: samples
layout: tiles
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from runpages.sitegen.build import build_site

    tmp = tmp_path_factory.mktemp("reportmedia")
    runs = _logbook(tmp)
    (tmp / "reports").mkdir()
    (tmp / "reports" / "samples.md").write_text(REPORT)
    config = SiteConfig(runs_dirs=[runs], output=tmp / "site", reports_dir=tmp / "reports")
    result = build_site(config)
    return tmp, config, (tmp / "site" / "reports" / "samples.html").read_text(), result


def _blocks(html: str) -> list[str]:
    return re.findall(r'<figure class="rp-block.*?</figure>\n', html, flags=re.S)


def test_a_media_block_shows_each_runs_nearest_step_with_the_site_copies_of_its_files(built):
    tmp, _, html, _ = built
    first = _blocks(html)[0]
    assert "step 10 (nearest to 12)" in first
    srcs = re.findall(r'<img src="([^"]+)"', first)
    assert len(srcs) == 2 and srcs[0].endswith(".thumb.jpg") and srcs[1].endswith(".png")
    for s in srcs:                       # the files the run page copied: the report links them
        assert (tmp / "site" / "reports" / s).resolve().is_file()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in first


def test_step_last_layout_rows_and_limit(built):
    second = _blocks(built[2])[1]
    assert "rp-media-rows" in second
    assert "step 20" in second and "step 15" in second and "nearest" not in second
    assert second.count("<img ") == 2                      # limit: 1 per run
    assert second.count("1 more at this step (raise the block's limit") == 2


def test_a_histogram_is_an_inline_svg_and_tables_are_sorted_cut_and_escaped(built):
    blocks = _blocks(built[2])
    hist = blocks[2]
    assert hist.count("<svg") == 2 and hist.count("<rect") > 40
    table = blocks[3]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert cells[:4] == ["39", "t39", "38", "t38"]           # -score, columns [id, text]
    assert "5 of 40 rows" in table and "score" not in table


def test_a_square_numeric_table_with_labels_is_a_heat_map(built):
    block = _blocks(built[2])[4]
    assert 'class="rp-confusion"' in block
    heads = re.findall(r'<th scope="col">(.*?)</th>', block)
    assert heads == LABELS
    assert block.count("rp-diag") == 3 and "--a: 1.0" in block and "--a: 0.111" in block


def test_bad_media_and_table_blocks_are_problems_with_hints(built):
    _, _, html, result = built
    blocks = _blocks(html)
    assert "rp-block-error" in blocks[5] and "&#39;preds&#39; is a table; use a table block" in blocks[5]
    assert "did you mean &#39;preds&#39;?" in blocks[6]
    assert "step: expected last or a step number, got &#39;soon&#39;" in blocks[7]
    assert "layout: expected grid or rows, got &#39;tiles&#39;" in blocks[8]
    from runpages.sitegen.logbook import load_logbook

    problems = [str(p) for p in load_logbook(built[1]).problems if "samples.md" in str(p)]
    assert any("media: key: 'preds' is a table" in p for p in problems), problems
    assert any("table: key: no selected run logged media 'pred'; did you mean 'preds'?" in p
               for p in problems), problems


def test_a_confusion_matrix_needs_labels_matching_the_columns():
    from runpages.sitegen.media_page import confusion_matrix

    good = {"columns": ["y", "a", "b"], "data": [["b", 0, 5], ["a", 3, 1]]}
    m = confusion_matrix(good)
    assert m["labels"] == ["a", "b"] and m["rows"] == [[3, 1], [0, 5]] and m["max"] == 5
    assert confusion_matrix({"columns": ["y", "a", "b"], "data": [["a", 1, 2], ["c", 3, 4]]}) is None
    assert confusion_matrix({"columns": ["y", "a", "b"], "data": [["a", 1, "x"], ["b", 3, 4]]}) is None
    assert confusion_matrix({"columns": ["y", "a", "b"], "data": [["a", 1, True], ["b", 3, 4]]}) is None
    assert confusion_matrix({"columns": ["y", "a"], "data": [["a", 1]]}) is None
    assert confusion_matrix({"columns": ["epoch", "loss", "acc"],
                             "data": [[1, 0.5, 0.9], [2, 0.4, 0.91]]}) is None


def test_nearest_step_follows_the_case_file_shared_with_compare_media_js():
    import json

    from runpages.sitegen.media_page import nearest_step

    cases = json.loads((Path(__file__).parents[1] / "cases" / "media" / "nearest_step.json").read_text())
    for c in cases:
        assert nearest_step(c["steps"], c["target"]) == c["shown"], c


def test_export_inlines_block_media_up_to_the_limit_and_says_when_it_links(built, tmp_path):
    from runpages.sitegen.export import export_report

    tmp, config, _, _ = built
    report = tmp / "reports" / "samples.md"
    out, problems = export_report(report, config, tmp_path / "all.html")
    html = out.read_text()
    assert "file://" not in html and "files/vision/" not in html
    assert html.count('src="data:image/jpeg;base64,') >= 2          # thumbnails inline
    assert 'href="data:image/png;base64,' in html                   # full size behind the link
    assert not any("linked to the run folder" in str(p) for p in problems)
    assert "<script>alert" not in html

    out, problems = export_report(report, config, tmp_path / "cut.html", media_limit_mb=0.0005)
    html = out.read_text()
    notes = [str(p) for p in problems if "linked to the run folder" in str(p)]
    assert len(notes) == 1 and "past the 0.0005 MB inline limit (--media-limit-mb)" in notes[0], notes
    linked = re.findall(r'(?:src|href)="(file://[^"]+)"', html)
    assert linked and all(Path(u[7:]).is_file() for u in linked)


def test_the_export_command_prints_the_link_note(built, tmp_path, capsys):
    from runpages.sitegen.cli import main

    tmp, _, _, _ = built
    code = main(["export", str(tmp / "reports" / "samples.md"), str(tmp / "runs"),
                 "-o", str(tmp_path / "x.html"), "--media-limit-mb", "0"])
    err = capsys.readouterr().err
    assert code == 0 and "linked to the run folder instead of inlined" in err
