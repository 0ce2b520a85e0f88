"""A run file that is a symlink out of the run folder (to ``~/.ssh/id_ed25519``, say) is never
read or published: with shared runs folders anyone who can write a run could publish the
builder's secrets otherwise."""
import os

import pytest

from runpages import schema
from runpages.sitegen.runscan import RUN_FILES


@pytest.mark.parametrize("name", RUN_FILES)
def test_a_run_file_linked_outside_the_run_is_skipped_with_a_problem(hostile_site, name):
    def link_out(bad, runs):
        target = bad / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        os.symlink(runs.parent / "secret", target)
    site = hostile_site(link_out)
    site.survived(f"{name}: a symlink leading outside the run folder")
    assert not (site.out / "files/proj").exists() or not any(
        p.is_file() and p.name == os.path.basename(name) and "secret" in p.read_text(errors="replace")
        for p in (site.out / "files").rglob("*"))


def test_a_link_to_a_file_inside_the_run_folder_is_still_read(hostile_site):
    def link_in(bad, runs):
        (bad / "config.json").rename(bad / "config.real.json")
        os.symlink("config.real.json", bad / "config.json")
    site = hostile_site(link_in)
    assert not any("symlink" in p for p in site.survived())
    page = (site.out / "p/proj/r/20251124-130000-bad-cccccc/index.html").read_text()
    assert "batch_size" in page or "lr" in page


def test_an_artifacts_folder_linked_outside_is_not_copied(hostile_site, tmp_path):
    def link_artifacts(bad, runs):
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / schema.ARTIFACT_MANIFEST).write_text(
            '{"name": "secret", "path": "secret.txt", "bytes": 10}\n')
        (elsewhere / "secret.txt").write_text((runs.parent / "secret").read_text())
        os.symlink(elsewhere, bad / schema.ARTIFACTS_DIR)
    site = hostile_site(link_artifacts)
    site.survived("artifacts/manifest.jsonl: a symlink leading outside the run folder")
