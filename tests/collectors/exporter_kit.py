"""The SNMP exporter as a process, polling loopback devices: for the hostile-agent
suite and benchmarks/snmp_memory.py.

`write_inventory` writes the smallest inventory the exporter accepts: one HQ
site, every device a v2c `web` host at its own 127.0.0.0/8 address and port
(the model refuses two devices on one address). `start_exporter` runs
`python -m collectors.exporter` on it as `emops monitor up` does, and stops it
by PID; `Metrics` reads one /metrics scrape.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from collectors.snmp import agents
from lab.postgres_local import free_port  # a free loopback TCP port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Device:
    name: str
    host: str
    port: int
    community: str = agents.COMMUNITY


def write_inventory(root: Path, devices: list[Device]) -> Path:
    """An inventory directory polling `devices` over v2c; returns its path."""
    (root / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    emops = {"emops": {"network": "province", "address_space": ["127.0.0.0/8"]}}
    (root / "group_vars" / "all" / "emops.yml").write_text(yaml.safe_dump(emops))
    (root / "group_vars" / "hq.yml").write_text(yaml.safe_dump({"site": {"kind": "hq"}}))
    hosts = {
        d.name: {
            "ansible_host": d.host,
            "emops_platform": "linux",
            "snmp": {"version": "2c", "v2c_read_community": d.community, "port": d.port},
        }
        for d in devices
    }
    groups = {"hq": {"hosts": hosts}, "web_servers": {"hosts": dict.fromkeys(hosts)}}
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": groups}}))
    return root


@dataclass
class Metrics:
    """One /metrics scrape: `value(name, device=..., reason=...)`."""

    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> Metrics:
        samples = [
            (s.name, s.labels, s.value)
            for family in text_string_to_metric_families(text)
            for s in family.samples
        ]
        return cls(samples)

    def value(self, name: str, **labels: str) -> float | None:
        for sample, have, value in self.samples:
            if sample == name and all(have.get(k) == v for k, v in labels.items()):
                return value
        return None

    def errors(self, device: str) -> dict[str, float]:
        """emops_snmp_errors_total of `device` by reason."""
        return {
            have["reason"]: value
            for sample, have, value in self.samples
            if sample == "emops_snmp_errors_total" and have.get("device") == device
        }


@dataclass
class Exporter:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def scrape(self, timeout: float = 5.0) -> Metrics:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return Metrics.parse(response.read().decode())

    def rss_bytes(self) -> int:
        """Resident set size now (VmRSS)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def peak_rss_bytes(self) -> int:
        """The kernel's high-water mark of the resident set (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextmanager
def running_exporter(
    inventory: Path, log: Path, *options: str, ready_timeout: float = 30.0
) -> Iterator[Exporter]:
    """`python -m collectors.exporter` on `inventory` (traps off) until the block ends;
    ready once /metrics answers with every device's first poll."""
    port = free_port()
    cmd = [sys.executable, "-m", "collectors.exporter", "--inventory", str(inventory)]
    cmd += ["--listen", f"127.0.0.1:{port}", "--traps", "off", *options]
    env = dict(os.environ, PROMETHEUS_DISABLE_CREATED_SERIES="True")
    with log.open("wb") as sink:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    exporter = Exporter(process, port, log)
    try:
        _wait_ready(exporter, ready_timeout)
        yield exporter
    finally:
        exporter.stop()


def _wait_ready(exporter: Exporter, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exporter.process.poll() is not None:
            tail = exporter.log.read_text(errors="replace")[-800:]
            raise RuntimeError(f"the exporter exited ({exporter.process.returncode}): {tail}")
        try:
            if exporter.scrape(timeout=2).value("emops_snmp_up") is not None:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the exporter served no poll in {timeout} s")


@contextmanager
def hostile_agents(
    specs: list[str], *, rows: int = 40, delay: float = 0.1
) -> Iterator[dict[str, int]]:
    """tests/collectors/hostile_agent.py as a process serving `specs`
    (ADDRESS:PORT=MODE); yields spec -> bound port; stopped by PID."""
    script = Path(__file__).with_name("hostile_agent.py")
    cmd = [sys.executable, str(script), *specs, "--rows", str(rows), "--delay", str(delay)]
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"hostile agents exited ({process.wait()})")
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def hostile_address(i: int) -> str:
    """The loopback address of the i-th hostile device (127.0.1.x; snmpd keeps 127.0.0.1)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


@contextmanager
def exporter_among_hostile(
    root: Path, good: list[Device], modes: list[str], *options: str, rows: int = 40
) -> Iterator[tuple[Exporter, list[Device]]]:
    """The exporter polling the `good` devices and one hostile agent per entry of
    `modes` (device `hostile-<i>-<mode>`, in order), all on loopback; yields the
    exporter and the hostile devices; everything stopped by PID."""
    specs = [f"{hostile_address(i)}:0={mode}" for i, mode in enumerate(modes)]
    with hostile_agents(specs, rows=rows) as ports:
        hostile = [
            Device(f"hostile-{i}-{mode.replace('+', '-')}", hostile_address(i), ports[spec])
            for i, (mode, spec) in enumerate(zip(modes, specs, strict=True))
        ]
        inventory = write_inventory(root / "inventory", good + hostile)
        with running_exporter(inventory, root / "exporter.log", *options) as exporter:
            yield exporter, hostile
