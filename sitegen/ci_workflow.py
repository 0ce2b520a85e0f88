"""``runpages init-ci``: write ``.github/workflows/runpages.yml`` (or, with ``--schedule``, the
scheduled rebuild from a bucket, ``.github/workflows/runpages-schedule.yml``).

The workflow, on every push to the main branch and every pull request: installs, runs the
user's training/evaluation command (a placeholder to edit), ``runpages check`` (its table goes
to the job summary by itself, through ``$GITHUB_STEP_SUMMARY``), ``runpages build``; then on
the main branch deploys the site with the official Pages actions (upload-pages-artifact,
deploy-pages), and on pull requests uploads the site as an artifact. A regression fails a pull
request; on the main branch it is recorded and shown on the site without blocking the deploy.

With ``--schedule CRON`` the workflow instead rebuilds the site from runs on an object store
(the team logbook on a bucket) on that cron schedule and by hand (workflow_dispatch), so nobody
keeps a machine running: it restores the mirror and build cache (``~/.cache/runpages``) from the
previous run, so each rebuild fetches only what changed, then deploys to GitHub Pages or, with
``--to``, publishes into the store. Credentials come from the repository's secrets.

Invariant: every ``runpages ...`` line in a ``run:`` step parses with the real CLI parser
(``tests/publish/test_init_ci.py`` checks it).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

WORKFLOW_PATH = ".github/workflows/runpages.yml"
SCHEDULE_PATH = ".github/workflows/runpages-schedule.yml"

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


SCHEDULE_TEMPLATE = """\
# runpages: rebuild the team logbook from the bucket on a schedule, and deploy it.
# Written by `runpages init-ci --schedule`. Nobody has to keep a machine running: GitHub runs this
# @@WHEN@@, and by hand from the Actions tab (Run workflow).
#
# Store credentials: Settings > Secrets and variables > Actions > New repository secret:
@@SECRETS_NOTE@@
# Endpoint, region, profile of an S3-compatible store (MinIO, R2, ...): [store] in runpages.toml
# at the top of the repository (no secrets there), e.g.
#   [store]
#   region = "eu-west-1"
#   endpoint_url = "https://<account>.r2.cloudflarestorage.com"
@@DEPLOY_NOTE@@
name: runpages-schedule

on:
  schedule:
    - cron: "@@CRON@@"
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: runpages-schedule
  cancel-in-progress: false

env:
@@ENV@@

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4

      - uses: actions/setup-python@v5
        with:
          python-version: "@@PYTHON@@"

      - name: Install
        run: |
          python -m pip install --upgrade pip
          @@INSTALL@@
          pip install @@STORE_PACKAGES@@

      - name: Restore the mirror of the bucket and the build cache
        # each rebuild fetches only the segments and files that changed since the last one
        uses: actions/cache@v4
        with:
          path: ~/.cache/runpages
          key: runpages-store-${{ github.run_id }}
          restore-keys: runpages-store-

