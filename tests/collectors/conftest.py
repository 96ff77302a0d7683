"""Real net-snmp agents on loopback for the collector tests (stopped by PID)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.snmp import agents
from collectors.snmp.agents import AgentFarm


@pytest.fixture(scope="session")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentFarm]:
    """Three snmpd agents shared by the package's tests; stopped by PID at the end."""
    if shutil.which("snmpd") is None and not Path("/usr/sbin/snmpd").exists():
        pytest.skip("snmpd not installed (make apt)")
    with agents.running_farm(tmp_path_factory.mktemp("agents"), 3) as running:
        yield running
