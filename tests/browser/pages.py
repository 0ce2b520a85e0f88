"""Helpers shared by the browser tests of the project, compare and utilisation pages."""
from __future__ import annotations

from urllib.parse import urlparse

from tests.browser.conftest import resource_urls


def click(browser, element) -> None:
    """Scroll to the middle first: the sticky table header would take a click at the top."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def foreign_resources(browser, base: str) -> list[str]:
    """Requested URLs off ``base``'s origin or outside its sub-path (the browser's own
    /favicon.ico probe aside)."""
    origin, prefix = urlparse(base).netloc, urlparse(base).path
    return [u for u in resource_urls(browser) if urlparse(u).netloc != origin or not (
        urlparse(u).path.startswith(prefix) or urlparse(u).path == "/favicon.ico")]
