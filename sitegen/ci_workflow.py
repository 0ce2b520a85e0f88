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
                    baseline_branch: str | None = None, install: str = "pip install .") -> str:
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


def install_command(repo: Path) -> str:
    """How CI installs runpages for the repository at ``repo``: a source that exists.

    runpages is not served by the package index under its name, so the line is, in order: the
    repository itself when it is runpages; the requirements file when it lists runpages; the
    VCS URL and commit this runpages was installed from; its source folder when that lies inside
    the repository. Else ``SiteError`` asks for ``--install``.
    """
    import json
    import os
    import re
    from importlib import metadata

    from runpages.sitegen.errors import SiteError

    repo = Path(repo).resolve()
    own = repo / "pyproject.toml"
    if own.is_file() and re.search(r'(?m)^name\s*=\s*"runpages"', own.read_text(encoding="utf-8", errors="replace")):
        return "pip install ."
    reqs = repo / "requirements.txt"
    if reqs.is_file() and re.search(r"(?im)^\s*runpages\b", reqs.read_text(encoding="utf-8", errors="replace")):
        return "# runpages comes from requirements.txt"
    try:
        direct = json.loads(metadata.distribution("runpages").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        direct = {}
    vcs = direct.get("vcs_info")
    if vcs and direct.get("url"):
        return shlex.join(["pip", "install", f"runpages @ {vcs.get('vcs', 'git')}+{direct['url']}@{vcs['commit_id']}"])
    source = Path(__file__).resolve().parents[1]          # the checkout this runpages runs from
    if (source / "pyproject.toml").is_file() and source.is_relative_to(repo):
        return shlex.join(["pip", "install", "./" + os.path.relpath(source, repo)])
    raise SiteError("runpages is not on the package index, and this repository does not hold it; "
                    "say how CI installs it, e.g. --install \"pip install 'runpages @ "
                    "git+https://github.com/<you>/runpages@<commit>'\" (or list it in requirements.txt)")


def write_workflow(path: str | Path | None = None, force: bool = False, **options) -> Path:
    """Write the workflow (``render_workflow(**options)``) to ``path``; refuse to replace one unless ``force``."""
    from runpages.sitegen.errors import SiteError

    path = Path(path or WORKFLOW_PATH)
    if path.exists() and not force:
        raise SiteError(f"{path} already exists; pass --force to replace it")
    command = options.get("command", "")
    if "\n" in command or not command.strip():
        raise SiteError("--command must be one line (edit the workflow for more)")
    text = render_workflow(**options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
