"""``runpages publish`` into a real local bare repository, as a user runs it."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "check"))

from runpages_cli import runpages  # noqa: E402

pytestmark = pytest.mark.slow

USER = {"GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@example.org",
        "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@example.org"}


def git(*args, cwd, env=None) -> str:
    full = dict(os.environ, **(env or {}))
    r = subprocess.run(["git", *args], cwd=cwd, env=full, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def add_run(runs: Path, name: str, t0: float) -> None:
    import runpages

    now = [t0]
    run = runpages.init(project="mnist", name=name, dir=str(runs), clock=lambda: now[0],
                      system_metrics=False, capture_console=False)
    for i in range(5):
        now[0] += 1
        run.log({"train/loss": 1.0 / (i + 1)})
    run.finish()


@pytest.fixture
def project(tmp_path):
    """A user's repository with uncommitted work, runs, and a bare repository as origin.
    HOME is a fresh folder, so no global git identity is configured (like a CI machine)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "XDG_CONFIG_HOME": str(home / ".config")}
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", str(remote), cwd=tmp_path, env=env)
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work, env=env)
    (work / "train.py").write_text("print('train')\n")
    (work / "notes.md").write_text("notes\n")
    git("add", "train.py", "notes.md", cwd=work, env=env)
    git("commit", "-q", "-m", "start", cwd=work, env={**env, **USER})
    git("remote", "add", "origin", str(remote), cwd=work, env=env)
    (work / "train.py").write_text("print('train, edited')\n")       # unstaged change
    (work / "notes.md").write_text("notes, staged\n")
    git("add", "notes.md", cwd=work, env=env)                          # staged change
    add_run(work / "runs", "baseline", 1_764_000_000.0)               # untracked runs
    return {"work": work, "remote": remote, "env": env, "tmp": tmp_path}


def user_state(work: Path, env) -> dict:
    files = sorted(str(p.relative_to(work)) for p in work.rglob("*") if ".git" not in p.parts)
    return {
        "status": git("status", "--porcelain=v1", "-uall", cwd=work, env=env),
        "head": git("rev-parse", "HEAD", cwd=work, env=env),
        "branch": git("symbolic-ref", "HEAD", cwd=work, env=env),
        "index": hashlib.sha256((work / ".git" / "index").read_bytes()).hexdigest(),
        "diff": git("diff", cwd=work, env=env),
        "staged": git("diff", "--cached", cwd=work, env=env),
        "files": files,
    }


