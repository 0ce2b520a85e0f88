"""``runpages``: the one argument parser, and the one place that prints errors and exits.

Every subcommand's arguments are defined here; ``cli_commands`` holds what each one does. A
``RunpagesError`` (``runpages.errors``) is printed as ``runpages: error: <message>`` and its
``exit_code`` returned; anything else keeps its traceback (it is a bug). ``runpages --version``
imports nothing heavy.
"""
from __future__ import annotations

import argparse
import sys

from runpages.importers import FORMATS  # names only: the importers load their readers on use
from runpages.sitegen import __version__
from runpages.sitegen import cli_commands as commands


def _runs_args(p: argparse.ArgumentParser) -> None:
    """Where the runs and the settings are: every command that reads a logbook takes these."""
    p.add_argument("runs_dirs", nargs="*", metavar="RUNS_DIR", help="folders of runs (default: ./runs)")
    p.add_argument("--config", metavar="TOML", help="settings file (default: runpages.toml beside the runs)")


def _site_args(p: argparse.ArgumentParser, output_help: str = "where the site goes (default: ./site)") -> None:
    """How the site is built: every command that builds one takes these."""
    p.add_argument("-o", "--output", metavar="SITE_DIR", help=output_help)
    p.add_argument("--title", metavar="TEXT", help="site title")
    p.add_argument("--theme", metavar="DIR", help="theme folder; its templates and static files win")
    p.add_argument("--max-artifact-mb", type=float, metavar="N", dest="max_artifact_mb",
                   help="artifacts larger than this are listed, not copied (default 100)")
    p.add_argument("--artifacts", choices=("copy", "link", "skip"), default=None,
                   help="copy artifacts into the site (default); link: those of runs on a store stay "
                        "there, linked by public URL when the site is published in that store, else by "
                        "a pre-signed URL valid 7 days; skip: list them, copy none")


def _common(p: argparse.ArgumentParser) -> None:
    _runs_args(p)
    _site_args(p)
    p.add_argument("--strict", action="store_true", default=None, help="problems in the runs fail the build")
    p.add_argument("--reports", metavar="DIR", dest="reports_dir",
                   help="folder of report .md files (default: reports/ in or beside the first runs folder)")
    p.add_argument("--cache-dir", metavar="DIR", dest="cache_dir",
                   help="build cache folder, kept outside the site, also holding the mirror of runs on a "
                        "store (default: under ~/.cache/runpages)")


