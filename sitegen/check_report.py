"""What ``runpages check`` writes: the Markdown table, JUnit XML, JSON, and the check record
kept next to the runs (``<runs>/<project>/.checks/<time>-<candidate>.json``).

Invariants: user text (run names, metric names, branches) is escaped for Markdown and for XML;
a record is written by temp name + rename and never overwrites an earlier one; none of this
imports pandas.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as _xml_escape, quoteattr as _xml_attr

from runpages.schema import NONFINITE_TOKENS
from runpages.sitegen.atomic import write_atomic
from runpages.sitegen.check_rules import ERROR, HOLDS, IMPROVED, REGRESSED, Result
from runpages.sitegen.values import format_number

from runpages.sitegen.logbook import CHECKS_DIR, slug  # noqa: F401 - CHECKS_DIR: the records' folder

RECORD_VERSION = 1

VERDICT_MARK = {IMPROVED: "\u2705 improved", HOLDS: "\u2705 holds", REGRESSED: "\u274c regressed",
                ERROR: "\u26a0\ufe0f could not judge"}
OVERALL_TITLE = {HOLDS: "\u2705 holds", REGRESSED: "\u274c regressed", ERROR: "\u26a0\ufe0f could not judge"}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: Any) -> str:
    """Plain text safe inside a Markdown table cell (no HTML, no links, no column breaks)."""
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return " ".join(s.split())


def num(v: Any) -> float | None:
    """A number from a record, where non-finite ones are strings; None where it holds none."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        return NONFINITE_TOKENS.get(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v: float | None) -> str:
    """A check value by the one display rule; a dash where there is none."""
    return "\u2014" if v is None else format_number(v)


def fmt_change(r: Result) -> str:
    if r.change is None:
        return "\u2014"
    s = ("+" if r.change > 0 else "") + format_number(r.change)
    if r.change_pct is not None:
        s += f" ({r.change_pct:+.2f}%)"
    return s


def fmt_allowed(r: Result) -> str:
    text = r.rule.describe_allowed()
    if r.bound is None:
        return text
    op = "\u2265" if r.rule.direction == "max" else "\u2264"
    return f"{text} ({op} {fmt(r.bound)})"


def _link(text: str, url: str | None) -> str:
    return f"[{text}]({url})" if url else text


def _run_label(entry: dict[str, Any]) -> str:
    name = md(entry.get("name") or entry.get("id") or "?")
    bits = []
    if entry.get("commit"):
        bits.append(f"commit {md(str(entry['commit'])[:7])}" + ("\\*" if entry.get("dirty") else ""))
    if entry.get("branch"):
        bits.append(f"branch {md(entry['branch'])}")
    return name + (f" ({', '.join(bits)})" if bits else "")


