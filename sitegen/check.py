"""``runpages check``: does a candidate run hold up against a baseline? Exit 0 (holds),
1 (regressed) or 2 (could not judge: run, metric or baseline missing, bad rules).

Candidate: ``--run ID``, else ``$RUNPAGES_RUN_ID``, else the newest finished run of the project.
Baseline, newest first, one of:
  ``--baseline ID`` (repeatable)        those runs (their mean; a noise rule uses each)
  ``--baseline-branch main``            finished runs whose meta.json ``git.branch`` is main, at
                                        another commit than the candidate; plain rules compare
                                        with the runs of the newest such commit, noise rules
                                        with the newest ``n`` runs
  ``--baseline-file FILE``              a snapshot written by ``--save-baseline FILE``
``--save-baseline FILE`` adds the candidate (when it did not regress) to the front of the
snapshot FILE, keeping the newest ``--keep`` runs, so the file can be committed and used by
CI machines that do not have the baseline runs.

Settings in ``runpages.toml`` (every key optional; command-line flags win)::

    [check]
    project = "cifar10-resnet"
    baseline_branch = "main"          # or baseline_file = "runpages-baseline.json"
    site_url = "https://team.github.io/logbook"
    record = true                     # keep each result in <runs>/<project>/.checks/
    [[check.rules]]                   # see sitegen/check_rules.py for every form
    metric = "val/acc"
    allowed = 0.005

Invariants: every failure to judge is exit 2 with one message saying what is missing and how
to give it; the check record is written next to the runs only when a candidate was found;
importing this module does not import pandas (the CLI imports it to add the subcommand).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runpages.sitegen.check_baseline import (CannotJudge, Entry, branch_baseline, choose_candidate, file_baseline,
                                    run_baseline, save_snapshot)

CHECK_KEYS = ("project", "baseline_branch", "baseline_file", "site_url", "record", "keep", "rules")
DEFAULT_KEEP = 20


@dataclass
class CheckSettings:
    project: str | None = None
    baseline_branch: str | None = None
    baseline_file: Path | None = None
    site_url: str | None = None
    record: bool = True
    keep: int = DEFAULT_KEEP
    rules: list = field(default_factory=list)


def load_check_settings(toml_path: Path | None) -> CheckSettings:
    """The ``[check]`` table of ``runpages.toml``; raises ``CannotJudge`` listing every problem."""
    import tomllib

    from runpages.sitegen.check_rules import rules_from_toml
    from runpages.sitegen.config import nearest_key

    settings = CheckSettings()
    if toml_path is None or not Path(toml_path).is_file():
        return settings
    try:
        raw = tomllib.loads(Path(toml_path).read_text(encoding="utf-8")).get("check", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CannotJudge(f"{toml_path}: {err}") from None
    if not isinstance(raw, dict):
        raise CannotJudge(f"{toml_path}: check: expected a table ([check])")
    problems = []
    base = Path(toml_path).parent
    for key, value in raw.items():
        if key not in CHECK_KEYS:
            hint = nearest_key(key, CHECK_KEYS)
            problems.append(f"check.{key}: unknown key" + (f"; did you mean {hint!r}?" if hint else ""))
        elif key == "rules":
            settings.rules, bad = rules_from_toml(value)
            problems += bad
        elif key == "record":
            if not isinstance(value, bool):
                problems.append("check.record: expected true or false")
            settings.record = bool(value)
        elif key == "keep":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append("check.keep: expected a whole number of at least 1")
            else:
                settings.keep = value
        elif not isinstance(value, str) or not value:
            problems.append(f"check.{key}: expected text")
        elif key == "baseline_file":
            settings.baseline_file = base / value
        else:
            setattr(settings, key, value)
    if problems:
        raise CannotJudge(f"{toml_path}: {len(problems)} problem{'s' if len(problems) > 1 else ''} in [check]"
                          + "".join(f"\n  - {p}" for p in problems))
    return settings


# ---- the command --------------------------------------------------------------------------

def _site_links(site, site_url: str | None):
    if not site_url:
        return None, None
    from runpages.sitegen.logbook import run_page_path, slug
    from runpages.sitegen.pages.checks import checks_url as checks_page

    root = site_url.rstrip("/") + "/"

    def run_url(entry: Entry) -> str:
        if entry.run is not None:
            return root + site.run_url(entry.run)
        return root + run_page_path(slug(entry.project), slug(entry.id))

    def checks_url(project) -> str:
        return root + checks_page(project, site)
    return run_url, checks_url


def _rules(settings: CheckSettings, cli_rules: list[str]):
    from runpages.sitegen.check_rules import RuleError, parse_rule

    parsed, bad = [], []
    for text in cli_rules or []:
        try:
            parsed.append(parse_rule(text))
        except RuleError as err:
            bad.append(str(err))
    if bad:
        raise CannotJudge("bad rule" + ("s" if len(bad) > 1 else "") + ":" + "".join(f"\n  - {b}" for b in bad))
    overridden = {r.metric for r in parsed}
    rules = [r for r in settings.rules if r.metric not in overridden] + parsed
    return rules


def check(args, env=os.environ, now: float | None = None) -> tuple[dict[str, Any], list[str]]:
    """Select, judge, record, save: ``(record, notes for stderr)``; raises ``CannotJudge``
    before a candidate is known."""
    from runpages.sitegen.check_report import result_dict
    from runpages.sitegen.check_rules import EXIT_CODES, ERROR, REGRESSED, judge, overall
    from runpages.sitegen.config import load_config
    from runpages.sitegen.errors import SiteError
    from runpages.sitegen.logbook import load_logbook

    notes: list[str] = []
    try:
        config, warnings = load_config(Path(args.config) if args.config else None,
                                       {"runs_dirs": args.runs_dirs or None})
    except SiteError as err:
        raise CannotJudge(str(err)) from None
    notes += [w for w in warnings if "'check'" not in w]
    settings = load_check_settings(config.source)
    rules = _rules(settings, args.rule)
    save_to = Path(args.save_baseline) if args.save_baseline else None
    if not rules and not save_to:
        raise CannotJudge("no rules: add [[check.rules]] to runpages.toml or pass --rule, "
                          "e.g. --rule val/acc:max:0.005")

    from runpages.sitegen.storemirror import refresh_mirrors

    try:
        refresh_mirrors(config)
    except SiteError as err:
        raise CannotJudge(str(err)) from None
    book = load_logbook(config, reports=False, checks=False)
    projects, problems = book.projects, book.problems
    missing = [p for p in problems if p.reason == "runs folder not found"]
    if missing:
        raise CannotJudge("runs folder not found: " + ", ".join(p.path for p in missing))
    run_ref = args.run or env.get("RUNPAGES_RUN_ID") or None
    candidate, project = choose_candidate(projects, run_ref, args.project or settings.project)
    if candidate.status != "finished":
        notes.append(f"the candidate run {candidate.id} is {candidate.status}, not finished")
    site_url = args.site_url or settings.site_url
    run_url, checks_url = _site_links(book.site, site_url)

    now = time.time() if now is None else now
    cand = Entry.of_run(candidate)
    record: dict[str, Any] = {
        "runpages_check": 1, "checked_at": now, "project": project.name,
        "candidate": cand.to_dict(run_url(cand) if run_url else None),
        "baseline": None, "results": [], "verdict": ERROR, "exit_code": 2, "message": "",
    }
    if checks_url:
        record["checks_url"] = checks_url(project)

    explicit = bool(args.baseline or args.baseline_branch or args.baseline_file)
    branch = args.baseline_branch or (None if explicit else settings.baseline_branch)
    snapshot = (Path(args.baseline_file) if args.baseline_file
                else None if explicit or settings.baseline_branch else settings.baseline_file)
    # The first save into a new snapshot file has nothing to be compared with yet.
    first_save = bool(save_to and snapshot and not snapshot.exists() and _same(save_to, snapshot))
    try:
        if not rules or first_save:
            baseline = None
        elif args.baseline:
            baseline = run_baseline(projects, args.baseline, project.name)
        elif branch:
            baseline = branch_baseline(project, branch, candidate)
        elif snapshot:
            baseline = file_baseline(snapshot, project.name, candidate)
        elif save_to:
            baseline = None
        else:
            raise CannotJudge("no baseline: pass --baseline ID, --baseline-branch BRANCH or "
                              "--baseline-file FILE (or set baseline_branch or baseline_file in [check] "
                              "of runpages.toml)")
    except CannotJudge as err:
        record["message"] = str(err)
        return _finish(record, args, settings, candidate, notes)

    if baseline is None:
        # Only saving: no rules, or the first run of a new snapshot.
        n = save_snapshot(save_to, candidate, args.keep or settings.keep)
        why = "no rules to check" if not rules else "no baseline yet"
        notes.append(f"{why}: saved {candidate.id} as the baseline in {save_to} ({n} run{'s' if n != 1 else ''})")
        record.update(verdict="holds", exit_code=0, message=f"{why}; the candidate was saved as the baseline")
        return record, notes

    record["baseline"] = {"label": baseline.label,
                          "runs": [e.to_dict(run_url(e) if run_url else None) for e in baseline.entries]}
    results = []
    primary = baseline.primary()
    for rule in rules:
        pool = baseline.entries if rule.allowed_kind == "noise" else primary
        results.append(judge(rule, cand.value(rule), [e.value(rule) for e in pool]))
    verdict = overall(results)
    record["results"] = [result_dict(r) for r in results]
    record["verdict"] = verdict
    record["exit_code"] = EXIT_CODES[verdict]
    if verdict == ERROR:
        record["message"] = "; ".join(r.reason for r in results if r.verdict == ERROR)
    record, notes = _finish(record, args, settings, candidate, notes)
    if save_to:
        if verdict in (ERROR, REGRESSED):
            notes.append(f"not saved as the baseline: the check {'regressed' if verdict == REGRESSED else 'could not judge'}")
        else:
            n = save_snapshot(save_to, candidate, args.keep or settings.keep)
            notes.append(f"saved {candidate.id} as the baseline in {save_to} ({n} run{'s' if n != 1 else ''})")
    return record, notes


def _same(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _finish(record, args, settings, candidate, notes):
    from runpages.sitegen.check_report import save_record

    if record["verdict"] == "error" and not record["message"]:
        record["message"] = "could not judge"
    if settings.record and not args.no_record:
        try:
            path = save_record(Path(candidate.dir).parent, record)
            record["record_file"] = str(path)
        except OSError as err:
            notes.append(f"could not record the check next to the runs ({err})")
    return record, notes
