"""Headless Debian Chromium for the benchmarks' browser figures (the flags of shared/STYLE.md).

    driver = headless.start()          # None without /usr/bin/chromium + chromedriver
    try: ... finally: headless.stop(driver)
"""
from __future__ import annotations

import os
import shutil
import tempfile

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]


def available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


def start(width: int = 1280, height: int = 900, timeout: float | None = None):
    """A WebDriver on a throwaway profile, or None when Chromium is not installed;
    ``timeout``: the script and page-load timeouts, in seconds."""
    if not available():
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rp-bench-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS + [f"--window-size={width},{height}", f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.rp_profile = profile
    if timeout is not None:
        driver.set_script_timeout(timeout)
        driver.set_page_load_timeout(timeout)
    return driver


def stop(driver) -> None:
    """Quit ``driver`` and delete its profile."""
    driver.quit()
    shutil.rmtree(driver.rp_profile, ignore_errors=True)
