"""Headless Chromium for page tests: Debian's chromium + chromedriver, nothing downloaded.

Without the browser the tests skip, unless RUNPAGES_REQUIRE_BROWSER=1 (set by CI), where a
missing browser is a failure.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--window-size=1280,900",
]


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(exe):
            return f"{exe} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; each test gets it with the console log cleared."""
    reason = _browser_missing()
    if reason:
        if os.environ.get("RUNPAGES_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser required but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="runpages-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(autouse=True)
def _blank_page_between_tests(request):
    """Each test starts and ends on about:blank with the console log read empty: a page left
    open by the test before (say, polling a server that test stopped) logs nothing into this one."""
    if "browser" not in request.fixturenames:
        yield
        return
    driver = request.getfixturevalue("browser")
    driver.get("about:blank")
    driver.get_log("browser")
    yield
    driver.get("about:blank")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="session")
def serve_dir():
    """Start a static HTTP server on 127.0.0.1:0 for a folder; returns its base URL."""
    servers = []

    def start(root: Path, prefix: str = "") -> str:
        handler = functools.partial(_QuietHandler, directory=str(root))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/{prefix}"

    yield start
    for srv in servers:
        srv.shutdown()


def console_errors(driver) -> list[str]:
    """Severe console entries since the last call (reading the log clears it)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def resource_urls(driver) -> list[str]:
    """Every URL the page requested (scripts, styles, images, data)."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")


def screenshot_on_failure(driver, request, name: str) -> None:
    out = Path(os.environ.get("RUNPAGES_SCREENSHOTS", tempfile.gettempdir()))
    out.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out / f"{name}.png"))
