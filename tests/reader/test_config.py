"""runpages.toml: defaults, file, command line; every problem at once; typos named."""
from __future__ import annotations

from pathlib import Path

import pytest

from runpages.sitegen.config import SiteConfig, find_config, load_config
from runpages.sitegen.errors import ConfigError, SiteError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path):
    config, warnings = load_config(None, {}, cwd=tmp_path)
    assert config.runs_dirs == [tmp_path / "runs"] and config.output == tmp_path / "site"
    assert (config.title, config.strict, config.max_artifact_mb, config.idle_util_pct) == (
        "runpages", False, 100.0, 10.0)
    assert config.main_metric == {} and config.default_main_metric is None
    assert config.source is None and warnings == []


def test_file_values_are_read_and_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "team" / "theme").mkdir(parents=True)
    toml = write(tmp_path / "team" / "runpages.toml", '''
title = "Team logbook <b>"
runs_dirs = ["runs", "/abs/shared"]
output = "public"
theme = "theme"
strict = true
max_artifact_mb = 5
reports_dir = "reports"
gpu_hour_cost = 2.5
kwh_cost = 0.3
idle_util_pct = 5
[main_metric]
mnist = "val/acc"
"<script>" = "x"
''')
    config, warnings = load_config(toml, {}, cwd=tmp_path)
    base = tmp_path / "team"
    assert config.title == "Team logbook <b>"
    assert config.runs_dirs == [base / "runs", Path("/abs/shared")]
    assert (config.output, config.theme, config.reports_dir) == (base / "public", base / "theme",
                                                                 base / "reports")
    assert (config.strict, config.max_artifact_mb, config.gpu_hour_cost, config.kwh_cost,
            config.idle_util_pct) == (True, 5.0, 2.5, 0.3, 5.0)
    assert config.main_metric == {"mnist": "val/acc", "<script>": "x"}
    assert config.source == toml and warnings == []


def test_every_problem_is_reported_at_once_with_its_key(tmp_path):
    toml = write(tmp_path / "runpages.toml", '''
title = 3
strict = "yes"
max_artifact_mb = -1
idle_util_pct = 150
theme = "no-such-theme"
runs_dirs = []
main_metric = 7
''')
    with pytest.raises(ConfigError) as err:
        load_config(toml, {}, cwd=tmp_path)
    keys = [p.split(":")[0] for p in err.value.problems]
    assert keys == ["title", "strict", "max_artifact_mb", "idle_util_pct", "theme", "runs_dirs",
                    "main_metric"]
    message = str(err.value)
    assert message.startswith(f"{toml}: 7 problems")
    assert "max_artifact_mb: must be more than 0, got -1" in message
    assert "idle_util_pct: must be at most 100, got 150" in message
    assert isinstance(err.value, SiteError)


def test_unknown_key_warns_with_the_nearest_valid_name(tmp_path):
    toml = write(tmp_path / "runpages.toml", 'titel = "x"\nrun_dirs = ["a"]\nzzz = 1\n')
    config, warnings = load_config(toml, {}, cwd=tmp_path)
    assert warnings == [
        "unknown key 'titel' in runpages.toml; did you mean 'title'?",
        "unknown key 'run_dirs' in runpages.toml; did you mean 'runs_dirs'?",
        "unknown key 'zzz' in runpages.toml; ignored",
    ]
    assert config.title == "runpages"


def test_command_line_overrides_win_over_the_file(tmp_path):
    toml = write(tmp_path / "runpages.toml", 'title = "file"\nstrict = true\noutput = "out"\n'
                                             '[main_metric]\na = "x"\nb = "y"\n')
    config, _ = load_config(toml, {"title": "cli", "strict": None, "output": "cli-out",
                                   "main_metric": {"b": "z"}}, cwd=tmp_path / "elsewhere")
    assert config.title == "cli" and config.strict is True          # None = not given
    assert config.output == tmp_path / "elsewhere" / "cli-out"       # CLI paths: from cwd
    assert config.main_metric == {"a": "x", "b": "z"}


def test_bad_command_line_values_are_reported_with_the_file_problems(tmp_path):
    toml = write(tmp_path / "runpages.toml", 'title = 1\n')
    with pytest.raises(ConfigError) as err:
        load_config(toml, {"max_artifact_mb": 0, "titel": "x"}, cwd=tmp_path)
    assert err.value.problems == [
        "title: expected text, got a number",
        "max_artifact_mb (command line): must be more than 0, got 0",
        "unknown setting 'titel'; did you mean 'title'?",
    ]


def test_main_metric_as_plain_text_is_the_default_for_every_project(tmp_path):
    toml = write(tmp_path / "runpages.toml", 'main_metric = "val/f1"\n')
    config, _ = load_config(toml, {}, cwd=tmp_path)
    assert config.default_main_metric == "val/f1" and config.main_metric == {}


def test_toml_syntax_error_names_the_file_and_line(tmp_path):
    toml = write(tmp_path / "runpages.toml", 'title = "x"\noutput = \n')
    with pytest.raises(ConfigError) as err:
        load_config(toml, {}, cwd=tmp_path)
    assert "line 2" in str(err.value) and str(toml) in str(err.value)


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", {}, cwd=tmp_path)


def test_file_is_found_next_to_the_first_runs_dir_then_in_cwd(tmp_path):
    beside = write(tmp_path / "shared" / "runpages.toml", 'title = "beside"\n')
    (tmp_path / "shared" / "runs").mkdir()
    write(tmp_path / "runpages.toml", 'title = "cwd"\n')
    config, _ = load_config(None, {"runs_dirs": [str(tmp_path / "shared" / "runs")]}, cwd=tmp_path)
    assert config.title == "beside" and config.source == beside
    config, _ = load_config(None, {"runs_dirs": ["elsewhere/runs"]}, cwd=tmp_path)
    assert config.title == "cwd"
    inside = write(tmp_path / "x" / "runs" / "runpages.toml", 'title = "inside"\n')
    assert find_config([tmp_path / "x" / "runs"], tmp_path / "x") == inside


def test_site_config_defaults_are_independent():
    a, b = SiteConfig(), SiteConfig()
    a.runs_dirs.append(Path("x"))
    a.main_metric["p"] = "m"
    assert b.runs_dirs == [Path("runs")] and b.main_metric == {}


def test_error_messages_read_well():
    from runpages.sitegen.errors import FormatVersionError, ProblemsError
    err = ConfigError(["title: expected text, got a number"], "team/runpages.toml")
    assert str(err) == "team/runpages.toml: 1 problem\n  - title: expected text, got a number"
    err = FormatVersionError("runs/p/r/meta.json", 3, 1)
    assert str(err).startswith("runs/p/r/meta.json: written by a newer runpages (format 3); "
                               "upgrade runpages to read it")
    assert str(ProblemsError(["a: x", "b: y"])) == "--strict: 2 files with problems\n  a: x\n  b: y"