@@BUILD_STEPS@@
"""

PAGES_STEPS = """\
      - name: Build the site from the bucket
        run: |
          runpages build @@RUNS@@ -o site

      - name: Upload the site for GitHub Pages
        uses: actions/upload-pages-artifact@v3
        with:
          path: site

  deploy:
    needs: build
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
        uses: actions/deploy-pages@v4"""

STORE_STEPS = """\
      - name: Build from the bucket and publish the site into the store
        # changed files only; files that are gone are removed after the new ones are in place
        run: |
          runpages publish @@RUNS@@ -o site --to @@TO@@"""

# What each store's fsspec package reads from the environment, filled from secrets.
_STORES = {
    "s3": ("s3fs", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], []),   # region: [store] region
    "gs": ("gcsfs", ["GOOGLE_APPLICATION_CREDENTIALS_JSON"], []),
    "az": ("adlfs", ["AZURE_STORAGE_CONNECTION_STRING"], []),
}
_STORES.update({"s3a": _STORES["s3"], "gcs": _STORES["gs"], "abfs": _STORES["az"],
                "abfss": _STORES["az"]})
_CRON_FIELD = re.compile(r"^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$")


def check_cron(cron: str) -> str:
    """``cron`` when it is five cron fields (what GitHub's ``schedule`` takes); else SiteError."""
    from runpages.sitegen.errors import SiteError

    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise SiteError(f"--schedule takes five cron fields (minute hour day month weekday), "
                        f"e.g. \"*/30 * * * *\"; got {cron!r}")
    return " ".join(fields)


def render_schedule_workflow(runs: str, cron: str, to: str | None = None, python: str = "3.11",
                             install: str = "pip install .") -> str:
    """The scheduled rebuild from the store ``runs``: deploy to Pages, or publish ``--to`` a store."""
    from runpages.sitegen.errors import SiteError
    from runpages.schema import is_store_url

    if not is_store_url(runs):
        raise SiteError(f"--schedule rebuilds from an object store: give --runs-dir a store URL "
                        f"such as s3://team-logbook/runs; got {runs!r}")
    if to is not None and not is_store_url(to):
        raise SiteError(f"--to takes a store URL such as s3://team-logbook/site; got {to!r}")
    cron = check_cron(cron)
    scheme = runs.partition("://")[0].lower()
    package, secrets, variables = _STORES.get(scheme, (f"fsspec  # and the package for {scheme}://",
                                                      [], []))
    q = shlex.quote
    env = [f"  {name}: ${{{{ secrets.{name} }}}}" for name in secrets]
    env += [f"  {name}: ${{{{ vars.{name} }}}}" for name in variables]
    secrets_note = "\n".join(f"#   {name}" for name in secrets) or \
        f"#   (whatever {scheme}:// reads from the environment: add it under env: below)"
    if scheme in ("gs", "gcs"):
        secrets_note += ("\n#   (the JSON key of a service account; the Install step writes it to a file)")
        env.append("  GOOGLE_APPLICATION_CREDENTIALS: /tmp/gcs-key.json")
    if variables:
        secrets_note += "\n# and under Variables: " + ", ".join(variables)
    if to:
        steps = STORE_STEPS.replace("@@TO@@", q(to))
        deploy = f"#\n# Deploy: the site is published into {to}; open the URL the publish step prints."
    else:
        steps = PAGES_STEPS
        deploy = "#\n# Deploy: GitHub Pages. Settings > Pages > Build and deployment > Source: \"GitHub Actions\"."
    install_lines = install
    if scheme in ("gs", "gcs"):
        install_lines += "\n          printf '%s' \"$GOOGLE_APPLICATION_CREDENTIALS_JSON\" > /tmp/gcs-key.json"
    text = SCHEDULE_TEMPLATE.replace("@@BUILD_STEPS@@", steps)
    for key, value in (("@@SECRETS_NOTE@@", secrets_note), ("@@DEPLOY_NOTE@@", deploy),
                       ("@@WHEN@@", f"on the cron schedule {cron!r} (UTC)"), ("@@CRON@@", cron),
                       ("@@ENV@@", "\n".join(env) or "  RUNPAGES_SCHEDULED: \"1\""),
                       ("@@PYTHON@@", python), ("@@INSTALL@@", install_lines),
                       ("@@STORE_PACKAGES@@", package), ("@@RUNS@@", q(runs))):
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

    schedule = options.pop("schedule", None)
    path = Path(path or (SCHEDULE_PATH if schedule else WORKFLOW_PATH))
    if path.exists() and not force:
        raise SiteError(f"{path} already exists; pass --force to replace it")
    if schedule:
        text = render_schedule_workflow(options["runs"], schedule, to=options.get("to"),
                                        python=options.get("python", "3.11"),
                                        install=options.get("install", "pip install ."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
    if options.pop("to", None):
        raise SiteError("--to publishes into a store from the scheduled workflow: add --schedule CRON")
    command = options.get("command", "")
    if "\n" in command or not command.strip():
        raise SiteError("--command must be one line (edit the workflow for more)")
    text = render_workflow(**options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
