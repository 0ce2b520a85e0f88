"""``runpages init-ci``: write ``.github/workflows/runpages.yml``.

The workflow, on every push to the main branch and every pull request: installs, runs the
user's training/evaluation command (a placeholder to edit), ``runpages check`` (its table goes
to the job summary by itself, through ``$GITHUB_STEP_SUMMARY``), ``runpages build``; then on
the main branch deploys the site with the official Pages actions (upload-pages-artifact,
deploy-pages), and on pull requests uploads the site as an artifact. A regression fails a pull
request; on the main branch it is recorded and shown on the site without blocking the deploy.

Invariant: every ``runpages ...`` line in a ``run:`` step parses with the real CLI parser
(``tests/check/test_init_ci.py`` checks it).
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

WORKFLOW_PATH = ".github/workflows/runpages.yml"

TEMPLATE = """\
# runpages: train or evaluate, gate on regressions, publish the logbook to GitHub Pages.
# Written by `runpages init-ci`. Edit the "Train / evaluate" step; the rest works as it is.
#
# Rules live in runpages.toml at the top of the repository, e.g.
#   [[check.rules]]
#   metric = "val/acc"        # higher is better: may fall at most 0.005
#   allowed = 0.005
#   [[check.rules]]
#   metric = "val/loss"
#   direction = "min"
#   allowed = "2%"
@@BASELINE_NOTE@@
# Pages: Settings > Pages > Build and deployment > Source: "GitHub Actions".
name: runpages

on:
  push:
    branches: [@@BRANCH@@]
  pull_request:

permissions:
  contents: read

concurrency:
  group: runpages-${{ github.ref }}
  cancel-in-progress: true

env:
  RUNPAGES_DIR: @@RUNS@@           # where runpages.init() writes runs

jobs:
  runs:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4

      - uses: actions/setup-python@v5
        with:
          python-version: "@@PYTHON@@"

      - name: Install
        run: |
          python -m pip install --upgrade pip
          if [ -f requirements.txt ]; then pip install -r requirements.txt; fi
          @@INSTALL@@

      - name: Train / evaluate (edit this)
        run: |
          @@COMMAND@@

      - name: Check for regressions
        # The table goes to this job's summary. On @@BRANCH@@ a regression is recorded and shown on
        # the site without blocking the deploy; on a pull request it fails the check.
        continue-on-error: ${{ github.event_name == 'push' }}
        run: runpages check @@RUNS@@ @@BASELINE_ARGS@@ --junit runpages-check.xml

      - name: Build the site
        if: ${{ !cancelled() }}
        run: |
          runpages build @@RUNS@@ -o site
          rm -rf site/.runpages

      - name: Upload the site for GitHub Pages
        if: ${{ !cancelled() && github.event_name == 'push' && github.ref == 'refs/heads/@@BRANCH@@' }}
        uses: actions/upload-pages-artifact@v3
        with:
          path: site

      - name: Upload the site and the check result
        if: ${{ !cancelled() && github.event_name == 'pull_request' }}
        uses: actions/upload-artifact@v4
        with:
          name: runpages-site
          path: |
            site
            runpages-check.xml

  deploy:
    if: ${{ github.event_name == 'push' && github.ref == 'refs/heads/@@BRANCH@@' }}
    needs: runs
    runs-on: ubuntu-latest
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - name: Deploy to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v4
"""

FILE_NOTE = """\
#
# Baseline: @@FILE@@, a snapshot committed to the repository (CI machines start empty, so
# they cannot see earlier runs). Make it, and refresh it when @@BRANCH@@ gets better, with
#   runpages check @@RUNS@@ --save-baseline @@FILE@@
# on @@BRANCH@@, then commit the file. Until it exists the check answers "could not judge" (exit 2)."""

BRANCH_NOTE = """\
#
# Baseline: the newest finished runs recorded on branch @@BASE@@ (meta.json git.branch). The
# runs folder must hold them: commit @@RUNS@@/ or restore it from a cache before the check."""


def render_workflow(runs: str = "runs", command: str = "python train.py", python: str = "3.11",
                    branch: str = "main", baseline_file: str | None = "runpages-baseline.json",
                    baseline_branch: str | None = None, install: str = "pip install runpages") -> str:
    """The workflow text; every value is quoted for the shell where it lands in one."""
    q = shlex.quote
    if baseline_branch:
        note = BRANCH_NOTE.replace("@@BASE@@", baseline_branch)
        args = f"--baseline-branch {q(baseline_branch)}"
    else:
        note = FILE_NOTE.replace("@@FILE@@", baseline_file or "runpages-baseline.json")
        args = f"--baseline-file {q(baseline_file or 'runpages-baseline.json')}"
    text = TEMPLATE.replace("@@BASELINE_NOTE@@", note)
    for key, value in (("@@BASELINE_ARGS@@", args), ("@@RUNS@@", q(runs)), ("@@PYTHON@@", python),
                       ("@@BRANCH@@", branch), ("@@INSTALL@@", install), ("@@COMMAND@@", command)):
        text = text.replace(key, value)
    return text


def run_init_ci(args) -> int:
    from runpages.sitegen.errors import SiteError

    path = Path(args.output or WORKFLOW_PATH)
    if path.exists() and not args.force:
        raise SiteError(f"{path} already exists; pass --force to replace it")
    if "\n" in args.command or not args.command.strip():
        raise SiteError("--command must be one line (edit the workflow for more)")
    text = render_workflow(runs=args.runs_dir, command=args.command, python=args.python, branch=args.branch,
                           baseline_file=args.baseline_file, baseline_branch=args.baseline_branch,
                           install=args.install)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}: edit its \"Train / evaluate\" step, add [[check.rules]] to runpages.toml, "
          "and set Settings > Pages > Source to GitHub Actions", file=sys.stdout)
    return 0


def add_init_ci_parser(subparsers) -> None:
    p = subparsers.add_parser("init-ci", help=f"write {WORKFLOW_PATH}: check on pull requests, deploy to Pages",
                              description=f"Write {WORKFLOW_PATH}: on push and pull request, run your "
                                          "training/eval command, runpages check, build; deploy to GitHub Pages "
                                          "from the main branch.")
    p.add_argument("--command", default="python train.py", help="training/evaluation command (default: a placeholder)")
    p.add_argument("--runs-dir", default="runs", help="runs folder (default runs)")
    p.add_argument("--branch", default="main", help="the branch that deploys (default main)")
    p.add_argument("--python", default="3.11", help="Python version (default 3.11)")
    p.add_argument("--install", default="pip install runpages", help="how CI installs runpages")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--baseline-file", default="runpages-baseline.json",
                   help="committed snapshot to compare with (default runpages-baseline.json)")
    g.add_argument("--baseline-branch", help="compare with runs recorded on this branch instead (runs folder committed)")
    p.add_argument("-o", "--output", help=f"where to write (default {WORKFLOW_PATH})")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=run_init_ci)
