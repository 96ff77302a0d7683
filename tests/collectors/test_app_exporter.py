"""The application exporter's CLI: refusals, printed config, and serve + SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collectors.app_exporter import main

ROOT = Path(__file__).resolve().parents[2]
LAB = str(ROOT / "inventory" / "lab")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--listen", "0.0.0.0:9611"], "outside 127.0.0.0/8"),
        (["--production"], "lab inventory"),
        (["--probe-from", "nosuch"], "unknown device"),
        (["--collect-from", "nosuch"], "unknown device"),
        (["--probe-from", "anping-client,host", "--probe-from", "hq-web1"], "one per site"),
        (["--interval", "soon"], "--interval"),
    ],
)
def test_refusals(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--inventory", LAB, "--print-config", *argv]) == 2
    assert message in capsys.readouterr().err


def test_print_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--inventory", LAB, "--print-config"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["probe_from"] == ["anping-client"]  # the first municipal client
    assert config["collect_from"] == "self" and config["vrrp_source"] == "netns"
    assert config["postgres"]["hq-db1"]["password"] == "<redacted>"
    assert main(["--inventory", LAB, "--print-config", "--probe-from", "clients"]) == 0
    assert len(json.loads(capsys.readouterr().out)["probe_from"]) == 12


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_serve_reports_unreachable_targets_then_stops(unused_port: int) -> None:
    """From this process the lab's data addresses are unroutable: every target is reported
    down with that reason (nothing is sent), the exporter keeps serving, SIGTERM stops it."""
    argv = [sys.executable, "-m", "collectors.app_exporter", "--inventory", LAB]
    argv += ["--listen", f"127.0.0.1:{unused_port}", "--interval", "1s"]
    argv += ["--probe-from", "host", "--collect-from", "host", "--vrrp", "off"]
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        samples: dict = {}
        deadline = time.monotonic() + 20
        up = ("emops_collector_up", (("collector", "postgres"), ("target", "hq-db1")))
        while up not in samples and time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                samples = scrape(unused_port)
            except OSError:
                continue
        assert samples[up] == 0
        vip = (("service", "marketing"), ("site", "hq"), ("target", "vip"))
        assert samples[("emops_probe_success", vip)] == 0
        assert samples[("emops_postgres_up", (("device", "hq-db1"),))] == 0
        reason = (("collector", "marketing"), ("reason", "unroutable"), ("target", "hq-app1"))
        assert samples[("emops_collector_errors_total", reason)] >= 1
        assert samples[("emops_collector_up", (("collector", "probe"), ("target", "host")))] == 1
    finally:
        proc.send_signal(signal.SIGTERM)  # our own child, by its pid
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
