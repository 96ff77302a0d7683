"""Both exporters share one process lifecycle (collectors/serve.py): the same refusals,
word for word, and a port already taken is one line and exit 2, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB = str(ROOT / "inventory" / "lab")
EXPORTERS = {
    "snmp": ["collectors.exporter", "--traps", "off"],
    "app": ["collectors.app_exporter", "--probe-from", "host", "--collect-from", "host"],
}


def run(exporter: str, *args: str) -> subprocess.CompletedProcess[str]:
    module, *own = EXPORTERS[exporter]
    argv = [sys.executable, "-m", module, "--inventory", LAB, *own, *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another process (this test) is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("exporter", sorted(EXPORTERS))
def test_production_flag_on_a_lab_inventory_is_refused_alike(exporter: str) -> None:
    done = run(exporter, "--production")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: --production: given with a lab inventory (drop --production)"
    ]


@pytest.mark.parametrize("exporter", sorted(EXPORTERS))
def test_metrics_port_already_taken_is_one_line_and_exit_2(exporter: str, taken_port: int) -> None:
    done = run(exporter, "--listen", f"127.0.0.1:{taken_port}")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Address already in use" in errors[0], done.stderr
