"""Runs the JS unit tests (`node --test tests/js/`) as part of the README's pytest command."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_the_theme_scripts_pure_functions_pass_under_node(tmp_path):
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is needed for the JS unit tests (Debian: apt-get install nodejs; .ci/run installs it)"
    # TZ=UTC: the shared date cases are written in UTC, as the Python twin formats them.
    # The chart scripts read the rules the build generates from Python (sitegen/chart_rules.py).
    from runpages.sitegen.chart_rules import rules_script

    rules = tmp_path / "chart-rules.js"
    rules.write_text(rules_script(), encoding="utf-8")
    env = dict(os.environ, TZ="UTC", RUNPAGES_CHART_RULES=str(rules))
    done = subprocess.run([node, "--test", *sorted(str(p) for p in HERE.glob("*.test.js"))],
                          capture_output=True, text=True, env=env, timeout=120)
    failed = [line for line in done.stdout.splitlines() if line.startswith("not ok")]
    assert done.returncode == 0, "\n".join(failed) or done.stdout[-4000:] + done.stderr[-2000:]
