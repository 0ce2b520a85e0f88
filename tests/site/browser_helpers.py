"""Helpers for the browser tests of built sites (imported by tests/browser/test_*_page.py)."""
from __future__ import annotations

import time
from pathlib import Path

# BokehJS draws inside shadow roots: look through them for each chart cell's canvas.
CANVAS_COUNTS = """
function deep(root) {
  var n = 0, all = root.querySelectorAll('*');
  for (var i = 0; i < all.length; i++) {
    if (all[i].tagName === 'CANVAS') n++;
    if (all[i].shadowRoot) n += deep(all[i].shadowRoot);
  }
  return n;
}
return [].slice.call(document.querySelectorAll(arguments[0] || '.rp-chart-cell')).map(deep);
"""

ALERT_TRAP = ("window.__alerts = []; window.alert = window.confirm = window.prompt = "
              "function (m) { window.__alerts.push(String(m)); };")


def build(runs_dir: Path, out: Path, **kw) -> Path:
    from runpages.sitegen.build import build_site
    from runpages.sitegen.config import SiteConfig

    build_site(SiteConfig(runs_dirs=[runs_dir], output=out, **kw))
    return out


def wait_for(driver, js: str, timeout: float = 20.0, poll: float = 0.1):
    """Poll ``js`` (a ``return ...`` statement) until it is truthy; returns its value."""
    end = time.time() + timeout
    value = None
    while time.time() < end:
        value = driver.execute_script(js)
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for: {js} (last value {value!r})")


def canvases(driver, selector: str = ".rp-chart-cell") -> list[int]:
    return driver.execute_script(CANVAS_COUNTS, selector)


def same_origin(urls: list[str], base: str) -> list[str]:
    """URLs that are not under ``base`` (an http origin or a file:// folder)."""
    return [u for u in urls if not u.startswith(base)]


def wait_canvases(driver, selector: str = ".rp-chart-cell", timeout: float = 20.0) -> list[int]:
    """Wait until every element matching ``selector`` holds a canvas; returns the counts."""
    end = time.time() + timeout
    counts: list[int] = []
    while time.time() < end:
        counts = canvases(driver, selector)
        if counts and all(counts):
            return counts
        time.sleep(0.1)
    return counts
