"""Run ``runpages`` as a user would: a real ``python -m runpages.sitegen`` subprocess.

Until ``sitegen/cli.py`` wires the check, publish and init-ci subcommands, the same
``cli.main`` runs with them added (``BOOT``), so these tests exercise the real parser and error
mapping either way; once wired, ``python -m runpages.sitegen`` is used directly.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BOOT = """
import argparse, sys
from runpages.sitegen import cli
_make = cli.make_parser
def make_parser():
    parser = _make()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    from runpages.sitegen.check import add_check_parser
    from runpages.sitegen.publish import add_publish_parser
    from runpages.sitegen.ci_workflow import add_init_ci_parser
    for name, add in (("check", add_check_parser), ("publish", add_publish_parser), ("init-ci", add_init_ci_parser)):
        if name not in sub.choices:
            add(sub)
    return parser
cli.make_parser = make_parser
sys.exit(cli.main(sys.argv[1:]))
"""


def cli_wired() -> bool:
    from runpages.sitegen import cli

    parser = cli.make_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return all(n in sub.choices for n in ("check", "publish", "init-ci"))


def make_parser():
    """The CLI parser with the three subcommands (added here while cli.py lacks them)."""
    import argparse

    from runpages.sitegen import cli
    from runpages.sitegen.check import add_check_parser
    from runpages.sitegen.ci_workflow import add_init_ci_parser
    from runpages.sitegen.publish import add_publish_parser

    parser = cli.make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, add in (("check", add_check_parser), ("publish", add_publish_parser),
                      ("init-ci", add_init_ci_parser)):
        if name not in sub.choices:
            add(sub)
    return parser


def runpages(*args, cwd=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    entry = ["-m", "runpages.sitegen"] if cli_wired() else ["-c", BOOT]
    full_env = dict(os.environ)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    full_env.pop("RUNPAGES_RUN_ID", None)
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return subprocess.run([sys.executable, *entry, *map(str, args)], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
