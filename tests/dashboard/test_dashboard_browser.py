"""The dashboard as a person sees it: `emops dashboard` served, every page opened in Chromium.

Screenshots go to the test's tmp directory; with EMOPS_UPDATE_SCREENSHOT=1 the
Overview's also replaces docs/img/dashboard-overview.png (the README's picture).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from browserfixture import (  # noqa: F401  chromium_installed: a fixture
    DashboardProcess,
    chromium,
    chromium_installed,
    quit_chromium,
)
from pagetest import LAB, ROOT
from promfixture import SILENT_DEVICE, VENDOR_PROFILE, free_port
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import campaigns, formatting, queries
from dashboard.prometheus import PrometheusClient
from dashboard.timerange import DEFAULT_PRESET, PRESETS, TimeRange

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("chromium_installed")]
README_SHOT = ROOT / "docs" / "img" / "dashboard-overview.png"


@pytest.fixture
def dashboard(prometheus, campaigns_dir, tmp_path):
    served = DashboardProcess(
        ROOT,
        free_port(),
        [
            "--inventory",
            str(LAB),
            "--prometheus",
            prometheus.url,
            "--campaigns",
            str(campaigns_dir),
            "--sites",
            "12",  # the fixture's whole province, even when a smaller twin runs here
        ],
        tmp_path / "dashboard.log",
    )
    try:
        served.wait_ready()
        yield served
    finally:
        served.stop()


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    driver = chromium(profile, tmp_path / "chromedriver.log")
    try:
        yield driver
    finally:
        quit_chromium(driver)


def expected_numbers(prometheus_url: str, campaigns_dir: Path) -> dict[str, list[str]]:
    """Per page, strings that must be visible: PromQL answers, formatted as the page does."""
    promql = PrometheusClient(prometheus_url, ttl_s=0, backoff_s=0)
    r = TimeRange.last(PRESETS[DEFAULT_PRESET], "lab")
    latest = campaigns.latest(campaigns_dir)
    precision = latest.estimate("data_precision")
    return {
        "": [
            formatting.ratio(promql.value(queries.downtime_rate(r.window)).data),
            formatting.seconds(promql.value(queries.request_delay(0.95, r.window)).data),
            "41 / 42",
            formatting.ratio(precision.mean),
            formatting.spread(precision.half_width, "ratio"),
        ],
        "topology": ["hq-wan-private", "qinghe"],
        "device": [
            f"Profile in use: {VENDOR_PROFILE[0]}",
            "71.0 °C",
            "OSPF neighbours",
        ],
        "wan_capacity": ["Recommended circuit", "1Gbit/s"],
        "server_groups": ["3 / 4", "Load balancers: HAProxy backend states"],
        "alerts": ["WanLinkDown", "Firing"],
        "campaigns": [
            f"{len(latest.runs)} runs",
            formatting.ratio(precision.mean),
            formatting.spread(precision.half_width, "ratio"),
        ],
    }


def wait_for_texts(driver, texts: list[str], timeout_s: float = 45) -> None:
    def shown(d) -> bool:
        body = d.find_element(By.TAG_NAME, "body").text
        running = d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        return all(t in body for t in texts) and not any("Running" in e.text for e in running)

    try:
        WebDriverWait(driver, timeout_s, poll_frequency=0.5).until(shown)
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").text
        missing = [t for t in texts if t not in body]
        raise AssertionError(f"not visible: {missing}\n--- page text ---\n{body[:3000]}") from None


def test_every_page_in_chromium(dashboard, browser, prometheus, campaigns_dir, tmp_path):
    expected = expected_numbers(prometheus.url, campaigns_dir)
    for path, texts in expected.items():
        browser.get(f"{dashboard.url}/{path}")
        wait_for_texts(browser, texts)
        assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text
        if path == "topology":
            svg = browser.find_element(By.CSS_SELECTOR, "svg.emops-topology")
            assert svg.is_displayed() and svg.size["width"] > 600
            devices = svg.find_elements(By.CSS_SELECTOR, "g.device")
            assert len(devices) == 42
            silent = svg.find_element(By.CSS_SELECTOR, f'g.device[data-device="{SILENT_DEVICE}"]')
            assert silent.get_attribute("data-up") == "false"
        time.sleep(1.5)  # sparklines and charts draw after the script is done
        shot = tmp_path / f"dashboard-{path or 'overview'}.png"
        assert browser.save_screenshot(str(shot)), shot
        assert shot.stat().st_size > 10_000, "a blank page"
    if os.environ.get("EMOPS_UPDATE_SCREENSHOT") == "1":
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "dashboard-overview.png", README_SHOT)


def test_a_site_drills_down_from_its_url(dashboard, browser):
    browser.get(f"{dashboard.url}/topology?site=qinghe")
    wait_for_texts(browser, ["Site qinghe", "VIP probe success from qinghe", "0.00 %"])
