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

from runpages.sitegen.atomic import copy_atomic

BOKEH_FILES = ("bokeh.min.js", "bokeh-api.min.js")


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


def copy_assets(theme_dirs: list[str], out: str | os.PathLike) -> list[str]:
    """Copy what changed; returns the site paths written (``_static/…``)."""
    dest = Path(out) / "_static"
    return [f"_static/{rel}" for rel, src in static_files(theme_dirs).items() if _copy(src, dest / rel)]
