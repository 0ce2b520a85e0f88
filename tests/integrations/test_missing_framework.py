"""Without a framework: ``import runpages`` still works and loads none, and each integration
says which package to install. Runs without any framework installed."""
from __future__ import annotations

import subprocess
import sys

import pytest

FRAMEWORKS = ("lightning", "pytorch_lightning", "torch", "transformers", "keras", "tensorboard",
              "wandb", "yaml")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_importing_logger_integrations_and_importers_loads_no_framework():
    out = _python("import sys, runpages, runpages.integrations, runpages.importers; "
                  f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module, blocked, package", [
    ("lightning", ("lightning", "pytorch_lightning", "lightning_fabric"), "pip install lightning"),
    ("transformers", ("transformers",), "pip install transformers"),
    ("keras", ("keras",), "pip install keras"),
])
def test_missing_framework_names_the_package_to_install(module, blocked, package):
    block = "; ".join(f"sys.modules[{m!r}] = None" for m in blocked)
    out = _python(f"import sys; {block}\n"
                  f"try:\n    import runpages.integrations.{module}\n"
                  f"except ImportError as e:\n    print(e)\nelse:\n    print('imported')")
    assert out.returncode == 0, out.stderr
    assert package in out.stdout and "runpages:" in out.stdout
