"""Fixtures of the dashboard tests: a real Prometheus scraping known lab series, campaigns.

The Prometheus and its exporter are started once per session (about 35 s:
rate() windows must fill before values are steady) and stopped by PID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from campaignfixture import write_campaigns
from pagetest import LAB
from promfixture import Exporter, PrometheusServer, wait_steady
from testkit import require_tool

from dashboard.settings import ENV
from emops.topology import Topology, load_topology


@pytest.fixture(scope="session")
def lab_topo() -> Topology:
    return load_topology(LAB)


@pytest.fixture(scope="session")
def prometheus(lab_topo: Topology, tmp_path_factory) -> Iterator[PrometheusServer]:
    require_tool("prometheus")
    exporter = Exporter(lab_topo)
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), exporter.address)
    try:
        server.wait_ready()
        wait_steady(server.url, exporter)
        server.exporter = exporter
        yield server
    finally:
        server.stop()
        exporter.stop()


@pytest.fixture(scope="session")
def campaigns_dir(tmp_path_factory) -> Path:
    return write_campaigns(tmp_path_factory.mktemp("campaigns"))


@pytest.fixture
def dashboard_env(monkeypatch, prometheus: PrometheusServer, campaigns_dir: Path) -> dict:
    """Point the app (run in this process by AppTest) at the fixture Prometheus."""
    env = {
        ENV["inventory"]: str(LAB),
        ENV["prometheus"]: prometheus.url,
        ENV["campaigns"]: str(campaigns_dir),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
