"""What each ``runpages`` command does with its parsed arguments, and what it prints.

Each handler turns ``argparse`` arguments into a call of a plain function (``build_site``,
``check``, ``publish_site``, ``import_source``, ...), prints the result and returns the exit
code. Failures are raised (``RunpagesError``); ``cli.main`` prints them and picks the code.
Heavy modules are imported inside the handlers, so ``runpages --version`` stays light.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from runpages.sitegen.errors import SiteError


def _load(args):
    from runpages.sitegen.config import load_config

    overrides = {
        "runs_dirs": args.runs_dirs or None,
        "output": args.output,
        "title": args.title,
        "theme": args.theme,
        "strict": args.strict,
        "max_artifact_mb": args.max_artifact_mb,
        "reports_dir": getattr(args, "reports_dir", None),
        "cache_dir": getattr(args, "cache_dir", None),
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
    from runpages.sitegen.config import require_inputs

    config = _load(args)
    require_inputs(config)
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
    from runpages.sitegen.config import load_config
    from runpages.sitegen.export import new_report as write_starter

    config, warnings = load_config(Path(args.config) if args.config else None,
                                   {"runs_dirs": args.runs_dirs or None, "reports_dir": args.reports_dir})
    for w in warnings:
        print(f"runpages: warning: {w}", file=sys.stderr)
    print(write_starter(args.title, config.runs_dirs, reports_dir=config.reports_dir))
    return 0


def import_runs(args) -> int:
    import os

    from runpages.importers import import_source
    from runpages.names import safe_dir_name

    runs_dir = args.runs_dir or os.environ.get("RUNPAGES_DIR") or "runs"
    result = import_source(args.source, runs_dir, project=args.project, pattern=args.pattern)
    where = os.path.join(runs_dir, safe_dir_name(result.project))
    n, s = len(result.written), len(result.skipped)
    print(f"runpages: imported {n} run{'s' * (n != 1)} ({result.format}) into {where}"
          + (f"; {s} already imported" if s else ""))
    if result.problems:
        print(f"runpages: {len(result.problems)} problem"
              f"{'s' * (len(result.problems) != 1)} (the rest was imported):")
        for p in result.problems:
            print(f"  {p}")
    if not n and not s:
        raise SiteError("no run found in the source.")
    return 0


def check(args) -> int:
    """The ``check`` command: outputs written, exit code returned (0, 1 or 2)."""
    from runpages.sitegen.check import check as run_check
    from runpages.sitegen.check_baseline import CannotJudge
    from runpages.sitegen.check_report import junit, markdown, to_json

    try:
        record, notes = run_check(args)
    except CannotJudge as err:
        record, notes = {"runpages_check": 1, "verdict": "error", "exit_code": 2, "message": str(err),
                         "results": [], "candidate": None, "baseline": None, "project": args.project}, []
    for note in notes:
        print(f"runpages: check: {note}", file=sys.stderr)
    text = markdown(record)
    out = {k: v for k, v in record.items() if k != "record_file"}
    sys.stdout.write(to_json(out) if args.json else text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as err:
            print(f"runpages: check: could not append to $GITHUB_STEP_SUMMARY ({err})", file=sys.stderr)
    if args.junit:
        from runpages.sitegen.atomic import write_atomic

        write_atomic(args.junit, junit(record))
    if record["exit_code"] == 2:
        print(f"runpages: check: could not judge: {record['message']}", file=sys.stderr)
    return int(record["exit_code"])


def publish(args) -> int:
    """The ``publish`` command: build into a temporary folder (or ``-o``), then commit and push."""
    import tempfile

    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import require_inputs
    from runpages.sitegen.config import load_config
    from runpages.sitegen.publish import check_target, find_repo, publish_site
    from runpages.sitegen.reader import summarize_problems

    git = find_repo(Path.cwd())
    check_target(git, branch=args.branch, remote=args.remote, push=not args.no_push)
    with tempfile.TemporaryDirectory(prefix="runpages-site-") as tmp:
        overrides = {"runs_dirs": args.runs_dirs or None, "output": args.output or os.path.join(tmp, "site"),
                     "title": args.title, "theme": args.theme, "max_artifact_mb": args.max_artifact_mb}
        if not args.output:     # a throw-away site: its cache goes with it, not into ~/.cache
            overrides["cache_dir"] = os.path.join(tmp, "cache")
        config, warnings = load_config(Path(args.config) if args.config else None, overrides)
        for w in warnings:
            if "'check'" not in w:
                print(f"runpages: warning: {w}", file=sys.stderr)
        if args.no_artifacts:
            config.max_artifact_mb = 0.0          # every artifact listed, none copied
        require_inputs(config)
        result = build_site(config)
        for line in summarize_problems(result.problems):
            print(f"runpages: warning: {line}", file=sys.stderr)
        print(result.summary())
        publish_site(git, Path(config.output), branch=args.branch, remote=args.remote, message=args.message,
                     cname=args.cname, push=not args.no_push)
    return 0


def init_ci(args) -> int:
    from runpages.sitegen.ci_workflow import install_command, write_workflow

    install = args.install or install_command(Path.cwd())
    path = write_workflow(args.output, force=args.force, runs=args.runs_dir, command=args.command,
                          python=args.python, branch=args.branch, baseline_file=args.baseline_file,
                          baseline_branch=args.baseline_branch, install=install)
    print(f"wrote {path}: edit its \"Train / evaluate\" step, add [[check.rules]] to runpages.toml, "
          "and set Settings > Pages > Source to GitHub Actions", file=sys.stdout)
    return 0
