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
