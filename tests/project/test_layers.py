"""The one-way data flow, checked: a module imports only from its own layer or the layers below.

Every import counts, also one inside a function: a lazy import may keep start-up light, never
hide a cycle. Every module must have a layer (a new module is placed in LAYERS on purpose).
README's "Development" section draws the same layers.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A module may import modules of its own layer and of every layer before it.
LAYERS: list[tuple[str, list[str]]] = [
    ("base", ["runpages.errors", "runpages.problems", "runpages.schema", "runpages.names", "runpages.warn",
              "runpages.site_paths",
              "sitegen", "sitegen.errors", "sitegen.atomic", "sitegen.values", "sitegen.packed", "sitegen.config"]),
    ("logger", ["runpages", "runpages.*"]),                      # everything else in logger/
    ("logger plug-ins", ["runpages.integrations*", "runpages.importers*"]),
    ("model", ["sitegen.lazyframe", "sitegen.model", "sitegen.colors", "sitegen.query", "sitegen.utilisation", "sitegen.check_rules"]),
    ("reader", ["sitegen.jsonl", "sitegen.jsonsafe", "sitegen.limits", "sitegen.metacheck",
                "sitegen.runscan", "sitegen.readcache", "sitegen.runrecords", "sitegen.zoom_levels", "sitegen.long_resume", "sitegen.longread",
                "sitegen.reader",
                "sitegen.store*", "sitegen.media*"]),
    ("logbook", ["sitegen.logbook", "sitegen.kept_projects", "sitegen.downloads", "sitegen.markdown", "sitegen.report_blocks", "sitegen.report_media", "sitegen.reports",
                 "sitegen.check_report"]),
    ("pages", ["sitegen.pages", "sitegen.pages.*", "sitegen.charts", "sitegen.chart_rules"]),
    ("theme", ["sitegen.render", "sitegen.assets"]),
    ("build", ["sitegen.build", "sitegen.build_*", "sitegen.cache*"]),
    ("commands", ["sitegen.export", "sitegen.check", "sitegen.check_baseline", "sitegen.publish*",
                  "sitegen.ci_workflow", "sitegen.serve", "sitegen.livereload", "sitegen.watch",
                  "sitegen.auth*", "sitegen.sync*"]),
    ("cli", ["sitegen.cli", "sitegen.cli_*", "sitegen.__main__"]),
]



def _modules() -> dict[str, Path]:
    """Installed module name (runpages.…; sitegen.… stands for runpages.sitegen.…) → file."""
    mods = {}
    for folder, prefix in (("logger", "runpages"), ("sitegen", "sitegen")):
        for path in (ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            mods[".".join([prefix, *parts])] = path
    return mods


def _short(name: str) -> str:
    return "sitegen" + name[len("runpages.sitegen"):] if name.startswith("runpages.sitegen") else name


def _layer(name: str) -> int | None:
    """The rank of a module: an exact name wins, then the first pattern, then ``runpages.*``."""
    from fnmatch import fnmatchcase

    ranks = [(rank, pattern) for rank, (_, patterns) in enumerate(LAYERS) for pattern in patterns]
    for rank, pattern in ranks:
        if pattern == name:
            return rank
    for rank, pattern in ranks:
        if pattern != "runpages.*" and fnmatchcase(name, pattern):
            return rank
    return 1 if fnmatchcase(name, "runpages.*") else None


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = _short(node.module or "")
            targets = [module] + [f"{module}.{a.name}" for a in node.names
                                  if f"{module}.{a.name}" in mods]
        for t in targets:
            t = _short(t)
            if t in mods and t != name:
                out.add(t)
    return out


def test_every_module_has_a_layer():
    missing = sorted(n for n in _modules() if _layer(n) is None)
    assert not missing, f"place these modules in tests/project/test_layers.py LAYERS: {missing}"


def test_no_module_imports_from_a_layer_above_its_own():
    mods = _modules()
    wrong = []
    for name, path in sorted(mods.items()):
        mine = _layer(name)
        for dep in sorted(_imports(name, path, mods)):
            theirs = _layer(dep)
            if mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{name} ({LAYERS[mine][0]}) imports {dep} ({LAYERS[theirs][0]})")
    assert not wrong, "\n".join(wrong)


def test_the_logger_never_imports_the_site_generator_or_heavy_libraries():
    mods = _modules()
    heavy = ("sitegen", "pandas", "bokeh", "numpy", "torch", "pyarrow", "jinja2")
    wrong = []
    for name, path in mods.items():
        if not name.startswith("runpages") or name.startswith(("runpages.integrations",
                                                               "runpages.importers")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            wrong += [f"{name} imports {n}" for n in names
                      if n.split(".")[0] in heavy or n.startswith("runpages.sitegen")]
    assert not wrong, "\n".join(wrong)