def _port(text: str) -> int:
    """A TCP port, 0 to 65535; anything else is a usage error (exit 2), not a traceback."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535; 0 picks a free one)")
    return port


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runpages", description="Static logbook site from training run folders.")
    parser.add_argument("--version", action="version", version=f"runpages {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser("build", help="build the site from run folders")
    _common(b)
    b.add_argument("--timings", action="store_true",
                   help="also print the seconds each step of the build took (scan, parse, read, pages, save)")
    b.set_defaults(func=commands.build)
    s = sub.add_parser("serve", help="build, then serve the site on 127.0.0.1")
    _common(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)")
    s.add_argument("--watch", action="store_true",
                   help="rebuild what changed when runs, reports, the theme or runpages.toml change; open tabs follow")
    s.add_argument("--poll", type=float, metavar="SECONDS", default=None,
                   help="with --watch: look for changes every SECONDS instead of waiting for file events "
                        "(for NFS, SMB, sshfs, Lustre, GPFS, Docker bind mounts on macOS)")
    s.add_argument("--open", action="store_true", help="open the site in a web browser")
    s.add_argument("--auth", metavar="FILE",
                   help="require HTTP basic auth by the users in FILE (scrypt hashes); needed with a "
                        "--host other than loopback, unless --no-auth")
    s.add_argument("--no-auth", action="store_true", dest="no_auth",
                   help="with a non-loopback --host: serve without login (anyone who can reach it reads every run)")
    s.add_argument("--add-user", metavar="NAME", dest="add_user",
                   help="add NAME to the --auth FILE (asks for the password), then exit")
    s.set_defaults(func=commands.serve)
    _add_report_parsers(sub)
    _add_import_parser(sub)
    _add_check_parser(sub)
    _add_publish_parser(sub)
    _add_init_ci_parser(sub)
    y = sub.add_parser("sync", help="upload run folders to an object store (runs written offline, or "
                                    "the staging folder a killed job left behind)")
    y.add_argument("source", metavar="RUNS_DIR", help="a runs folder or staging folder (<project>/<run-id>/)")
    y.add_argument("url", metavar="STORE_URL", help="e.g. s3://team-logbook/runs")
    y.set_defaults(func=commands.sync)
    return parser


def _add_report_parsers(sub) -> None:
    x = sub.add_parser("export", help="write one report as a single HTML file that opens with no network")
    x.add_argument("report", metavar="REPORT_MD")
    x.add_argument("runs_dirs", nargs="*", metavar="RUNS_DIR",
                   help="folders of runs (default: around the report, else ./runs)")
    x.add_argument("-o", "--output", metavar="FILE", help="default: <report name>.html here")
    x.add_argument("--theme", metavar="DIR")
    x.add_argument("--config", metavar="TOML")
    x.add_argument("--strict", action="store_true", default=None, help="problems in the report fail the export")
    x.add_argument("--media-limit-mb", type=float, default=25.0, metavar="MB",
                   help="inline the media of media/table blocks up to this size in all, then link it (default 25)")
    x.set_defaults(func=commands.export)
    n = sub.add_parser("new-report", help="write a starter report with a chart of the latest runs")
    n.add_argument("title")
    n.add_argument("runs_dirs", nargs="*", metavar="RUNS_DIR")
    n.add_argument("--reports", metavar="DIR", dest="reports_dir")
    n.add_argument("--config", metavar="TOML")
    n.set_defaults(func=commands.new_report)


def _add_import_parser(sub) -> None:
    i = sub.add_parser("import", help="import runs written by other tools (TensorBoard, MLflow, W&B, ...)")
    i.add_argument("source", metavar="SOURCE", help="a file or folder written by another tool (format detected)")
    i.add_argument("-o", "--runs-dir", default=None, metavar="RUNS_DIR",
                   help="where run folders go (default: $RUNPAGES_DIR, else ./runs)")
    i.add_argument("--project", default=None, metavar="NAME",
                   help="project to import into (default: the source's own, else its folder name)")
    i.add_argument("--format", default=None, metavar="NAME", dest="format",
                   help=f"import only this format ({', '.join(FORMATS)}); default: every format found")
    i.add_argument("--pattern", default=None, metavar="REGEX",
                   help="read SOURCE as a text log: each line matching REGEX is a step, its named groups the values")
    i.set_defaults(func=commands.import_runs)


def _add_check_parser(subparsers) -> None:
    from runpages.sitegen.check import DEFAULT_KEEP

    p = subparsers.add_parser(
        "check", help="compare a run with a baseline; exit 0 holds, 1 regressed, 2 could not judge",
        description="Compare a candidate run with a baseline on the rules in runpages.toml [check] "
                    "and --rule. Exit 0: holds; 1: regressed; 2: could not judge.")
    _runs_args(p)
    p.add_argument("--project", metavar="NAME", help="project (needed when the runs hold several)")
    p.add_argument("--run", metavar="ID", help="candidate run (default: $RUNPAGES_RUN_ID, else the newest finished run)")
    g = p.add_argument_group("baseline (one of)")
    g.add_argument("--baseline", metavar="ID", action="append", help="baseline run; repeat for several")
    g.add_argument("--baseline-branch", metavar="BRANCH",
                   help="finished runs recorded on this git branch, at another commit than the candidate")
    g.add_argument("--baseline-file", metavar="FILE", help="snapshot written by --save-baseline")
    p.add_argument("--save-baseline", metavar="FILE",
                   help="add the candidate to this snapshot file when it did not regress (made if missing)")
    p.add_argument("--keep", type=int, metavar="N", help=f"runs kept in the snapshot (default {DEFAULT_KEEP})")
    p.add_argument("--rule", action="append", default=[], metavar="RULE",
                   help="METRIC:max|min:ALLOWED[:VALUE], e.g. val/acc:max:0.005, val/loss:min:2%%, "
                        "val/acc:max:noise:k=2,n=5, val/acc:max:0.01:best; repeatable")
    p.add_argument("--site-url", metavar="URL", help="site address, for links to the run pages")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")
    p.add_argument("--no-record", action="store_true", help="do not keep the result in <runs>/<project>/.checks/")
    p.set_defaults(func=commands.check)


def _add_publish_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "publish", help="build the site and commit it as the whole content of a branch (gh-pages), then push",
        description="Build the site and commit it as the whole content of BRANCH without touching your "
                    "working tree or index, add .nojekyll, and push it (GitHub Pages: deploy from a branch).")
    _runs_args(p)
    _site_args(p, output_help="build here instead of a temporary folder")
    p.add_argument("--to", metavar="STORE_URL",
                   help="upload the site to an object store (s3://bucket/site) instead of a git branch: "
                        "changed files only, old ones removed after the new ones are in place")
    p.add_argument("--branch", default="gh-pages", help="branch that holds the site (default gh-pages)")
    p.add_argument("--remote", default="origin", help="remote to push to (default origin)")
    p.add_argument("-m", "--message", metavar="TEXT", help="commit message")
    p.add_argument("--cname", metavar="DOMAIN", help="custom domain: written to CNAME (kept from the last publish otherwise)")
    p.add_argument("--no-push", action="store_true", help="commit to the local branch only")
    p.add_argument("--no-artifacts", action="store_true", help="the same as --artifacts skip")
    p.set_defaults(func=commands.publish)


def _add_init_ci_parser(subparsers) -> None:
    from runpages.sitegen.ci_workflow import SCHEDULE_PATH, WORKFLOW_PATH

    p = subparsers.add_parser("init-ci", help=f"write {WORKFLOW_PATH}: check on pull requests, deploy to Pages",
                              description=f"Write {WORKFLOW_PATH}: on push and pull request, run your "
                                          "training/eval command, runpages check, build; deploy to GitHub Pages "
                                          "from the main branch.")
    p.add_argument("--command", default="python train.py", help="training/evaluation command (default: a placeholder)")
    p.add_argument("--runs-dir", default="runs", help="runs folder (default runs)")
    p.add_argument("--branch", default="main", help="the branch that deploys (default main)")
    p.add_argument("--python", default="3.11", help="Python version (default 3.11)")
    p.add_argument("--install", default=None,
                   help="how CI installs runpages (default: this repository, requirements.txt, or the "
                        "VCS URL or folder this runpages was installed from)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--baseline-file", default="runpages-baseline.json",
                   help="committed snapshot to compare with (default runpages-baseline.json)")
    g.add_argument("--baseline-branch", help="compare with runs recorded on this branch instead (runs folder committed)")
    p.add_argument("--schedule", metavar="CRON",
                   help="instead: a workflow that rebuilds from the store named by --runs-dir "
                        "(s3://...) on this cron schedule, e.g. \"*/30 * * * *\", and deploys "
                        f"(written to {SCHEDULE_PATH})")
    p.add_argument("--to", metavar="STORE_URL",
                   help="with --schedule: publish into this store (s3://bucket/site) instead of GitHub Pages")
    p.add_argument("-o", "--output", help=f"where to write (default {WORKFLOW_PATH})")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=commands.init_ci)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from runpages.errors import RunpagesError

    try:
        return args.func(args)
    except RunpagesError as err:
        print(f"runpages: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("runpages: interrupted", file=sys.stderr)
        return 130
