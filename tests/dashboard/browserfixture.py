"""`emops dashboard` in a subprocess and Debian's Chromium driven by Selenium, both by PID.

No browser is downloaded: Selenium is pointed at /usr/bin/chromium and
/usr/bin/chromedriver, so its driver manager never runs.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from childprocess import ChildServer
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from testkit import require_tool

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture(scope="session")
def chromium_installed() -> None:
    """Debian's chromium and chromedriver (skip, or fail under CI); checked before the
    session's Prometheus or twin is started for nothing."""
    require_tool(CHROMIUM)
    require_tool(CHROMEDRIVER)


class DashboardProcess(ChildServer):
    """`python -m control.emops_cli dashboard ...` on a loopback port (it execs into Streamlit)."""

    name = "emops dashboard"

    def __init__(self, root: Path, port: int, options: list[str], log: Path) -> None:
        self.port = port
        argv = [
            sys.executable,
            "-m",
            "control.emops_cli",
            "dashboard",
            "--port",
            str(port),
            *options,
        ]
        super().__init__(argv, root, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Streamlit's health endpoint answers `ok`."""
        health = f"{self.url}/_stcore/health"
        self.wait_http(health, lambda r: r.read().strip() == b"ok", timeout_s, poll_s=0.3)


def chromium(profile: Path, log: Path, width: int = 1400, height: int = 1600) -> webdriver.Chrome:
    """Headless Debian Chromium with a new, empty profile directory."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log))
    return webdriver.Chrome(options=options, service=service)


def quit_chromium(driver: webdriver.Chrome) -> None:
    """Quit the browser, then make sure its driver process is gone (by PID)."""
    process = driver.service.process
    try:
        driver.quit()
    finally:
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
