"""The built run page: media copied into the site, user text escaped, Reproduce section."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import runpages
from tests.media.helpers import start
from tests.site.browser_helpers import build

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _page(site: Path) -> str:
    (page,) = site.glob("p/media/r/*/index.html")
    return page.read_text()


def test_media_files_are_copied_and_hostile_captions_keys_and_cells_stay_text(tmp_path):
    run = start(tmp_path)
    run.log({HOSTILE: runpages.Image(np.zeros((4, 4), np.uint8), caption=HOSTILE),
             "t": runpages.Table(columns=[HOSTILE], data=[[HOSTILE]])})
    run.finish()
    site = build(tmp_path / "runs", tmp_path / "site")
    html = _page(site)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert html.count('id="media-data"') == 1
    copied = list(site.glob("files/media/*/media/**/*.png"))
    assert len(copied) == 1


def test_the_compare_page_media_script_holds_the_run_sections_escaped(tmp_path):
    run = start(tmp_path)
    run.log({"s": runpages.Image(np.zeros((4, 4), np.uint8), caption=HOSTILE + "</script>")})
    run.finish()
    site = build(tmp_path / "runs", tmp_path / "site")
    (script,) = site.glob("data/media/media/*.js")
    text = script.read_text()
    assert text.startswith(f'RunpagesMedia.add("media/{script.stem}", [')
    assert "<" not in text and "\\u003c/script\\u003e" in text
    assert f'"src": "files/media/{script.stem}/media/s/0-' in text.replace('":"', '": "')
    assert "compare-media.js" in (site / "compare.html").read_text()


def test_a_run_without_media_has_no_media_section_or_script(tmp_path):
    run = start(tmp_path)
    run.log({"loss": 1.0})
    run.finish()
    html = _page(build(tmp_path / "runs", tmp_path / "site"))
    assert 'id="media"' not in html and "media.js" not in html and 'id="reproduce"' not in html
    assert not list((tmp_path / "site").glob("data/media/**/*.js"))   # no file per run to make
    (data,) = (tmp_path / "site").glob("data/runs/media/*.js")
    assert '"media":false' in data.read_text()                        # so compare asks for none


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_save_code_records_diff_untracked_files_script_and_packages_never_ignored_files(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / ".gitignore").write_text("secrets.env\n")
    (repo / "model.py").write_text("LR = 0.1\n")
    script = repo / "train.py"
    script.write_text("import runpages\n"
                      "run = runpages.init(project='media', dir=%r, system_metrics=False)\n"
                      "run.log({'loss': 1.0})\nrun.finish()\nprint(run.dir)\n" % str(tmp_path / "runs"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    (repo / "model.py").write_text("LR = 0.3  # changed\n")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / "secrets.env").write_text("TOKEN=hunter2\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "train.py"], cwd=repo, capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    run_dir = Path(out.stdout.strip().splitlines()[-1])
    for _ in range(100):                          # the capture thread may finish after the run
        if (run_dir / "code" / "reproduce.json").exists():
            break
        import time
        time.sleep(0.1)
    assert "LR = 0.3" in (run_dir / "code" / "diff.patch").read_text()
    assert (run_dir / "code" / "untracked.txt").read_text().split() == ["notes.txt"]
    assert (run_dir / "code" / "train.py").read_text() == script.read_text()
    reqs = (run_dir / "env" / "requirements.txt").read_text()
    assert "numpy==" in reqs.lower() or "pip==" in reqs.lower()
    assert not any("hunter2" in p.read_text(errors="replace")
                   for p in run_dir.rglob("*") if p.is_file())
    html = _page(build(tmp_path / "runs", tmp_path / "site"))
    assert 'id="reproduce"' in html and "LR = 0.3" in html and "untracked file" in html
