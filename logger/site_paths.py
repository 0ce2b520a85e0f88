"""The site's path rule, shared by the logger (``Run.url``) and the site (``sitegen.logbook.SiteMap``).

Invariants:
- ``slug`` is the one rule that turns a project or run name into a file name: ASCII letters,
  digits, ``.``, ``_``, ``-``; never hidden, never empty, never a Windows device name.
- ``run_page_path`` is the one layout of a run page: ``p/<project-slug>/r/<run-slug>/index.html``,
  relative to the site root. The site tells apart two names that slug alike with a ``-2``
  suffix (``unique_slugs``); a run alone cannot know that, so ``Run.url`` is the path its page
  gets unless another project or run of the same logbook slugs to the same name.
- Standard library only: the logger imports this, and the logger never imports ``sitegen``.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Iterable

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                     *(f"lpt{i}" for i in range(10))}


def slug(name: Any, max_len: int = 80) -> str:
    """A path-safe file name for ``name``: ASCII letters, digits, ``.``, ``_``, ``-`` only,
    never starting with a dot (no hidden files, no ``..``), never empty."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", s)
    s = re.sub(r"-{2,}", "-", s).strip("-.")
    s = s[:max_len].strip("-.")
    if not s:
        s = "x-" + hashlib.sha1(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if s.split(".")[0].lower() in _WINDOWS_RESERVED:
        s = "_" + s
    return s


def unique_slugs(names: Iterable[Any]) -> list[str]:
    """Slugs for ``names`` in order; a repeat (compared case-insensitively) gets ``-2``, ``-3``."""
    seen: set[str] = set()
    out = []
    for name in names:
        base = slug(name)
        s, n = base, 1
        while s.lower() in seen:
            n += 1
            s = f"{base}-{n}"
        seen.add(s.lower())
        out.append(s)
    return out


def run_page_path(project_slug: str, run_slug: str) -> str:
    """The run page's path relative to the site root."""
    return f"p/{project_slug}/r/{run_slug}/index.html"
