"""Run and project folders whose names are not valid UTF-8 are shown with U+FFFD, with a Problem."""
import os
import shutil
from pathlib import Path

import pytest


def _copy_to(name: bytes, project: bool):
    def mutate(bad, runs):
        dest = bytes(runs) + (b"/" + name + b"/run-x" if project else b"/proj/" + name)
        shutil.copytree(bad, Path(os.fsdecode(dest)))
        shutil.rmtree(bad)
    return mutate


@pytest.mark.parametrize("project", [False, True], ids=["run folder", "project folder"])
def test_a_folder_name_that_is_not_utf8_is_a_problem_not_a_crash(hostile_site, project):
    # the meta.json names the project; without it the folder name is the project name
    def mutate(bad, runs):
        if project:
            (bad / "meta.json").unlink()
        _copy_to(b"r\xff\xfe", project)(bad, runs)
    try:
        os.fsdecode(b"r\xff")
        Path(os.fsdecode(b"/tmp/r\xff")).exists()
    except (UnicodeError, ValueError):
        pytest.skip("this file system's encoding cannot name such folders")
    site = hostile_site(mutate)
    site.survived("folder name is not valid UTF-8")
    assert "r\ufffd\ufffd" in site.site_text()
