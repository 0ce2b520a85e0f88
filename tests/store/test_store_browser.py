"""Two machines log to one bucket while ``serve --watch`` polls it: in headless Chromium the
project page shows the second run when it appears, and each run's page gains points in place,
without navigation. The bucket is moto's real S3 server on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import (_blank_page_between_tests, browser, console_errors,  # noqa: F401
                                    screenshot_on_failure)
from tests.serve.live_helpers import ROOT, Serve, env
from tests.site.browser_helpers import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MACHINE = textwrap.dedent("""
    import os, sys, time, runpages
    run = runpages.init(project="team", name=sys.argv[1], sync_interval=0.3,
                        system_metrics=False, capture_console=False, save_code=False)
    print(run.id, flush=True)
    step, t_end = 0, time.time() + 90
    while not os.path.exists(sys.argv[2]) and time.time() < t_end:
        run.log({"loss": 1.0 / (step + 1)})
        step += 1
        time.sleep(0.05)
    run.finish()
""")


def _wait_for_page(url: str, timeout: float) -> None:
    end = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            if time.time() > end:
                raise
            time.sleep(0.2)


class Machine:
    """One writer process with its own staging folder (another laptop, say), logging to url."""

    def __init__(self, tmp: Path, name: str, url: str) -> None:
        self.stop_file = tmp / f"stop-{name}"
        e = dict(env(), RUNPAGES_DIR=url, RUNPAGES_STAGING=str(tmp / f"stage-{name}"))
        self.proc = subprocess.Popen([sys.executable, "-c", MACHINE, name, str(self.stop_file)],
                                     cwd=ROOT, env=e, stdout=subprocess.PIPE, text=True)
        self.id = self.proc.stdout.readline().strip()
        self.key = f"team/{self.id}"

    def stop(self) -> None:
        self.stop_file.write_text("")
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def test_two_machines_on_one_bucket_appear_and_grow_in_serve_watch(s3, browser, tmp_path,
                                                                     request):
    url = f"s3://{s3.bucket}/runs"
    machines, serve = [], None
    try:
        machines.append(Machine(tmp_path, "laptop", url))
        serve = Serve(url, tmp_path / "site", "--watch", "--poll", "0.5", timeout=60)
        # serve may have built before the run's first upload landed: its poll picks the run up
        _wait_for_page(serve.url + "p/team/index.html", timeout=30)
        browser.get(serve.url + "p/team/index.html")
        wait_for(browser, "return window.RunpagesLive && RunpagesLive.polling", timeout=30)
        assert machines[0].id in browser.page_source
        machines.append(Machine(tmp_path, "cluster", url))
        # the page reloads itself when the second machine's run reaches the bucket
        wait_for(browser, f"return document.body.innerHTML.indexOf({machines[1].id!r}) >= 0",
                 timeout=30)
        for m in machines:               # each run's page gains points in place
            browser.get(serve.url + f"p/team/r/{m.id}/index.html")
            wait_for(browser, "return window.runpagesCharts && RunpagesLive.polling "
                              "&& !!runpagesCharts.plots['loss']", timeout=30)
            browser.execute_script("window.__marker = 'same page'")
            src = "runpagesCharts.plots['loss'].renderers[%r][0].data_source.data.x.length" % m.key
            n0 = wait_for(browser, f"return {src}")
            wait_for(browser, f"return {src} > {n0} + 10", timeout=40)
            assert browser.execute_script("return window.__marker") == "same page"
        assert not console_errors(browser)
    except Exception:
        screenshot_on_failure(browser, request, "store-two-machines")
        if serve is not None:
            print("serve stderr:", "".join(serve.err))
        raise
    finally:
        for m in machines:
            m.stop()
        if serve is not None:
            serve.stop()
    assert os.path.isdir(tmp_path / "stage-laptop") and os.path.isdir(tmp_path / "stage-cluster")
