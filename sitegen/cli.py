"""``runpages``: parse arguments, import lazily, map errors to exit codes. The only place that exits.

Commands are plain functions (``build``, ``serve``) taking parsed arguments and returning an
exit code. A ``SiteError`` is printed as ``runpages: error: <message>`` with exit code 1;
anything else keeps its traceback (it is a bug). ``runpages --version`` imports nothing heavy.
"""
from __future__ import annotations

import argparse
import sys

from sitegen import __version__


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs_dirs", nargs="*", metavar="RUNS_DIR", help="folders of runs (default: ./runs)")
    p.add_argument("-o", "--output", metavar="SITE_DIR", help="where the site goes (default: ./site)")
    p.add_argument("--title", metavar="TEXT", help="site title")
    p.add_argument("--theme", metavar="DIR", help="theme folder; its templates and static files win")
    p.add_argument("--strict", action="store_true", default=None, help="problems in the runs fail the build")
    p.add_argument("--max-artifact-mb", type=float, metavar="N", dest="max_artifact_mb",
                   help="artifacts larger than this are listed, not copied (default 100)")
    p.add_argument("--config", metavar="TOML", help="settings file (default: runpages.toml beside the runs)")


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
    s.set_defaults(func=serve)
    return parser


def _load(args):
    from pathlib import Path

    from sitegen.config import load_config

    overrides = {
        "runs_dirs": args.runs_dirs or None,
        "output": args.output,
        "title": args.title,
        "theme": args.theme,
        "strict": args.strict,
        "max_artifact_mb": args.max_artifact_mb,
    }
    config, warnings = load_config(Path(args.config) if args.config else None, overrides)
    for w in warnings:
        print(f"runpages: warning: {w}", file=sys.stderr)
    return config


def _report(result) -> None:
    from sitegen.reader import summarize_problems

    for line in summarize_problems(result.problems):
        print(f"runpages: warning: {line}", file=sys.stderr)
    print(result.summary())


def build(args) -> int:
    from sitegen.build import build_site

    config = _load(args)
    result = build_site(config)
    _report(result)
    return 0


def serve(args) -> int:
    from sitegen.build import build_site
    from sitegen.serve import serve_site

    config = _load(args)
    result = build_site(config)
    _report(result)
    return serve_site(config.output, host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from sitegen.errors import SiteError

    try:
        return args.func(args)
    except SiteError as err:
        print(f"runpages: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("runpages: interrupted", file=sys.stderr)
        return 130
