"""When Prometheus is missing or goes away, pages show a banner, never a traceback."""

from __future__ import annotations

import time

import pytest
from pagetest import LAB, PAGES, metrics, open_page, texts
from promfixture import Forwarder, free_port

from dashboard.context import client
from dashboard.settings import ENV


@pytest.fixture
def no_prometheus(monkeypatch, tmp_path) -> str:
    """Settings pointing at a loopback port where nothing listens."""
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(ENV["inventory"], str(LAB))
    monkeypatch.setenv(ENV["prometheus"], url)
    monkeypatch.setenv(ENV["campaigns"], str(tmp_path / "no-campaigns-here"))
    return url


def test_every_page_says_how_to_start_monitoring(no_prometheus):
    for page in PAGES:
        at = open_page(page)
        assert not at.exception, (page, at.exception)
        errors = " ".join(texts(at.error))
        if page == "Campaigns":  # needs no Prometheus: says where campaign results go instead
            assert not errors
            assert "No campaign results" in " ".join(texts(at.info))
            continue
        assert "No monitoring data" in errors, page
        assert "emops monitor up" in errors, page
        assert no_prometheus in errors, page


def test_unknown_counts_are_not_shown_as_zero(no_prometheus):
    shown = metrics(open_page("Overview"))
    assert shown["Availability"] == "—"
    assert shown["Active alerts"] == "—"
    assert shown["Devices answering SNMP"] == "— / 42"
    assert metrics(open_page("Alerts"))["Firing"] == "—"


def test_prometheus_going_away_keeps_the_last_data_with_a_banner(
    prometheus, campaigns_dir, monkeypatch
):
    relay = Forwarder(prometheus.port)
    monkeypatch.setenv(ENV["inventory"], str(LAB))
    monkeypatch.setenv(ENV["prometheus"], relay.url)
    monkeypatch.setenv(ENV["campaigns"], str(campaigns_dir))
    shared = client(relay.url)  # the client every session of the app shares
    shared.ttl_s = 0.2  # so that the next run asks Prometheus again instead of its cache
    before = open_page("Overview")
    assert not before.warning and not before.error
    relay.cut()
    time.sleep(0.3)
    started = time.monotonic()
    after = open_page("Overview")
    took = time.monotonic() - started
    assert not after.exception
    warning = " ".join(texts(after.warning))
    assert "Prometheus is not answering" in warning
    assert "Showing the last data read" in warning
    assert metrics(after)["Availability"] == metrics(before)["Availability"] != "—"
    assert took < 10, "an outage must not make every query wait for its timeout"
