"""Who is compared with whom in ``runpages check``: the candidate run, and the baseline as a
list of entries, newest first, each a run read now or a run remembered in a snapshot file.

Invariants: every selection failure raises ``CannotJudge`` naming what is missing and how to
give it; a snapshot file is rewritten by temp name + rename and keeps the newest ``keep`` runs.
"""
from __future__ import annotations

import math

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SNAPSHOT_VERSION = 1
SNAPSHOT_TAIL = 50            # values of each series kept in a snapshot (for last / mean_last_k)


class CannotJudge(Exception):
    """Exit 2: what is missing, and how to give it."""


# ---- baseline entries: a run read now, or a run remembered in a snapshot --------------------

@dataclass
class Entry:
    id: str
    name: str
    project: str
    commit: str = ""
    branch: str = ""
    dirty: bool | None = None
    started_at: float | None = None
    status: str = ""
    run: Any = None                                   # model.Run when read from the runs dir
    metrics: dict[str, dict] = field(default_factory=dict)   # from a snapshot

    @classmethod
    def of_run(cls, run) -> "Entry":
        git = run.git
        return cls(id=run.id, name=run.name, project=run.project, commit=str(git.get("commit") or ""),
                   branch=str(git.get("branch") or ""), dirty=git.get("dirty"), started_at=run.started_at,
                   status=run.status, run=run)

    def value(self, rule) -> float | None:
        from runpages.sitegen.check_rules import _finite_or_none, run_value, value_from_series

        if self.run is not None:
            return run_value(self.run, rule)
        m = self.metrics.get(rule.metric) or {}
        if rule.value == "summary":
            v = _finite_or_none(m.get("summary"))
            return v if v is not None else _finite_or_none(m.get("last"))
        if rule.value == "last":
            return _finite_or_none(m.get("last"))
        if rule.value == "best":
            return _finite_or_none(m.get(rule.direction))
        tail = [x for x in (_finite_or_none(t) for t in m.get("tail") or []) if x is not None]
        return value_from_series(tail, rule)

    def to_dict(self, url: str | None = None) -> dict[str, Any]:
        d = {"id": self.id, "name": self.name, "project": self.project, "commit": self.commit,
             "branch": self.branch, "dirty": self.dirty, "started_at": self.started_at, "status": self.status}
        if url:
            d["url"] = url
        return d


@dataclass
class Baseline:
    label: str                     # "branch main", "run X", "file baseline.json"
    entries: list[Entry]           # newest first
    by_commit: bool = True         # plain rules use the newest commit's runs (else all entries)

    def primary(self) -> list[Entry]:
        if not self.by_commit or not self.entries:
            return self.entries
        head = self.entries[0]
        if not head.commit:
            return [head]
        return [e for e in self.entries if e.commit == head.commit]


# ---- selection ----------------------------------------------------------------------------

