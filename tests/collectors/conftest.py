"""Collector test fixtures: real net-snmp agents, real PostgreSQL, test namespaces.

Everything runs on loopback or inside namespaces this package creates
(`emops-t-*`), and is stopped by PID or deleted by name at the end.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from exporter_kit import Device, Exporter, exporter_among_hostile
from hostile_agent import MODES
from marketing.conftest import (  # noqa: F401  the marketing tests' fixtures, reused
    Cluster,
    _install_postgres,
    cluster,
    primary_dsn,
    query,
    replica_dsn,
    start_service,
    unused_port,
)
from pg_pair import Standby, running_pair
from testkit import missing, require_namespaces, require_tool

from collectors.snmp import agents
from collectors.snmp.agents import AgentFarm

VRRP_NETNS = ("emops-t-vrrp1", "emops-t-vrrp2")


@pytest.fixture(scope="session")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentFarm]:
    """Three snmpd agents shared by the package's tests; stopped by PID at the end."""
    require_tool("snmpd")
    with agents.running_farm(tmp_path_factory.mktemp("agents"), 3) as running:
        yield running


@pytest.fixture(scope="session")
def snmptrap() -> str:
    """net-snmp's snmptrap, which the trap tests send with."""
    return require_tool("snmptrap")


HOSTILE_OPTIONS = ("--interval", "2s", "--timeout", "400ms", "--retries", "1")


@pytest.fixture(scope="module")
def hostile_exporter(
    farm: AgentFarm, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Exporter, dict[str, str]]]:
    """The exporter process polling a real snmpd ("good") and one hostile agent per
    mode every 2 s; yields it and mode -> device. Stopped by PID at the end."""
    good = Device("good", "127.0.0.1", farm.agents[0].port)
    root = tmp_path_factory.mktemp("hostile")
    with exporter_among_hostile(root, [good], list(MODES), *HOSTILE_OPTIONS) as (exporter, bad):
        yield exporter, {mode: d.name for mode, d in zip(MODES, bad, strict=True)}


@pytest.fixture(scope="session")
def pg_pair() -> Iterator[tuple[Cluster, Standby]]:
    """A primary and its streaming standby (pg_basebackup -R), stopped at the end."""
    reason = _install_postgres()
    if reason:
        missing(reason)
    with running_pair() as pair:
        yield pair


def _netns_delete(name: str) -> None:
    if Path("/run/netns", name).exists():
        subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


@pytest.fixture
def vrrp_netns() -> Iterator[tuple[str, str]]:
    """Two empty namespaces with a `vrrp0` interface up; deleted by name afterwards."""
    require_namespaces("the VRRP tests")
    for name in VRRP_NETNS:
        _netns_delete(name)  # left over from an interrupted run
    try:
        for name in VRRP_NETNS:
            for cmd in (
                ["ip", "netns", "add", name],
                ["ip", "-n", name, "link", "set", "lo", "up"],
                # no dummy driver in this kernel: a veth pair with both ends inside
                ["ip", "-n", name, "link", "add", "vrrp0", "type", "veth", "peer", "vrrp0p"],
                ["ip", "-n", name, "link", "set", "vrrp0p", "up"],  # carrier for vrrp0
                ["ip", "-n", name, "link", "set", "vrrp0", "up"],
            ):
                subprocess.run(cmd, check=True, capture_output=True)
        yield VRRP_NETNS
    finally:
        for name in VRRP_NETNS:
            _netns_delete(name)