def markdown(record: dict[str, Any]) -> str:
    """The table for stdout and ``$GITHUB_STEP_SUMMARY``."""
    verdict = record["verdict"]
    project = record.get("project") or ""
    lines = [f"### runpages check: {OVERALL_TITLE.get(verdict, verdict)}"
             + (f" \u00b7 {md(project)}" if project else ""), ""]
    cand = record.get("candidate")
    base = record.get("baseline")
    if cand:
        lines.append(f"Candidate: {_link(_run_label(cand), cand.get('url'))}  ")
    if base:
        head = base.get("runs") or []
        first = head[0] if head else {}
        n = len(head)
        lines.append(f"Baseline: {md(base.get('label', ''))}: {_link(_run_label(first), first.get('url'))}"
                     + (f" and {n - 1} more run{'s' if n > 2 else ''}" if n > 1 else ""))
    if record.get("message"):
        first, *more = str(record["message"]).splitlines()
        label = "Could not judge" if verdict == ERROR else "Note"
        lines += ["", f"**{label}:** {md(first)}"] + [f"- {md(m.strip().lstrip('- '))}" for m in more if m.strip()]
    results = record.get("results") or []
    if results:
        lines += ["", "| Metric | Baseline | Candidate | Change | Allowed | Verdict |",
                  "| --- | ---: | ---: | ---: | --- | --- |"]
        cand_url = (cand or {}).get("url")
        base_url = ((base or {}).get("runs") or [{}])[0].get("url")
        for r in results:
            note = f": {md(r['reason'])}" if r.get("reason") and r["verdict"] in (ERROR, REGRESSED) else ""
            base_cell = _link(fmt(num(r.get("baseline"))), base_url)
            if r.get("baseline_n", 0) > 1:
                base_cell += f" (mean of {r['baseline_n']}"
                base_cell += f", std {fmt(num(r['std']))})" if r.get("std") is not None else ")"
            lines.append(
                f"| {md(r['metric'])} ({md(r['value'])}, {r['direction']}) | {base_cell} | "
                f"{_link(fmt(num(r.get('candidate'))), cand_url)} | {r.get('change_text', '')} | {r.get('allowed_text', '')} | "
                f"{VERDICT_MARK.get(r['verdict'], r['verdict'])}{note} |")
    if record.get("checks_url"):
        lines += ["", f"[All checks of this project]({record['checks_url']})"]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def result_dict(r: Result) -> dict[str, Any]:
    d = r.to_dict()
    d["change_text"] = fmt_change(r)
    d["allowed_text"] = fmt_allowed(r)
    return d


def junit(record: dict[str, Any]) -> str:
    """One ``<testcase>`` per rule; a regression is a failure, could-not-judge an error."""
    results = record.get("results") or []
    failures = sum(r["verdict"] == REGRESSED for r in results)
    errors = sum(r["verdict"] == ERROR for r in results)
    cases = []
    if not results:
        errors = 1
        cases.append('  <testcase classname="runpages.check" name="check">\n'
                     f'    <error message={_xml_attr(record.get("message") or "could not judge")}/>\n'
                     '  </testcase>')
    for r in results:
        name = f"{r['metric']} ({r['value']}, {r['direction']})"
        body = (f"baseline {fmt(num(r.get('baseline')))}, candidate {fmt(num(r.get('candidate')))}, "
                f"change {r.get('change_text', '')}, allowed {r.get('allowed_text', '')}")
        inner = ""
        if r["verdict"] == REGRESSED:
            inner = f'\n    <failure message={_xml_attr(r.get("reason") or "regressed")}>{_xml_escape(body)}</failure>\n  '
        elif r["verdict"] == ERROR:
            inner = f'\n    <error message={_xml_attr(r.get("reason") or "could not judge")}/>\n  '
        else:
            inner = f"\n    <system-out>{_xml_escape(body)}</system-out>\n  "
        cases.append(f'  <testcase classname="runpages.check.{_xml_escape(_classname(record.get("project")))}" '
                     f'name={_xml_attr(name)}>{inner}</testcase>')
    tests = max(1, len(results))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite name="runpages check" tests="{tests}" failures="{failures}" errors="{errors}">\n'
            + "\n".join(cases) + "\n</testsuite>\n")


def _classname(project: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(project or "project"))


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"


def record_path(project_dir: Path, checked_at: float, candidate_id: str) -> Path:
    stamp = _dt.datetime.fromtimestamp(checked_at, _dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path(project_dir) / CHECKS_DIR / f"{stamp}-{slug(candidate_id)}.json"


def save_record(project_dir: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` under ``<project_dir>/.checks/``; a second check in the same second
    gets ``-2``, ``-3``."""
    path = record_path(project_dir, record["checked_at"], (record.get("candidate") or {}).get("id", "run"))
    text = to_json(record)
    for n in range(1, 1000):
        target = path if n == 1 else path.with_name(f"{path.stem}-{n}.json")
        try:
            write_atomic(target, text, exclusive=True)
            return target
        except FileExistsError:
            continue
    raise OSError(f"{path.parent}: too many check records in one second")


