"""``runpages``: parse arguments, import lazily, map errors to exit codes. The only place that exits.

Commands are plain functions (``build``, ``serve``) taking parsed arguments and returning an
exit code. A ``SiteError`` is printed as ``runpages: error: <message>`` with exit code 1;
anything else keeps its traceback (it is a bug). ``runpages --version`` imports nothing heavy.
"""
from __future__ import annotations

import argparse
import sys

from runpages.sitegen import __version__


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs_dirs", nargs="*", metavar="RUNS_DIR", help="folders of runs (default: ./runs)")
    p.add_argument("-o", "--output", metavar="SITE_DIR", help="where the site goes (default: ./site)")
    p.add_argument("--title", metavar="TEXT", help="site title")
    p.add_argument("--theme", metavar="DIR", help="theme folder; its templates and static files win")
    p.add_argument("--strict", action="store_true", default=None, help="problems in the runs fail the build")
    p.add_argument("--max-artifact-mb", type=float, metavar="N", dest="max_artifact_mb",
                   help="artifacts larger than this are listed, not copied (default 100)")
    p.add_argument("--config", metavar="TOML", help="settings file (default: runpages.toml beside the runs)")
    p.add_argument("--reports", metavar="DIR", dest="reports_dir",
                   help="folder of report .md files (default: reports/ in or beside the first runs folder)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runpages", description="Static logbook site from training run folders.")
    parser.add_argument("--version", action="version", version=f"runpages {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser("build", help="build the site from run folders")
    _common(b)
    b.set_defaults(func=build)
    s = sub.add_parser("serve", help="build, then serve the site on 127.0.0.1")
    _common(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    s.add_argument("--watch", action="store_true",
                   help="rebuild what changed when runs, reports, the theme or runpages.toml change; open tabs follow")
    s.add_argument("--poll", type=float, metavar="SECONDS", default=None,
                   help="with --watch: look for changes every SECONDS instead of waiting for file events "
                        "(for NFS, SMB, sshfs, Lustre, GPFS, Docker bind mounts on macOS)")
    s.add_argument("--open", action="store_true", help="open the site in a web browser")
    s.set_defaults(func=serve)
    _add_report_parsers(sub)
    _add_import_parser(sub)
    from runpages.sitegen.check import add_check_parser
    from runpages.sitegen.ci_workflow import add_init_ci_parser
    from runpages.sitegen.publish import add_publish_parser

    add_check_parser(sub)
    add_publish_parser(sub)
    add_init_ci_parser(sub)
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
    x.set_defaults(func=export)
    n = sub.add_parser("new-report", help="write a starter report with a chart of the latest runs")
    n.add_argument("title")
    n.add_argument("runs_dirs", nargs="*", metavar="RUNS_DIR")
    n.add_argument("--reports", metavar="DIR", dest="reports_dir")
    n.add_argument("--config", metavar="TOML")
    n.set_defaults(func=new_report)


def _add_import_parser(sub) -> None:
    i = sub.add_parser("import", help="import runs written by other tools (TensorBoard, MLflow, W&B, ...)")
    i.add_argument("source", metavar="SOURCE", help="a file or folder written by another tool (format detected)")
    i.add_argument("-o", "--runs-dir", default=None, metavar="RUNS_DIR",
                   help="where run folders go (default: $RUNPAGES_DIR, else ./runs)")
    i.add_argument("--project", default=None, metavar="NAME",
                   help="project to import into (default: the source's own, else its folder name)")
    i.add_argument("--pattern", default=None, metavar="REGEX",
                   help="read SOURCE as a text log: each line matching REGEX is a step, its named groups the values")
    i.set_defaults(func=import_runs)


def _load(args):
    from pathlib import Path

    from runpages.sitegen.config import load_config

    overrides = {
        "runs_dirs": args.runs_dirs or None,
        "output": args.output,
        "title": args.title,
        "theme": args.theme,
        "strict": args.strict,
        "max_artifact_mb": args.max_artifact_mb,
        "reports_dir": getattr(args, "reports_dir", None),
    }
    config, warnings = load_config(Path(args.config) if args.config else None, overrides)
    for w in warnings:
        print(f"runpages: warning: {w}", file=sys.stderr)
    return config


def _report(result) -> None:
    from runpages.sitegen.reader import summarize_problems

    for line in summarize_problems(result.problems):
        print(f"runpages: warning: {line}", file=sys.stderr)
    print(result.summary())


def build(args) -> int:
    from runpages.sitegen.build import build_site

    config = _load(args)
    result = build_site(config)
    _report(result)
    return 0


def serve(args) -> int:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.errors import SiteError
    from runpages.sitegen.serve import make_server, serve_site

    if args.poll is not None and not args.poll > 0:
        raise SiteError(f"--poll takes a number of seconds above 0; got {args.poll:g}")
    if args.poll is not None and not args.watch:
        print("runpages: warning: --poll only matters with --watch; watching", file=sys.stderr)
        args.watch = True
    config = _load(args)
    server = make_server(config.output, host=args.host, port=args.port)   # a taken port fails before the build
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"runpages: warning: listening on {args.host}: anyone who can reach this machine "
              f"on port {server.server_address[1]} can read the site and every run in it",
              file=sys.stderr)
    try:
        result = build_site(config)
        _report(result)
        if not args.watch:
            return serve_site(config.output, server=server, open_browser=args.open)
        from runpages.sitegen.livereload import LiveState
        from runpages.sitegen.render import _theme_dirs
        from runpages.sitegen.watch import watch_site

        live = LiveState()
        server.live = live
        server.theme_dirs = _theme_dirs(config.theme)
        _rebuilder, stop = watch_site(config, live, load_config=lambda: _load(args), poll=args.poll)
        how = f"polling every {args.poll:g} s" if args.poll else "file events"
        print(f"Watching {', '.join(str(d) for d in config.runs_dirs)} ({how})", flush=True)
        return serve_site(config.output, server=server, live=live, open_browser=args.open, on_stop=stop)
    finally:
        server.server_close()


def export(args) -> int:
    from pathlib import Path

    from runpages.sitegen.config import load_config
    from runpages.sitegen.export import export_report, guess_runs_dir

    guess = guess_runs_dir(args.report)
    overrides = {"runs_dirs": args.runs_dirs or ([str(guess)] if guess else None),
                 "theme": args.theme, "strict": args.strict}
    config, warnings = load_config(Path(args.config) if args.config else None, overrides)
    for w in warnings:
        print(f"runpages: warning: {w}", file=sys.stderr)
    path, problems = export_report(args.report, config, args.output)
    for p in problems:
        print(f"runpages: warning: {p}", file=sys.stderr)
    print(f"wrote {path}")
    return 0


def new_report(args) -> int:
    from pathlib import Path

    from runpages.sitegen.config import load_config
    from runpages.sitegen.export import new_report as write_starter

    config, warnings = load_config(Path(args.config) if args.config else None,
                                   {"runs_dirs": args.runs_dirs or None, "reports_dir": args.reports_dir})
    for w in warnings:
        print(f"runpages: warning: {w}", file=sys.stderr)
    print(write_starter(args.title, config.runs_dirs, reports_dir=config.reports_dir))
    return 0


def import_runs(args) -> int:
    from runpages.importers import run_import

    return run_import(args)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from runpages.sitegen.errors import SiteError

    try:
        return args.func(args)
    except SiteError as err:
        print(f"runpages: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("runpages: interrupted", file=sys.stderr)
        return 130