def find_run(projects, ref: str, project: str | None = None):
    """A run by id, ``project/id`` key, name, or unique id prefix; ``CannotJudge`` otherwise."""
    runs = [r for p in projects for r in p.runs if project is None or p.name == project]
    for match in (lambda r: r.id == ref or r.key == ref, lambda r: r.name == ref,
                  lambda r: r.id.startswith(ref)):
        found = [r for r in runs if match(r)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise CannotJudge(f"run {ref!r} is ambiguous: {', '.join(r.key for r in found[:5])}"
                              + ("; pass --project" if project is None else ""))
    where = f" in project {project!r}" if project else ""
    raise CannotJudge(f"run {ref!r} not found{where}")


def choose_project(projects, wanted: str | None):
    if wanted:
        for p in projects:
            if p.name == wanted:
                return p
        names = ", ".join(p.name for p in projects) or "none"
        raise CannotJudge(f"project {wanted!r} not found (projects: {names})")
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise CannotJudge("no runs found")
    raise CannotJudge(f"{len(projects)} projects in the runs folder: pass --project "
                      f"({', '.join(p.name for p in projects)})")


def choose_candidate(projects, run_ref: str | None, project_name: str | None):
    """``(run, project)``: the named run, else the project's newest finished run."""
    if run_ref:
        run = find_run(projects, run_ref, project_name)
        return run, next(p for p in projects if p.name == run.project)
    project = choose_project(projects, project_name)
    for run in project.runs:               # newest first
        if run.status == "finished":
            return run, project
    raise CannotJudge(f"no finished run in project {project.name!r} to check "
                      f"({len(project.runs)} run{'s' if len(project.runs) != 1 else ''}, none finished); "
                      "pass --run ID")


def branch_baseline(project, branch: str, candidate) -> Baseline:
    cand_commit = str(candidate.git.get("commit") or "")
    entries = []
    branches: set[str] = set()
    for run in project.runs:
        b = str(run.git.get("branch") or "")
        if b:
            branches.add(b)
        if run.status != "finished" or b != branch or run.id == candidate.id:
            continue
        if cand_commit and str(run.git.get("commit") or "") == cand_commit:
            continue                       # the same commit is not a baseline for itself
        entries.append(Entry.of_run(run))
    if not entries:
        seen = ", ".join(sorted(branches)) or "none recorded"
        raise CannotJudge(f"no baseline: no finished run of project {project.name!r} on branch {branch!r} "
                          f"at another commit than the candidate (branches in the runs: {seen}); "
                          "runs record their branch in meta.json git.branch")
    return Baseline(f"branch {branch}", entries, by_commit=True)


def run_baseline(projects, refs: list[str], project_name: str | None) -> Baseline:
    entries = [Entry.of_run(find_run(projects, ref, project_name)) for ref in refs]
    entries.sort(key=lambda e: e.started_at or 0.0, reverse=True)
    label = "run " + ", ".join(refs) if len(refs) == 1 else f"{len(refs)} runs"
    return Baseline(label, entries, by_commit=False)


def read_snapshot(path: Path, project: str | None = None) -> dict[str, Any]:
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CannotJudge(f"baseline file not found: {path} (write it with "
                          f"`runpages check --save-baseline {path}` on the main branch and commit it)") from None
    except (OSError, ValueError) as err:
        raise CannotJudge(f"{path}: not a runpages baseline file ({err})") from None
    if not isinstance(data, dict) or data.get("runpages_baseline") != SNAPSHOT_VERSION \
            or not isinstance(data.get("runs"), list):
        raise CannotJudge(f"{path}: not a runpages baseline file (written by `runpages check --save-baseline`)")
    if project and data.get("project") and data["project"] != project:
        raise CannotJudge(f"{path}: baseline of project {data['project']!r}, the candidate is in {project!r}")
    return data


def file_baseline(path: Path, project: str, candidate) -> Baseline:
    data = read_snapshot(path, project)
    entries = []
    for r in data["runs"]:
        if not isinstance(r, dict) or r.get("id") == candidate.id:
            continue
        entries.append(Entry(id=str(r.get("id", "")), name=str(r.get("name") or r.get("id", "")),
                             project=str(r.get("project") or project), commit=str(r.get("commit") or ""),
                             branch=str(r.get("branch") or ""), dirty=r.get("dirty"),
                             started_at=r.get("started_at"), status="finished",
                             metrics=r.get("metrics") if isinstance(r.get("metrics"), dict) else {}))
    if not entries:
        raise CannotJudge(f"{path}: the baseline file holds no run other than the candidate")
    return Baseline(f"file {Path(path).name}", entries, by_commit=True)


def snapshot_entry(run) -> dict[str, Any]:
    """What a snapshot remembers of a run: ids, git, and each numeric metric's values."""
    from runpages.sitegen.check_rules import _finite_or_none, _json_number, series_of

    keys = list(run.metric_keys) + [k for k in run.summary if k not in run.metric_keys]
    metrics = {}
    for key in keys:
        if key.startswith("_"):
            continue
        m: dict[str, Any] = {}
        s = _finite_or_none(run.summary.get(key))
        if s is not None:
            m["summary"] = _json_number(s)
        values = series_of(run, key)
        if values:
            numbers = [v for v in values if v == v] or [math.nan]   # min/max leave NaN out
            m.update(last=_json_number(values[-1]), max=_json_number(max(numbers)),
                     min=_json_number(min(numbers)), tail=[_json_number(v) for v in values[-SNAPSHOT_TAIL:]])
        if m:
            metrics[key] = m
    e = Entry.of_run(run)
    d = e.to_dict()
    d.pop("status")
    d["metrics"] = metrics
    return d


def save_snapshot(path: Path, run, keep: int) -> int:
    """Put ``run`` first in the snapshot at ``path`` (made if missing); returns how many runs it holds."""
    from runpages.sitegen.atomic import write_atomic
    from runpages.sitegen.check_report import to_json

    path = Path(path)
    runs: list[dict] = []
    if path.exists():
        runs = [r for r in read_snapshot(path, run.project)["runs"] if isinstance(r, dict) and r.get("id") != run.id]
    runs = [snapshot_entry(run)] + runs
    runs = runs[:keep]
    write_atomic(path, to_json({"runpages_baseline": SNAPSHOT_VERSION, "project": run.project,
                                "saved_at": time.time(), "runs": runs}))
    return len(runs)
