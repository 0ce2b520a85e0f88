"""The bundled example logbook is what its committed script writes through the real logger."""
from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    out = [str(a / n) for n in cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files]
    for sub in cmp.common_dirs:
        out += _differences(a / sub, b / sub)
    return out


def test_example_runs_are_reproduced_by_make_example_runs(tmp_path):
    out = tmp_path / "example_runs"
    subprocess.run([sys.executable, str(ROOT / "examples" / "make_example_runs.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=120)
    diffs = _differences(ROOT / "example_runs", out)
    assert not diffs, ("example_runs/ is out of date; regenerate it with "
                       f"`python examples/make_example_runs.py`: {diffs[:5]}")


def test_example_logbook_looks_like_a_team_week():
    import json
    metas = [json.loads(p.read_text()) for p in (ROOT / "example_runs").glob("*/*/meta.json")]
    assert {m["project"] for m in metas} == {"cifar10-resnet", "shakespeare-char", "vision-samples"}
    assert {m["user"] for m in metas} == {"ana", "ben", "chen"}
    assert {"finished", "crashed", "killed"} <= {m["status"] for m in metas}
    assert all(m["system_source"].startswith("simulated") for m in metas)
    size = sum(f.stat().st_size for f in (ROOT / "example_runs").rglob("*") if f.is_file())
    assert size < 5_000_000
