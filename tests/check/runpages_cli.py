"""Run ``runpages`` as a user would: a real ``python -m runpages.sitegen`` subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runpages.sitegen.cli import make_parser  # noqa: F401  (the one parser, for tests that parse a line)

ROOT = Path(__file__).resolve().parents[2]


def runpages(*args, cwd=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    full_env.pop("RUNPAGES_RUN_ID", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "runpages.sitegen", *map(str, args)], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)
