"""The distribution a user installs: wheel contents and the console script."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_one_package_runpages_with_its_default_theme(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("runpages-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"runpages"}
    assert "runpages/__init__.py" in names
    assert "runpages/schema.py" in names
    assert "runpages/sitegen/cli.py" in names
    assert "runpages/integrations/lightning.py" in names
    assert "runpages/importers/tensorboard.py" in names
    assert "runpages/themes/default/base.html" in names
    assert any(n.startswith("runpages/themes/default/static/") for n in names)


def test_runpages_version_runs_without_importing_the_heavy_stack():
    code = ("import sys; from runpages.sitegen.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'bokeh') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "0.1.0" in out
    assert out.strip().endswith("[]")
