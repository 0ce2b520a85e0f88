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
        "artifacts": getattr(args, "artifacts", None),
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
    if args.timings:
        print(result.timings())
    return 0


def serve(args) -> int:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.errors import SiteError
    from runpages.sitegen.serve import is_loopback, make_server, serve_site

    if args.poll is not None and not args.poll > 0:
        raise SiteError(f"--poll takes a number of seconds above 0; got {args.poll:g}")
    if args.poll is not None and not args.watch:
        print("runpages: warning: --poll only matters with --watch; watching", file=sys.stderr)
        args.watch = True
    if args.add_user is not None:
        return _add_user(args)
    users = _serve_auth(args)
    config = _load(args)
    server = make_server(config.output, host=args.host, port=args.port)   # a taken port fails before the build
    if users is not None:
        from runpages.sitegen.auth import BasicAuth

        server.auth = BasicAuth(users)
    elif not is_loopback(args.host):
        print(f"runpages: warning: listening on {args.host} with --no-auth: anyone who can reach "
              f"this machine on port {server.server_address[1]} can read the site and every run in it",
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
        stop, shown = _poll_stores(config, args.poll, stop)
        print(f"Watching {', '.join(shown)} ({how})", flush=True)
        return serve_site(config.output, server=server, live=live, open_browser=args.open, on_stop=stop)
    finally:
        server.server_close()


def _serve_auth(args) -> dict | None:
    """The users ``--auth`` names, or None; a non-loopback ``--host`` needs one of the two flags."""
    from runpages.sitegen.serve import is_loopback

    if args.auth and args.no_auth:
        raise SiteError("--auth and --no-auth: pick one")
    if args.auth:
        from runpages.sitegen.auth import load_users

        return load_users(args.auth)
    if not is_loopback(args.host) and not args.no_auth:
        raise SiteError(f"--host {args.host} lets other machines in: add --auth FILE (users with "
                        f"passwords; make one with runpages serve --auth FILE --add-user NAME), "
                        f"or --no-auth to serve without login")
    return None


def _add_user(args) -> int:
    """``serve --auth FILE --add-user NAME``: the password from the terminal (asked twice), or
    one line of stdin when it is not a terminal (scripts); never from the command line."""
    import getpass

    from runpages.sitegen.auth import add_user

    if not args.auth:
        raise SiteError("--add-user NAME needs --auth FILE: the file the user goes into")
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.add_user}: ")
        if getpass.getpass("again: ") != password:
            raise SiteError("the passwords differ; no user added")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    replaced = add_user(args.auth, args.add_user, password)
    print(f"{'replaced the password of' if replaced else 'added'} {args.add_user} in {args.auth}")
    return 0


def _poll_stores(config, poll, stop):
    """Runs on a store: refresh their mirror every ``poll`` (default 15) seconds; the watcher
    sees the mirror's files change. Returns the combined stop and the folders to show."""
    from runpages.sitegen.storemirror import cache_root, poll_mirrors, url_of

    root = cache_root(config)
    shown = [url_of(d, root) or str(d) for d in config.runs_dirs]
    if not any(url_of(d, root) for d in config.runs_dirs):
        return stop, shown
    said: set[str] = set()

    def warn_once(message: str) -> None:
        if message not in said:
            said.add(message)
            print(f"runpages: warning: {message}; retrying", file=sys.stderr)
    poller = poll_mirrors(config, poll or 15.0, warn_once)

    def stop_both(*a, **kw):
        poller.set()
        return stop(*a, **kw)
    return stop_both, shown


def sync(args) -> int:
    """``runpages sync RUNS_DIR STORE_URL``: upload what the store lacks; dead runs compacted."""
    from runpages.store import is_store_url, sync_folder

    if not is_store_url(args.url):
        raise SiteError(f"{args.url}: not a store URL (e.g. s3://bucket/runs)")
    if not os.path.isdir(args.source):
        raise SiteError(f"{args.source}: folder not found")
    try:
        results = sync_folder(args.source, args.url)
    except Exception as err:  # the store's client errors have no common base
        raise SiteError(f"cannot upload to {args.url}: {type(err).__name__}: {err}") from None
    for r in results:
        state = "complete" if r["compacted"] else "still running, segments only"
        print(f"{r['run']}: {r['objects']} objects, {r['bytes']} bytes ({state})")
    print(f"synced {len(results)} runs to {args.url}")
    return 0


