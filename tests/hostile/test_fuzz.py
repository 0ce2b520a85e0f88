"""Fuzz: one mutation of a valid run folder at a time (``fuzz.py``), each built into a site.
Every case must build (no exception), keep index.html and the good run, escape markup, and
give the run a Problem where the mutation cannot be valid. Seeded; bounded by a time budget."""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "site"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz import MARKUP, cases  # noqa: E402
from runfolders import write_run  # noqa: E402

MAX_CASES = 300
BUDGET_S = 8.0


def run_cases(tmp: Path, seed: int, max_cases: int, budget_s: float):
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    runs, out = tmp / "runs", tmp / "site"
    write_run(runs, "proj", "good", run_id="20251124-120000-good-aaaaaa")
    template = write_run(tmp / "template", "proj", "bad", run_id="template",
                         config={"lr": 0.1, "model": {"depth": 3}}, summary={"best": 1.0})
    config = SiteConfig(runs_dirs=[runs], output=out)
    build_site(config)
    tried = held = 0
    failures: list[str] = []
    deadline = time.monotonic() + budget_s
    previous = None
    for i, case in enumerate(cases(seed)):
        if i >= max_cases or time.monotonic() > deadline:
            break
        if previous is not None:
            shutil.rmtree(previous)
        run = runs / "proj" / f"20251124-130000-case{i:05d}-cccccc"
        shutil.copytree(template, run)
        previous = run
        tried += 1
        try:
            case.mutate(run)
            result = build_site(config)
        except Exception as err:  # noqa: BLE001 - a crash is the finding
            failures.append(f"{case.name}: {type(err).__name__}: {err}"[:300])
            continue
        why = _check(out, run.name, result, case)
        if why:
            failures.append(f"{case.name}: {why}")
        else:
            held += 1
    return tried, held, failures


def _check(out: Path, run_id: str, result, case) -> str | None:
    if not (out / "index.html").is_file():
        return "no index.html"
    if not (out / "p/proj/r/20251124-120000-good-aaaaaa/index.html").is_file():
        return "the good run's page is gone"
    mine = [p for p in result.problems if run_id in p.path]
    if case.must_report and not mine:
        return "no Problem on the run"
    for page in out.rglob("*.html"):
        if MARKUP in page.read_text(encoding="utf-8"):
            return f"markup unescaped in {page.relative_to(out)}"
    return None


def test_mutated_run_folders_always_build_with_a_problem_where_due(tmp_path, capsys):
    tried, held, failures = run_cases(tmp_path, seed=15, max_cases=MAX_CASES, budget_s=BUDGET_S)
    with capsys.disabled():
        print(f"\nfuzz: {tried} cases tried, {held} held")
    assert tried >= 50 and not failures, failures[:10]
