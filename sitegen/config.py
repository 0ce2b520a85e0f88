"""Site settings: defaults, then ``runpages.toml``, then command-line overrides (they win).

Invariants: every problem in the settings is reported at once in one ``ConfigError``, each
naming its key; unknown keys are warnings naming the nearest valid key; paths in the file are
relative to the file's folder, paths given on the command line relative to the current folder.

    # runpages.toml (every key optional)
    title = "Team logbook"
    runs_dirs = ["runs", "/mnt/shared/runs"]     # merged into one site
    output = "site"
    theme = "my-theme"                           # a folder; must exist
    strict = false                               # problems in the runs fail the build
    max_artifact_mb = 100
    artifacts = "copy"                           # copy | link (to the store) | skip
    # publish_to = "s3://team-logbook/site"      # the site is served from this store
    reports_dir = "reports"
    # cache_dir = "/var/tmp/runpages"           # build cache (default: under ~/.cache/runpages)
    main_metric = "val/acc"                      # default for every project, or:
    # default_main_metric = "val/acc"
    # [main_metric]
    # mnist = "val/accuracy"
    gpu_hour_cost = 2.5
    kwh_cost = 0.30
    idle_util_pct = 10
    # runs_dirs may name object stores: ["s3://team-logbook/runs", "runs"]
    # [store]                                    # options for them (no secrets here)
    # endpoint_url = "http://127.0.0.1:9000"     # MinIO, Ceph, R2, ...
    # profile = "team"; region = "eu-west-1"; anon = false
"""
from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from runpages.sitegen.errors import ConfigError
from runpages.schema import is_store_url

CONFIG_NAME = "runpages.toml"


@dataclass
class SiteConfig:
    runs_dirs: list[Path | str] = field(default_factory=lambda: [Path("runs")])   # str: a store URL
    output: Path = Path("site")
    title: str = "runpages"
    theme: Path | None = None
    strict: bool = False
    max_artifact_mb: float = 100.0
    artifacts: str = "copy"             # copy | link (runs on a store: the object's URL) | skip
    publish_to: str | None = None       # the store the site is served from (link: public URLs)
    reports_dir: Path | None = None
    cache_dir: Path | None = None       # the build cache; None: under the user's cache dir
    main_metric: dict[str, str] = field(default_factory=dict)   # project -> metric
    default_main_metric: str | None = None
    gpu_hour_cost: float | None = None
    kwh_cost: float | None = None
    idle_util_pct: float = 10.0
    source: Path | None = None          # the runpages.toml that was read, if any


# ---- validators: (value, base folder) -> converted value, or raise _Bad(reason) --------------

class _Bad(Exception):
    pass


def _type_name(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _path(value: Any, base: Path) -> Path:
    if isinstance(value, Path):
        return value if value.is_absolute() else base / value
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"expected a path (text), got {_type_name(value)}")
    if is_store_url(value):   # kept as given; sitegen/storemirror.py mirrors it before reading
        return value
    if value.lower().startswith("file://"):
        value = value[len("file://"):]
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _optional_path(value: Any, base: Path) -> Path | None:
    return None if value is None else _path(value, base)


def _existing_dir(value: Any, base: Path) -> Path | None:
    if value is None:
        return None
    p = _path(value, base)
    if not p.is_dir():
        raise _Bad(f"folder not found: {p}")
    return p


def _paths(value: Any, base: Path) -> list[Path]:
    if isinstance(value, (str, Path)):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise _Bad(f"expected a list of folders, got {_type_name(value)}")
    out, bad = [], []
    for i, item in enumerate(value):
        try:
            out.append(_path(item, base))
        except _Bad as err:
            bad.append(f"item {i + 1}: {err}")
    if bad:
        raise _Bad("; ".join(bad))
    return out


def _text(value: Any, base: Path) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected text, got {_type_name(value)}")
    return value


def _optional_text(value: Any, base: Path) -> str | None:
    return None if value is None else _text(value, base)


def _choice(*choices: str) -> Callable[[Any, Path], str]:
    def check(value: Any, base: Path) -> str:
        if value not in choices:
            raise _Bad(f"expected one of {', '.join(choices)}, got {value!r}")
        return value
    return check


def _bool(value: Any, base: Path) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_type_name(value)}")
    return value


def _number(low: float | None = None, high: float | None = None, low_open: bool = False,
            optional: bool = False) -> Callable[[Any, Path], float | None]:
    def check(value: Any, base: Path) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(f"expected a number, got {_type_name(value)}")
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            raise _Bad(f"expected a finite number, got {value}")
        if low is not None and (v <= low if low_open else v < low):
            raise _Bad(f"must be {'more than' if low_open else 'at least'} {low:g}, got {value}")
        if high is not None and v > high:
            raise _Bad(f"must be at most {high:g}, got {value}")
        return v
    return check


def _metric_map(value: Any, base: Path) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Bad(f"expected a table of project = \"metric\", got {_type_name(value)}")
    bad = [k for k, v in value.items() if not isinstance(v, str) or not v]
    if bad:
        raise _Bad("expected text for " + ", ".join(repr(k) for k in bad))
    return dict(value)


_VALIDATORS: dict[str, Callable[[Any, Path], Any]] = {
    "runs_dirs": _paths,
    "output": _path,
    "title": _text,
    "theme": _existing_dir,
    "strict": _bool,
    "max_artifact_mb": _number(0, low_open=True),
    "artifacts": _choice("copy", "link", "skip"),
    "publish_to": _optional_text,
    "reports_dir": _optional_path,
    "cache_dir": _optional_path,
    "main_metric": _metric_map,
    "default_main_metric": _optional_text,
    "gpu_hour_cost": _number(0, optional=True),
    "kwh_cost": _number(0, optional=True),
    "idle_util_pct": _number(0, 100),
}
VALID_KEYS = tuple(_VALIDATORS)
# Tables read and validated by the module that owns them: [check] by sitegen.check (CHECK_KEYS).
OWNED_ELSEWHERE = ("check", "store")   # [store]: runpages.store.store_options


