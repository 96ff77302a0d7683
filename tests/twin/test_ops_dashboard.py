"""The ops dashboard on the live twin: every page against the Prometheus that watches it.

AppTest runs each page in this process against `emops monitor up`'s Prometheus
(fed by the collectors polling the provisioned twin); every number shown is
compared with what PromQL answers, and with what the twin really is (24
devices answering, 4 web servers, 8 HAProxy backend rows). A web server is
then stopped and the dashboard must show it. Chromium opens every page of the
served dashboard and saves screenshots.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator

import pytest

from dashboard import campaigns, formatting, queries
from dashboard.prometheus import PrometheusClient
from dashboard.settings import ENV
from dashboard.timerange import DEFAULT_PRESET, PRESETS, TimeRange
from lab.faults import Lab

from .kit import ROOT, firing

sys.path.insert(0, str(ROOT / "tests" / "dashboard"))  # the dashboard tests' page helpers
from browserfixture import (  # noqa: F401  chromium_installed: a fixture
    DashboardProcess,
    chromium,
    chromium_installed,
    quit_chromium,
)
from pagetest import PAGES, metrics, open_page, texts

pytestmark = [pytest.mark.root, pytest.mark.slow]
LAB_INVENTORY = str(ROOT / "inventory" / "lab")
README_SHOT = ROOT / "docs" / "img" / "dashboard-overview.png"


@pytest.fixture(scope="module")
def sites(twin) -> int:
    return len(twin["sites"]) - 1


@pytest.fixture(scope="module")
def promql(monitored) -> PrometheusClient:
    client = PrometheusClient(monitored.prometheus, ttl_s=0, backoff_s=0)
    r = window()
    deadline = time.monotonic() + 90  # rate() windows and subquery steps fill first
    while time.monotonic() < deadline:
        up = client.value(queries.devices_answering()).data
        util = client.instant(queries.link_utilisation("30s")).data
        availability = client.value(queries.availability(r.window, r.resolution)).data
        if up and util and availability is not None:
            break
        time.sleep(1)
    return client


@pytest.fixture
def page_env(monkeypatch, monitored, sites, smoke_campaign) -> None:
    for key, value in {
        ENV["inventory"]: LAB_INVENTORY,
        ENV["prometheus"]: monitored.prometheus,
        ENV["alertmanager"]: monitored.alertmanager,
        ENV["campaigns"]: str(smoke_campaign.parent),  # the twin's own smoke campaign
        ENV["sites"]: str(sites),
    }.items():
        monkeypatch.setenv(key, value)
    from dashboard.context import client

    client(monitored.prometheus).ttl_s = 0  # live data: every page run asks Prometheus


def by(samples, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in samples}


def window() -> TimeRange:
    return TimeRange.last(PRESETS[DEFAULT_PRESET], "lab")


@pytest.mark.usefixtures("page_env")
def test_every_page_renders_the_live_twin(promql, twin):
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, texts(at.error))
        assert at.title[0].value == page
    devices = len(twin["devices"])
    shown = metrics(open_page("Overview"))
    answering = promql.value(queries.devices_answering()).data
    assert (
        shown["Devices answering SNMP"]
        == f"{answering:.0f} / {devices}"
        == f"{devices} / {devices}"
    )
    firing_now = sum(a["state"] == "firing" for a in promql.alerts().data)
    assert shown["Active alerts"] == str(firing_now)
    r = window()
    assert shown["Availability"] == formatting.ratio(
        promql.value(queries.availability(r.window, r.resolution)).data
    )


@pytest.mark.usefixtures("page_env")
def test_campaigns_page_shows_the_twins_smoke_campaign(smoke_campaign):
    at = open_page("Campaigns")
    assert not at.exception and not at.error, texts(at.error)
    latest = campaigns.latest(smoke_campaign.parent)
    shown = metrics(at)
    for name, label, kind in campaigns.KPI_FIELDS:
        est = latest.estimate(name)
        assert shown[label] == formatting.kind_format(kind, est.mean), label
    assert len(at.dataframe[0].value) == len(latest.runs)


@pytest.mark.usefixtures("page_env")
def test_topology_and_wan_capacity_show_the_twins_links(promql, twin):
    def utilisation() -> dict[str, float]:
        return by(promql.instant(queries.link_utilisation(window().now_window)).data, "link")

    before = utilisation()  # live traffic: the page's answer lies between two queries
    at = open_page("Topology")
    after = utilisation()
    svg = next(m.value for m in at.markdown if m.value.startswith("<svg"))
    for device in twin["devices"]:
        assert f'data-device="{device}" data-up="true"' in svg, device
    table = at.dataframe[-1].value.set_index("link")
    assert before, "the collectors measure every WAN link"
    for link in set(before) & set(after) & set(table.index):
        shown = float(table.loc[link, "utilisation"].rstrip(" %")) / 100
        low, high = sorted((before[link], after[link]))
        assert low - 0.001 <= shown <= high + 0.001, (link, shown, before[link], after[link])
    assert set(table["status"]) == {"up"}, table["status"].to_dict()
    capacity = open_page("WAN capacity").dataframe[0].value
    wan = {lk for lk in capacity["link"]}
    assert {"anping-private", "anping-backup"} <= wan
    assert not any(lk.startswith("qinghe") for lk in wan), "only the running twin's sites"


@pytest.mark.usefixtures("page_env")
def test_a_stopped_web_server_shows_on_server_groups_and_alerts(promql, monitored):
    lab = Lab.attach()
    at = open_page("Server groups")
    assert metrics(at)["Web servers up"] == "4 / 4"
    lab.daemon_stop("hq-web1", "nginx")
    try:
        deadline = time.monotonic() + 60
        while not any(
            a["alertname"] == "LoadBalancerBackendDown" for a in firing(monitored.prometheus)
        ):
            assert time.monotonic() < deadline, "LoadBalancerBackendDown never fired"
            time.sleep(1)
        at = open_page("Server groups")
        haproxy = next(df.value for df in at.dataframe if "backend" in df.value.columns)
        states = promql.instant(queries.haproxy_server_state()).data
        assert len(haproxy) == len(states) == 8
        down = haproxy[haproxy["state"] == "DOWN"]
        assert set(down["server"]) == {"hq-web1"}

        def firing_count() -> str:
            return str(sum(a["state"] == "firing" for a in promql.alerts().data))

        before = firing_count()  # alerts come and go: the page shows one of these
        alerts = open_page("Alerts")
        after = firing_count()
        table = alerts.dataframe[0].value
        assert "LoadBalancerBackendDown" in set(table["alert"])
        assert metrics(alerts)["Firing"] in {before, after}
    finally:
        lab.daemon_start("hq-web1", "nginx")


@pytest.fixture
def served(monitored, sites, smoke_campaign, tmp_path) -> Iterator[DashboardProcess]:
    port = _free_port()
    options = ["--inventory", LAB_INVENTORY, "--prometheus", monitored.prometheus]
    options += ["--alertmanager", monitored.alertmanager, "--sites", str(sites)]
    options += ["--campaigns", str(smoke_campaign.parent)]
    process = DashboardProcess(ROOT, port, options, tmp_path / "dashboard.log")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.usefixtures("chromium_installed")
def test_every_page_in_chromium_on_the_twin(served, twin, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    devices = len(twin["devices"])
    expected = {
        "": [f"{devices} / {devices}", "Availability"],
        "topology": ["hq-wan-private", "anping"],
        "wan_capacity": ["Recommended circuit", "anping-private"],
        "server_groups": ["4 / 4", "Load balancers: HAProxy backend states"],
        "alerts": ["Firing"],
        "campaigns": ["Campaigns", "smoke"],
    }
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    driver = chromium(profile, tmp_path / "chromedriver.log")
    try:
        for path, wanted in expected.items():
            driver.get(f"{served.url}/{path}")

            def shown(d, wanted=wanted) -> bool:
                body = d.find_element(By.TAG_NAME, "body").text
                busy = d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
                return all(t in body for t in wanted) and not any("Running" in e.text for e in busy)

            try:
                WebDriverWait(driver, 45, poll_frequency=0.5).until(shown)
            except Exception:
                body = driver.find_element(By.TAG_NAME, "body").text
                raise AssertionError(
                    f"/{path}: not all of {wanted} visible\n{body[:2000]}"
                ) from None
            assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
            if path == "topology":
                svg = driver.find_element(By.CSS_SELECTOR, "svg.emops-topology")
                assert svg.is_displayed()
                assert len(svg.find_elements(By.CSS_SELECTOR, "g.device")) == devices
            time.sleep(1.5)  # charts draw after the script is done
            shot = tmp_path / f"twin-dashboard-{path or 'overview'}.png"
            assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        quit_chromium(driver)
    if os.environ.get("EMOPS_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(tmp_path / "twin-dashboard-overview.png", README_SHOT)
