import subprocess
import sys
from pathlib import Path

from runpages.sitegen.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_version_imports_nothing_heavy():
    code = ("import sys; from runpages.sitegen.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'bokeh', 'jinja2', 'numpy') if m in sys.modules]\n"
            "assert not heavy, heavy")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "runpages 0." in r.stdout


def test_build_prints_one_summary_line(runs_dir, tmp_path, capsys):
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--title", "Team"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("built ") and "3 runs" in out[0]
    assert "<title>Team</title>" in (tmp_path / "out" / "index.html").read_text()


def test_build_timings_name_each_step_and_add_up_to_the_build(runs_dir, tmp_path, capsys):
    import re

    args = ["build", str(runs_dir), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c"), "--timings"]
    assert main(args) == 0
    summary, timings = capsys.readouterr().out.strip().splitlines()
    steps = dict(re.findall(r"([a-z ]+) (\d+\.\d+)s", timings.removeprefix("timings:").replace(",", "")))
    assert [k.strip() for k in steps] == ["scan", "load cache", "parse", "read", "run pages", "site pages", "save"]
    total = float(re.search(r"in (\d+\.\d)s", summary).group(1))
    assert abs(sum(map(float, steps.values())) - total) <= 0.1 + 0.02 * total
    assert main(args) == 0                                   # nothing changed: only the scan ran
    assert capsys.readouterr().out.strip().splitlines()[1].startswith("timings: scan ")


def test_strict_problems_exit_1_with_a_message(runs_dir, tmp_path, capsys):
    with open(runs_dir / "cifar/20251124-140000-resnet-ghi789/metrics.jsonl", "a") as f:
        f.write("[1, 2]\n")
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--strict"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("runpages: error: ") and "metrics.jsonl" in err and "Traceback" not in err


def test_problems_are_summarised_once_per_file(runs_dir, tmp_path, capsys):
    with open(runs_dir / "cifar/20251124-140000-resnet-ghi789/metrics.jsonl", "a") as f:
        f.write("oops\n" * 20)
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    warnings = [l for l in captured.err.splitlines() if "metrics.jsonl" in l]
    assert len(warnings) == 1
    assert "problems)" in captured.out


def test_missing_theme_is_a_clear_error(runs_dir, tmp_path, capsys):
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--theme", str(tmp_path / "nope")]) == 1
    assert "runpages: error:" in capsys.readouterr().err


def test_bad_option_value_is_a_config_error(runs_dir, tmp_path, capsys):
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--max-artifact-mb", "-5"]) == 1
    assert "max_artifact_mb" in capsys.readouterr().err


def test_python_dash_m_entry_point(runs_dir, tmp_path):
    r = subprocess.run([sys.executable, "-m", "runpages.sitegen", "build", str(runs_dir), "-o", str(tmp_path / "s")],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("built ")


def test_building_a_folder_that_does_not_exist_fails_instead_of_an_empty_site(tmp_path, capsys):
    assert main(["build", str(tmp_path / "runz"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "runpages: error:" in err and "runs folder not found" in err and "runz" in err
    assert not (tmp_path / "out" / "index.html").exists()


def test_a_reports_folder_that_does_not_exist_fails(runs_dir, tmp_path, capsys):
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--reports", str(tmp_path / "nope")]) == 1
    assert "reports folder not found" in capsys.readouterr().err


def test_a_port_out_of_range_is_a_usage_error_not_a_traceback(runs_dir, tmp_path):
    r = subprocess.run([sys.executable, "-m", "runpages.sitegen", "serve", str(runs_dir), "--port", "99999"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "99999 is not a port" in r.stderr and "Traceback" not in r.stderr


def test_runpages_toml_lists_every_problem_at_once_unknown_keys_included(runs_dir, tmp_path, capsys):
    toml = tmp_path / "runpages.toml"
    toml.write_text('max_artifact_mb = "lots"\ntitel = "Team"\nstrict = 3\n')
    assert main(["build", str(runs_dir), "-o", str(tmp_path / "out"), "--config", str(toml)]) == 1
    err = capsys.readouterr().err
    assert "max_artifact_mb" in err and "strict" in err and "'titel'" in err and "'title'" in err