def nearest_key(name: str, keys: tuple[str, ...] = VALID_KEYS) -> str | None:
    match = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
    return match[0] if match else None


def find_config(runs_dirs: list[Path] | None, cwd: Path | None = None) -> Path | None:
    """``runpages.toml`` next to the first runs dir (beside it or inside it), else in cwd."""
    cwd = Path.cwd() if cwd is None else cwd
    candidates = []
    if runs_dirs:
        first = Path(runs_dirs[0])
        first = first if first.is_absolute() else cwd / first
        candidates += [first.parent / CONFIG_NAME, first / CONFIG_NAME]
    candidates.append(cwd / CONFIG_NAME)
    for c in candidates:
        if c.is_file():
            return c
    return None


def load_config(toml_path: Path | None = None, overrides: Mapping[str, Any] | None = None,
                cwd: Path | None = None) -> tuple[SiteConfig, list[str]]:
    """Defaults < ``runpages.toml`` < ``overrides`` (CLI; None values mean "not given").

    ``toml_path`` None: looked up with ``find_config``. Returns the config and warnings
    (unknown keys). Raises ``ConfigError`` listing every problem, each with its key.
    """
    cwd = Path.cwd() if cwd is None else Path(cwd)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    problems: list[str] = []
    warnings: list[str] = []
    values: dict[str, Any] = {}

    # Which runs dir to look beside: the CLI's, else the default.
    cli_dirs = None
    if "runs_dirs" in overrides:
        try:
            cli_dirs = _paths(overrides["runs_dirs"], cwd)
        except _Bad:
            cli_dirs = None
    if toml_path is None:
        toml_path = find_config(cli_dirs or [cwd / "runs"], cwd)
        explicit = False
    else:
        toml_path = Path(toml_path)
        explicit = True
    source = "runpages.toml"
    if toml_path is not None:
        source = str(toml_path)
        try:
            raw = tomllib.loads(Path(toml_path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            if explicit:
                raise ConfigError([f"file not found: {toml_path}"], source) from None
            raw = {}
        except UnicodeDecodeError:
            raise ConfigError(["not valid UTF-8 text"], source) from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError([f"not valid TOML: {err}"], source) from None
        base = Path(toml_path).parent
        if not base.is_absolute():
            base = cwd / base
        if isinstance(raw.get("main_metric"), str):
            # `main_metric = "val/acc"` is the shorthand for the default of every project.
            raw.setdefault("default_main_metric", raw.pop("main_metric"))
        for key, value in raw.items():
            if key in OWNED_ELSEWHERE:
                continue
            if key not in _VALIDATORS:
                hint = nearest_key(key)
                warnings.append(f"unknown key {key!r} in {Path(toml_path).name}"
                                + (f"; did you mean {hint!r}?" if hint else "; ignored"))
                continue
            try:
                values[key] = _VALIDATORS[key](value, base)
            except _Bad as err:
                problems.append(f"{key}: {err}")

    for key, value in overrides.items():
        if key not in _VALIDATORS:
            hint = nearest_key(key)
            problems.append(f"unknown setting {key!r}" + (f"; did you mean {hint!r}?" if hint else ""))
            continue
        try:
            converted = _VALIDATORS[key](value, cwd)
        except _Bad as err:
            problems.append(f"{key} (command line): {err}")
            continue
        if key == "main_metric":
            converted = {**values.get("main_metric", {}), **converted}
        values[key] = converted

    if problems:
        # unknown keys are only warnings on their own, but a failed file lists them too: one
        # round of fixes, not one per run
        raise ConfigError(problems + warnings, source)
    config = SiteConfig(**values)
    if "runs_dirs" not in values:
        config.runs_dirs = [cwd / "runs"]
    if "output" not in values:
        config.output = cwd / "site"
    config.source = Path(toml_path) if toml_path is not None else None
    return config, warnings


def require_inputs(config: SiteConfig) -> None:
    """Every local runs folder and the reports folder a user named exist, else ``ConfigError``.

    A typo in a path must fail (exit 1), not build an empty site that CI would deploy. Store
    URLs (``s3://...``) are checked by the store when it is read.
    """
    missing = [f"runs folder not found: {d}" for d in config.runs_dirs
               if "://" not in str(d) and not Path(d).is_dir()]
    if config.reports_dir is not None and not Path(config.reports_dir).is_dir():
        missing.append(f"reports folder not found: {config.reports_dir}")
    if missing:
        raise ConfigError(missing, "command line" if config.source is None else str(config.source))


CONFIG_KEYS = tuple(f.name for f in fields(SiteConfig) if f.name != "source")


def reports_dir(config) -> Path | None:
    """``config.reports_dir``; else ``reports/`` inside the first runs dir, else beside it.

    A ``reports/`` beside the runs folder belongs to that logbook only: it is taken when the
    runs folder is the conventional ``runs/`` of a repository, or when a ``runpages.toml`` in
    the same parent folder set up the build. Building some other folder of the same parent
    (``experiments-old/``) does not pick up the team's reports.
    """
    if getattr(config, "reports_dir", None):
        return Path(config.reports_dir)
    if not config.runs_dirs:
        return None
    first = Path(config.runs_dirs[0])
    if (first / "reports").is_dir():
        return first / "reports"
    source = getattr(config, "source", None)
    owns_beside = first.name == "runs" or (source is not None and
                                             Path(source).resolve().parent == first.resolve().parent)
    if owns_beside and (first.parent / "reports").is_dir():
        return first.parent / "reports"
    return None
