"""Templates to bytes, bytes to disk.

Invariants: autoescape is always on and undefined names raise (StrictUndefined), so a template
never prints user text unescaped or silently prints nothing. Every link in a template goes
through the ``url`` filter, which turns a site-root-relative path into one relative to the page
being rendered, so the site works from ``file://`` and under any sub-path. Every file lands by
temp name + ``os.replace``, so a reader of the site never sees half a page.
"""
from __future__ import annotations

import functools
import os
import posixpath
from pathlib import Path
from typing import Any, Iterable

import jinja2

from runpages.sitegen.assets import CHART_SCRIPTS
from runpages.sitegen.atomic import write_atomic
from runpages.sitegen.pages import Page
from runpages.sitegen.values import format_duration, format_number, format_utc

DEFAULT_THEME = "default"


def root_prefix(page_path: str) -> str:
    """``"p/x/index.html"`` -> ``"../../"``; ``"index.html"`` -> ``""``."""
    depth = page_path.strip("/").count("/")
    return "../" * depth


def relative_url(target: str, page_path: str) -> str:
    """Make the site-root-relative ``target`` relative to ``page_path`` (both without a leading /).

    External-looking targets (with a scheme, ``#...`` or ``?...`` only) are returned unchanged;
    user text never reaches this filter as a target, only paths the build made.
    """
    target = str(target)
    if not target or target.startswith(("#", "?")) or "://" in target or target.startswith("mailto:"):
        return target
    path, sep, rest = target.partition("#")
    query = ""
    if "?" in path:
        path, _, query = path.partition("?")
        query = "?" + query
    trailing = path.endswith("/")
    path = path.lstrip("/")
    base = posixpath.dirname(page_path.lstrip("/"))
    rel = _relpath(path or ".", base or ".")
    if rel == ".":
        rel = "./"
    elif trailing and not rel.endswith("/"):
        rel += "/"
    return rel + query + (sep + rest if sep else "")


@functools.lru_cache(maxsize=8192)
def _relpath(path: str, base: str) -> str:
    """``posixpath.relpath`` for two site-relative paths, without its ``os.getcwd()`` per call
    (a page has dozens of links; a cold build renders one page a run)."""
    parts = [p for p in posixpath.normpath(path).split("/") if p != "."]
    base_parts = [p for p in posixpath.normpath(base).split("/") if p != "."]
    if ".." in parts or ".." in base_parts:
        return posixpath.relpath(path, base)
    common = 0
    for a, b in zip(parts, base_parts):
        if a != b:
            break
        common += 1
    rel = [".."] * (len(base_parts) - common) + parts[common:]
    return "/".join(rel) if rel else "."


def _theme_dirs(theme: str | os.PathLike | None) -> list[str]:
    from importlib import resources

    dirs = []
    if theme:
        dirs.append(str(theme))
    default = resources.files("runpages.themes").joinpath(DEFAULT_THEME)
    dirs.append(str(default))
    return dirs


def default_theme_dir() -> Path:
    return Path(_theme_dirs(None)[-1])


def _filesize(n: Any) -> str:
    try:
        n = float(n)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _value(v: Any) -> str:
    """A config/summary value as text: numbers by the one display rule, lists/mappings as JSON."""
    if isinstance(v, (list, dict)):
        import json

        return json.dumps(v, ensure_ascii=False, default=str)
    return format_number(v)


@jinja2.pass_context
def _url(ctx, target) -> str:
    return relative_url(target, ctx["page_path"])


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process (serve --watch builds again and
    again); jinja2 checks each against its source's checksum, so an edited theme recompiles."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _MemoryBytecodeCache()


class Renderer:
    """One jinja2 Environment per build: theme folder first, then the packaged default theme."""

    def __init__(self, theme: str | os.PathLike | None = None, globals: dict[str, Any] | None = None):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_theme_dirs(theme)),
            bytecode_cache=_COMPILED,
            auto_reload=False,        # one Environment per build: no stat of every template per page
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(url=_url, filesize=_filesize, duration=format_duration, datetime=format_utc, value=_value)
        self.env.globals["chart_scripts"] = CHART_SCRIPTS
        self.env.globals.update(globals or {})

    def render(self, page: Page) -> str:
        """Render one page; the ``url`` filter and ``root`` know where the page lives."""
        template = self.env.get_template(page.template)
        ctx = dict(page.context)
        ctx.setdefault("page_path", page.path)
        ctx.setdefault("root", root_prefix(page.path))
        return template.render(ctx)


def write_if_changed(path: str | os.PathLike, data: bytes | str) -> bool:
    """Atomic write unless the file already holds exactly ``data``; returns whether it wrote."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


def render_pages(renderer: Renderer, pages: Iterable[Page]) -> dict[str, str]:
    """Render everything in memory first: a template error leaves the site untouched."""
    return {page.path: renderer.render(page) for page in pages}
