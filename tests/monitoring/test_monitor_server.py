"""`emops monitor up|status|down` with the real Prometheus and Alertmanager.

Both run on free loopback ports with their state in a temporary directory
(EMOPS_MONITOR_DIR), load the generated lab config, and are stopped by pid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from monitor_helpers import ROOT, free_port, tool
from monitor_rule_tests import ALL_ALERTS

EMOPS = [sys.executable, "-m", "control.emops_cli"]

pytestmark = pytest.mark.slow


def emops(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMOPS_MONITOR_DIR": str(state)}
    return subprocess.run(
        [*EMOPS, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def running(tmp_path):
    tool("prometheus")
    tool("prometheus-alertmanager")
    prom, am = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    state = tmp_path / "state"
    started = emops(
        state,
        "monitor",
        "up",
        "-i",
        "inventory/lab",
        "--prometheus-listen",
        prom,
        "--alertmanager-listen",
        am,
        "--no-collectors",
    )
    try:
        assert started.returncode == 0, started.stderr
        yield state, prom, am, started.stdout
    finally:
        emops(state, "monitor", "down")


def test_up_loads_every_rule_then_down_stops_exactly_those(running):
    state, prom, am, out = running
    assert f"prometheus: ready at http://{prom}" in out
    assert f"alertmanager: ready at http://{am}" in out
    pids = {
        name: int((state / f"{name}.pid").read_text()) for name in ("prometheus", "alertmanager")
    }
    assert all(_alive(pid) for pid in pids.values())

    rules = get(f"http://{prom}/api/v1/rules")["data"]["groups"]
    loaded = {r["name"] for g in rules for r in g["rules"] if r["type"] == "alerting"}
    assert loaded == set(ALL_ALERTS)
    assert all(r["health"] != "err" for g in rules for r in g["rules"])

    # Prometheus talks to the Alertmanager it started, and scrapes itself on its own port
    deadline = time.monotonic() + 20
    managers: list = []
    while time.monotonic() < deadline and not managers:
        managers = get(f"http://{prom}/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
        time.sleep(0.2)
    assert [m["url"] for m in managers] == [f"http://{am}/api/v2/alerts"]
    status = get(f"http://{am}/api/v2/status")
    assert "pager" in status["config"]["original"]

    again = emops(state, "monitor", "up", "-i", "inventory/lab")  # idempotent
    assert again.returncode == 0 and "already running" in again.stdout

    shown = emops(state, "monitor", "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "prometheus: ready" in shown.stdout and "alertmanager: ready" in shown.stdout
    for job in ("emops-snmp", "emops-app", "haproxy", "prometheus"):
        assert job in shown.stdout

    stopped = emops(state, "monitor", "down")
    assert stopped.returncode == 0
    assert f"prometheus: stopped (pid {pids['prometheus']})" in stopped.stdout
    assert f"alertmanager: stopped (pid {pids['alertmanager']})" in stopped.stdout
    assert not any(_alive(pid) for pid in pids.values())
    assert not (state / "prometheus.pid").exists()
    after = emops(state, "monitor", "status")
    assert after.returncode == 1 and "prometheus: not running" in after.stdout


def test_down_ignores_a_stale_pid_file(tmp_path):
    """A pid file naming some other process must not get that process killed."""
    state = tmp_path / "state"
    state.mkdir()
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        (state / "prometheus.pid").write_text(f"{stranger.pid}\n")
        done = emops(state, "monitor", "down")
        assert done.returncode == 0
        assert "prometheus: not running" in done.stdout
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_a_busy_port_is_a_one_line_error(tmp_path):
    import socket

    tool("prometheus")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = f"127.0.0.1:{sock.getsockname()[1]}"
        done = emops(
            tmp_path / "state",
            "monitor",
            "up",
            "--prometheus-listen",
            busy,
            "--alertmanager-listen",
            f"127.0.0.1:{free_port()}",
            "--no-collectors",
        )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "is not free" in done.stderr
    assert not (tmp_path / "state" / "prometheus.pid").exists()


def test_listen_must_be_loopback(tmp_path):
    done = emops(tmp_path / "state", "monitor", "up", "--prometheus-listen", "0.0.0.0:9090")
    assert done.returncode == 2 and "loopback" in done.stderr


def test_collectors_need_a_running_twin_of_the_lab_inventory(tmp_path, monkeypatch):
    """The collectors watch the twin: without one, say how to start it, start nothing."""
    tool("prometheus")
    monkeypatch.setenv("EMOPS_LAB_DIR", str(tmp_path / "no-twin"))
    done = emops(tmp_path / "state", "monitor", "up", "-i", "inventory/lab")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "emops lab up" in done.stderr and "--no-collectors" in done.stderr
    assert not list((tmp_path / "state").glob("*.pid"))
