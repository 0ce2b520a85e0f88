"""``import runpages as wandb``: a W&B-style script runs unchanged and records what it logged."""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import runpages
from runpages import RunpagesWarning

SCRIPT = textwrap.dedent("""
    import runpages as wandb
    run = wandb.init(project="port", entity="me", job_type="train", reinit=True,
                     resume="never", settings={"silent": True}, save_code=True,
                     config={"lr": 0.1, "epochs": 3})
    assert wandb.current() is run and wandb.config.lr == 0.1
    wandb.define_metric("epoch")
    wandb.define_metric("val/acc", step_metric="epoch", summary="max")
    wandb.define_metric("val/loss", step_metric="epoch", summary="best")
    wandb.define_metric("noise", summary="none")
    for step, (acc, vloss) in enumerate([(0.5, 2.0), (0.9, 1.0), (0.7, 1.5)]):
        wandb.log({"loss": 1.0 / (step + 1), "epoch": step, "val/acc": acc,
                   "val/loss": vloss, "noise": step})
    wandb.summary["best_loss"] = 1 / 3
    print("NAME", run.name, "ID", run.id, "DIR", run.dir)
    wandb.finish()
    wandb.log({"loss": 0.0})  # after finish: a warning, not an exception
""")


def test_wandb_script_through_alias(tmp_path):
    env = {**os.environ, "RUNPAGES_DIR": str(tmp_path / "runs"), "PYTHONWARNINGS": "default"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    run_dir = out.stdout.split("DIR ", 1)[1].strip()
    meta = json.load(open(os.path.join(run_dir, "meta.json")))
    assert meta["wandb"] == {"entity": "me", "job_type": "train"}
    assert meta["status"] == "finished"
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["loss"] == 1 / 3 and summary["best_loss"] == 1 / 3
    assert summary["val/acc"] == 0.9 and summary["val/loss"] == 1.0 and "noise" not in summary
    assert meta["metrics"]["val/acc"] == {"summary": "max", "step_metric": "epoch"}
    assert meta["metrics"]["val/loss"] == {"summary": "min", "step_metric": "epoch"}
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config == {"lr": 0.1, "epochs": 3}
    assert "ignores the W&B argument(s) ['reinit', 'settings']" in out.stderr
    assert "is finished; log() calls after finish() are ignored" in out.stderr


def test_resume_auto_continues_the_run(tmp_path):
    first = runpages.init(project="p", dir=tmp_path, id="fixed-id", system_metrics=False,
                          capture_console=False)
    first.log({"x": 1})
    first.finish()
    again = runpages.init(project="p", dir=tmp_path, id="fixed-id", resume="auto",
                          system_metrics=False, capture_console=False)
    assert again.dir == first.dir
    again.finish()


def test_config_before_init_says_what_to_do():
    runpages.finish()
    try:
        runpages.config
    except AttributeError as exc:
        assert "runpages.init" in str(exc)
    else:
        raise AssertionError("runpages.config before init should explain")


def test_module_log_after_finish_warns(tmp_path):
    run = runpages.init(project="p", dir=tmp_path, system_metrics=False, capture_console=False)
    runpages.finish()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        runpages.log({"x": 1})
    assert any(issubclass(w.category, RunpagesWarning) and "finished" in str(w.message)
               for w in seen), [str(w.message) for w in seen]
    assert run.status != "running"


def test_define_metric_mean_and_bad_summary(tmp_path):
    run = runpages.init(project="p", dir=tmp_path, system_metrics=False, capture_console=False)
    run.define_metric("x", summary="mean")
    for v in (1, 2, 6):
        run.log({"x": v})
    assert run.summary["x"] == 3
    try:
        run.define_metric("y", summary="median")
    except ValueError as exc:
        assert "min" in str(exc)
    else:
        raise AssertionError("an unknown summary kind should be refused")
    run.finish()


def test_run_url_is_the_path_of_the_run_page_in_the_built_site(tmp_path):
    """``run.url`` (W&B's run link) is where ``runpages build`` puts that run's page, also for
    a project name that is not path-safe and a typed run id."""
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    runs = []
    for project, kw in (("Vision team / ResNet ü", {}), ("mnist", {"id": "My.run_1"})):
        run = runpages.init(project=project, dir=tmp_path / "runs", system_metrics=False,
                            capture_console=False, **kw)
        run.log({"loss": 1.0})
        run.finish()
        runs.append(run)
    assert runs[0].url.startswith("p/Vision-team-ResNet-u/r/") and runs[0].url.endswith("/index.html")
    build_site(SiteConfig(runs_dirs=[tmp_path / "runs"], output=tmp_path / "site"))
    for run in runs:
        page = tmp_path / "site" / run.url
        assert page.is_file(), f"{run.url} not in the site"
        assert run.name in page.read_text(encoding="utf-8")
