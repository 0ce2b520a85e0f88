"""The team-year benchmark's generator writes exactly what the real logger writes."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import team_set  # noqa: E402


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_generated_runs_are_byte_identical_to_the_loggers(tmp_path):
    for i in (0, 1, 37, 12345):
        sp = team_set.spec(i, steps=250)
        team_set.log_with_logger(tmp_path / "logger", sp)
        team_set.write_run(tmp_path / "gen", sp)
    by_logger, by_gen = _files(tmp_path / "logger"), _files(tmp_path / "gen")
    assert sorted(by_logger) == sorted(by_gen)
    assert len(by_logger) == 4 * 5            # meta, config, metrics, system, summary
    for name, data in by_logger.items():
        assert by_gen[name] == data, name


def test_the_set_spreads_over_20_users_and_30_projects():
    specs = [team_set.spec(i) for i in range(600)]
    assert len({s["meta"]["user"] for s in specs}) == 20
    assert len({s["project"] for s in specs}) == 30
    assert len({s["id"] for s in specs}) == 600