def test_publish_twice_second_makes_no_commit_branch_is_the_site_work_tree_untouched(project):
    work, remote, env = project["work"], project["remote"], project["env"]
    before = user_state(work, env)

    first = runpages("publish", cwd=work, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "committed the site to gh-pages" in first.stdout and "pushed gh-pages to origin" in first.stdout
    tip = git("rev-parse", "refs/heads/gh-pages", cwd=remote, env=env)
    assert git("rev-list", "--count", tip, cwd=remote, env=env) == "1"

    second = runpages("publish", cwd=work, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "site unchanged: no new commit on gh-pages" in second.stdout
    assert git("rev-parse", "refs/heads/gh-pages", cwd=remote, env=env) == tip

    # The branch holds exactly the site (plus .nojekyll), built the same way.
    site = project["tmp"] / "site"
    built = runpages("build", work / "runs", "-o", site, cwd=work, env=env)
    assert built.returncode == 0, built.stderr
    expected = {p.relative_to(site).as_posix() for p in site.rglob("*")
                if p.is_file() and ".runpages" not in p.relative_to(site).parts} | {".nojekyll"}
    published = set(git("ls-tree", "-r", "--name-only", tip, cwd=remote, env=env).splitlines())
    assert published == expected
    assert "index.html" in published and any(p.startswith("p/mnist/r/") for p in published)
    index = git("show", f"{tip}:index.html", cwd=remote, env=env)
    assert index == (site / "index.html").read_text().strip()

    assert user_state(work, env) == before                # tree, index, HEAD, branch untouched
    assert git("rev-parse", "refs/heads/gh-pages", cwd=work, env=env) == tip

    # A new run changes the site: one new commit on top of the last.
    add_run(work / "runs", "second", 1_764_010_000.0)
    third = runpages("publish", cwd=work, env=env, )
    assert third.returncode == 0, third.stdout + third.stderr
    new_tip = git("rev-parse", "refs/heads/gh-pages", cwd=remote, env=env)
    assert new_tip != tip and git("rev-parse", f"{new_tip}^", cwd=remote, env=env) == tip


def test_no_push_commits_locally_with_cname_on_another_branch(project):
    work, remote, env = project["work"], project["remote"], project["env"]
    r = runpages("publish", "runs", "--no-push", "--branch", "pages", "--cname", "logs.example.org",
                 "-m", "logbook", cwd=work, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    names = git("ls-tree", "--name-only", "pages", cwd=work, env=env).splitlines()
    assert ".nojekyll" in names and "CNAME" in names and "index.html" in names
    assert git("show", "pages:CNAME", cwd=work, env=env) == "logs.example.org"
    assert git("log", "-1", "--format=%s %an", "pages", cwd=work, env=env) == "logbook runpages"
    assert git("ls-remote", "--heads", str(remote), cwd=work, env=env) == ""


def test_refusals_say_what_to_do(project):
    tmp, env = project["tmp"], project["env"]
    outside = tmp / "outside"
    add_run(outside / "runs", "x", 1_764_000_000.0)
    r = runpages("publish", cwd=outside, env={**env, "GIT_CEILING_DIRECTORIES": str(tmp)})
    assert r.returncode == 1
    assert "runpages: error:" in r.stderr and "not in a git repository" in r.stderr

    git("remote", "remove", "origin", cwd=project["work"], env=env)
    r = runpages("publish", cwd=project["work"], env=env)
    assert r.returncode == 1
    assert "no git remote named 'origin'" in r.stderr and "--no-push" in r.stderr
    assert "Traceback" not in r.stderr
    assert "built " not in r.stdout                 # refused before building, not after


def test_size_limits_name_big_files_and_the_flag():
    from runpages.sitegen.publish import PublishError, check_size

    files = [("index.html", Path("index.html"), 10),
             ("files/mnist/r1/artifacts/model.pt", Path("model.pt"), 300)]
    with pytest.raises(PublishError) as err:
        check_size(files, max_file=100, max_total=10_000)
    assert "files/mnist/r1/artifacts/model.pt" in str(err.value)
    assert "--max-artifact-mb" in str(err.value) and "--no-artifacts" in str(err.value)
    with pytest.raises(PublishError) as err:
        check_size(files, max_file=1000, max_total=200)
    assert "GitHub Pages allows" in str(err.value) and "model.pt" in str(err.value)
    check_size(files, max_file=1000, max_total=1000)


def test_published_run_files_are_plain_files_with_the_runs_bytes_also_when_the_site_links_them(project):
    """A site built beside the runs holds hard links to a finished run's files; the branch gets
    ordinary files (git stores bytes), and publishing changes nothing in the run folder."""
    work, remote, env = project["work"], project["remote"], project["env"]
    (run,) = (work / "runs" / "mnist").iterdir()
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    site = work / "site-out"
    done = runpages("publish", "runs", "-o", str(site), cwd=work, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    jsonl = site / "files" / "mnist" / run.name / "metrics.jsonl"
    try:
        linked = os.path.samefile(jsonl, run / "metrics.jsonl")
    except OSError:
        linked = False
    assert linked or jsonl.read_bytes() == before["metrics.jsonl"]
    tip = git("rev-parse", "refs/heads/gh-pages", cwd=remote, env=env)
    entry = git("ls-tree", tip, f"files/mnist/{run.name}/metrics.jsonl", cwd=remote, env=env)
    assert entry.startswith("100644 blob "), entry                  # a regular file, not a link
    blob = subprocess.run(["git", "show", f"{tip}:files/mnist/{run.name}/metrics.jsonl"], cwd=remote,
                          capture_output=True, env=dict(os.environ, **env)).stdout
    assert blob == before["metrics.jsonl"]
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