def export(args) -> int:
    from runpages.sitegen.config import load_config
    from runpages.sitegen.export import export_report, guess_runs_dir

    guess = guess_runs_dir(args.report)
    overrides = {"runs_dirs": args.runs_dirs or ([str(guess)] if guess else None),
                 "theme": args.theme, "strict": args.strict}
    config, warnings = load_config(Path(args.config) if args.config else None, overrides)
    for w in warnings:
        print(f"runpages: warning: {w}", file=sys.stderr)
    path, problems = export_report(args.report, config, args.output,
                                   media_limit_mb=getattr(args, "media_limit_mb", 25.0))
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

    runs_dir = args.runs_dir or os.environ.get("RUNPAGES_DIR") or "runs"
    result = import_source(args.source, runs_dir, project=args.project, pattern=args.pattern,
                           format=getattr(args, "format", None))
    if len(result.found) > 1:
        print("runpages: found " + ", ".join(f"{n} {fmt} run{'s' * (n != 1)}"
                                             for fmt, n in result.found.items()))
    where = ", ".join(os.path.join(runs_dir, p) for p in dict.fromkeys(result.projects.values()))
    n, s = len(result.written), len(result.skipped)
    print(f"runpages: imported {n} run{'s' * (n != 1)} ({result.format}) into {where}"
          + (f"; {s} already imported" if s else ""))
    for note in result.notes:
        print(f"runpages: note: {note}")
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

    to = getattr(args, "to", None)
    if to:
        from runpages.store import is_store_url

        if not is_store_url(to):
            raise SiteError(f"--to takes a store URL such as s3://bucket/site; got {to!r}")
    else:
        git = find_repo(Path.cwd())
        check_target(git, branch=args.branch, remote=args.remote, push=not args.no_push)
    with tempfile.TemporaryDirectory(prefix="runpages-site-") as tmp:
        overrides = {"runs_dirs": args.runs_dirs or None, "output": args.output or os.path.join(tmp, "site"),
                     "title": args.title, "theme": args.theme, "max_artifact_mb": args.max_artifact_mb,
                     "artifacts": "skip" if args.no_artifacts else args.artifacts, "publish_to": to}
        config, warnings = load_config(Path(args.config) if args.config else None, overrides)
        if not args.output:     # a throw-away site: its build cache goes with it, not into ~/.cache
            from runpages.sitegen.storemirror import cache_root

            # but a store's mirror stays where a build keeps it: the next publish fetches
            # only what changed, not the whole bucket
            config.mirror_root = cache_root(config)
            config.cache_dir = Path(tmp) / "cache"
        for w in warnings:
            if "'check'" not in w:
                print(f"runpages: warning: {w}", file=sys.stderr)
        require_inputs(config)
        result = build_site(config)
        for line in summarize_problems(result.problems):
            print(f"runpages: warning: {line}", file=sys.stderr)
        print(result.summary())
        if to:
            return _publish_to_store(Path(config.output), to)
        publish_site(git, Path(config.output), branch=args.branch, remote=args.remote, message=args.message,
                     cname=args.cname, push=not args.no_push)
    return 0


def _publish_to_store(site: Path, url: str) -> int:
    from runpages.sitegen.publish_store import publish_to_store

    try:
        r = publish_to_store(site, url)
    except Exception as err:  # the store's client errors have no common base
        raise SiteError(f"cannot publish to {url}: {type(err).__name__}: {err}") from None
    print(f"published to {url}: {r['uploaded']} uploaded ({r['bytes'] / 2**20:.1f} MB), "
          f"{r['unchanged']} unchanged, {r['deleted']} deleted")
    print(r["url"])
    return 0


def init_ci(args) -> int:
    from runpages.sitegen.ci_workflow import install_command, write_workflow

    install = args.install or install_command(Path.cwd())
    if args.schedule:
        path = write_workflow(args.output, force=args.force, schedule=args.schedule,
                              runs=args.runs_dir, to=args.to, python=args.python, install=install)
        where = f"publishes into {args.to}" if args.to else "deploys to GitHub Pages"
        print(f"wrote {path}: it rebuilds from {args.runs_dir} on \"{args.schedule}\" and {where}; "
              "add the store's credentials as repository secrets (named in the file)")
        return 0
    path = write_workflow(args.output, force=args.force, runs=args.runs_dir, command=args.command,
                          python=args.python, branch=args.branch, baseline_file=args.baseline_file,
                          baseline_branch=args.baseline_branch, install=install,
                          to=args.to)
    print(f"wrote {path}: edit its \"Train / evaluate\" step, add [[check.rules]] to runpages.toml, "
          "and set Settings > Pages > Source to GitHub Actions", file=sys.stdout)
    return 0
