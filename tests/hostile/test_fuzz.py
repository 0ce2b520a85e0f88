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
BUDGET_S = 10.0
BATCH = 25          # mutated runs per build: a build costs far more than a mutation


def run_cases(tmp: Path, seed: int, max_cases: int, budget_s: float):
    """Build ``max_cases`` mutations (or as many as ``budget_s`` allows), ``BATCH`` run folders
    per build; a batch that fails to build is rebuilt case by case to name the culprit.
    Returns (cases tried, cases held, failure messages)."""
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
    source = cases(seed)
    while tried < max_cases and time.monotonic() < deadline:
        batch = []
        for _ in range(min(BATCH, max_cases - tried)):
            case = next(source)
            run = runs / "proj" / f"20251124-130000-case{tried:05d}-cccccc"
            shutil.copytree(template, run)
            case.mutate(run)
            batch.append((case, run))
            tried += 1
        for case, why in _build_batch(config, out, batch):
            if why:
                failures.append(f"{case.name}: {why}")
            else:
                held += 1
        for _, run in batch:
            shutil.rmtree(run)
    return tried, held, failures


def _build_batch(config, out: Path, batch):
    from runpages.sitegen.build import build_site

    try:
        result = build_site(config)
    except Exception:  # noqa: BLE001 - a crash is the finding: find which case caused it
        return list(_one_by_one(config, out, batch))
    return [(case, _check(out, run.name, result, case)) for case, run in batch]


def _one_by_one(config, out: Path, batch):
    from runpages.sitegen.build import build_site

    parked = out.parent / "parked"
    parked.mkdir(exist_ok=True)
    for _, run in batch:
        run.rename(parked / run.name)
    for case, run in batch:
        (parked / run.name).rename(run)
        try:
            yield case, _check(out, run.name, build_site(config), case)
        except Exception as err:  # noqa: BLE001
            yield case, f"{type(err).__name__}: {err}"[:300]
        run.rename(parked / run.name)
    for _, run in batch:
        (parked / run.name).rename(run)


def _check(out: Path, run_id: str, result, case) -> str | None:
    if not (out / "index.html").is_file():
        return "no index.html"
    if not (out / "p/proj/r/20251124-120000-good-aaaaaa/index.html").is_file():
        return "the good run's page is gone"
    mine = [p for p in result.problems if run_id in p.path]
    if case.must_report and not mine:
        return "no Problem on the run"
    for page in (out / "p/proj").rglob("*.html"):
        if MARKUP in page.read_text(encoding="utf-8"):
            return f"markup unescaped in {page.relative_to(out)}"
    return None


def test_mutated_run_folders_always_build_with_a_problem_where_due(tmp_path, capsys):
    tried, held, failures = run_cases(tmp_path, seed=15, max_cases=MAX_CASES, budget_s=BUDGET_S)
    with capsys.disabled():
        print(f"\nfuzz: {tried} cases tried, {held} held")
    assert tried >= 2 * BATCH and not failures, failures[:10]
