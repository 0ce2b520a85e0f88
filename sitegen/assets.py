"""Theme static files and BokehJS into ``site/_static/``, once per build.

Invariants: nothing is fetched from the internet; BokehJS comes from the installed ``bokeh``
package (``bokeh/server/static/js/``). A file whose size and modification time match its source
is not copied again, so an unchanged site costs a few ``stat`` calls here.
Layout: ``_static/<theme files>`` (a custom theme's files win over the default theme's) and
``_static/bokeh/bokeh.min.js``, ``_static/bokeh/bokeh-api.min.js``.
"""
from __future__ import annotations

import os
from pathlib import Path

from runpages.sitegen.atomic import copy_atomic, write_atomic

BOKEH_FILES = ("bokeh.min.js", "bokeh-api.min.js")
# The chart scripts under _static/, in load order (charts.js says what each holds); pages load
# them through partials/charts_scripts.html, an exported report inlines them.
CHART_SCRIPTS = ("bokeh/bokeh.min.js", "bokeh/bokeh-api.min.js", "chart-rules.js", "chart-series.js",
                 "chart-data.js", "chart-figure.js", "chart-toolbar.js", "chart-ranges.js", "chart-plot.js",
                 "chart-runlist.js", "charts.js", "nonfinite.js", "chart-zoom.js")


def bokeh_js_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("bokeh")
    if spec is None or not spec.origin:
        from runpages.sitegen.errors import SiteError

        raise SiteError("bokeh is not installed: pip install bokeh (its JavaScript is copied into the site)")
    return Path(spec.origin).parent / "server" / "static" / "js"


def _same(src: os.stat_result, dest: Path) -> bool:
    try:
        st = dest.stat()
    except OSError:
        return False
    return st.st_size == src.st_size and st.st_mtime_ns == src.st_mtime_ns


def _copy(src: Path, dest: Path) -> bool:
    st = src.stat()
    if _same(st, dest):
        return False
    copy_atomic(src, dest)
    # the source's mtime, so the next build sees the copy as unchanged
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    return True


# Served by ``runpages serve --watch`` from the theme, never written into a site.
SERVE_ONLY = {"live.js"}


def static_files(theme_dirs: list[str]) -> dict[str, Path]:
    """``{relative path under _static/: source}``; earlier theme dirs win."""
    files: dict[str, Path] = {}
    for d in reversed(theme_dirs):
        root = Path(d) / "static"
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not path.name.startswith(".") and rel not in SERVE_ONLY:
                files[rel] = path
    js = bokeh_js_dir()
    for name in BOKEH_FILES:
        files[f"bokeh/{name}"] = js / name
    return files


def generated_files() -> dict[str, str]:
    """``{relative path under _static/: text}`` made by the build, not copied from a theme."""
    from runpages.sitegen.chart_rules import RULES_FILE, rules_script

    return {RULES_FILE: rules_script()}


def copy_assets(theme_dirs: list[str], out: str | os.PathLike) -> list[str]:
    """Copy (or generate) what changed; returns the site paths written (``_static/…``)."""
    dest = Path(out) / "_static"
    written = [f"_static/{rel}" for rel, src in static_files(theme_dirs).items() if _copy(src, dest / rel)]
    written += [f"_static/{rel}" for rel, text in generated_files().items() if _write(dest / rel, text)]
    return written


def _write(dest: Path, text: str) -> bool:
    data = text.encode("utf-8")
    try:
        if dest.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(dest, data)
    return True
