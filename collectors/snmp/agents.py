"""Real net-snmp agents on loopback, for the tests and the benchmark.

Each agent is `snmpd -f` with its own config, persistent directory, pid file,
log and port under one temporary directory, answering v2c (a community) and
v3 (one authPriv SHA/AES user). They see the host's own interfaces. Only
loopback addresses are accepted, and only the processes started here are
ever stopped, by their PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path

from collectors.snmp import ber
from collectors.snmp.oids import SYS_UPTIME

COMMUNITY = "emops-test"
USER = "emops-monitor"
AUTH_PASSWORD = "auth-pass-123"
PRIV_PASSWORD = "priv-pass-456"

CONFIG = """\
rocommunity {community} 127.0.0.1
createUser {user} SHA "{auth}" AES "{priv}"
rouser {user} authpriv
dontLogTCPWrappersConnects yes
{extra}
"""


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Agent:
    """One running snmpd."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class AgentFarm:
    """Agents started together under one directory; `stop()` ends exactly them."""

    root: Path
    agents: list[Agent] = field(default_factory=list)

    def stop(self) -> None:
        for agent in self.agents:
            agent.stop()
        self.agents.clear()


def _answers(host: str, port: int, community: str, timeout: float) -> bool:
    message = ber.encode_getbulk(community.encode(), 1, [SYS_UPTIME], 1, 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(message, (host, port))
            sock.recvfrom(65535)
            return True
        except OSError:
            return False


def start_agent(
    directory: Path,
    port: int | None = None,
    host: str = "127.0.0.1",
    community: str = COMMUNITY,
    extra_config: str = "",
) -> Agent:
    """Start one snmpd in `directory` (created) and wait until it answers."""
    if not ip_address(host).is_loopback:
        raise ValueError(f"test agents listen on loopback only, not {host}")
    if shutil.which("snmpd") is None and not Path("/usr/sbin/snmpd").exists():
        raise FileNotFoundError("snmpd is not installed (apt-get install snmpd)")
    port = port or free_udp_port(host)
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "snmpd.conf"
    conf.write_text(
        CONFIG.format(
            community=community,
            user=USER,
            auth=AUTH_PASSWORD,
            priv=PRIV_PASSWORD,
            extra=extra_config,
        )
    )
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(directory / "persist"), MIBS="")
    snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
    cmd = [snmpd, "-f", "-Lf", str(directory / "snmpd.log"), "-C", "-c", str(conf)]
    cmd += ["-p", str(directory / "snmpd.pid"), f"udp:{host}:{port}"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Agent(port, directory, process, host)


def wait_ready(agents: list[Agent], community: str = COMMUNITY, timeout: float = 15.0) -> None:
    """Block until every agent answers a GETBULK, or raise naming the first that does not."""
    deadline = time.monotonic() + timeout
    waiting = list(agents)
    while waiting:
        agent = waiting[0]
        if agent.process.poll() is not None:
            log = (agent.directory / "snmpd.log").read_text(errors="replace")[-300:]
            raise RuntimeError(f"snmpd on port {agent.port} exited: {log}")
        if _answers(agent.host, agent.port, community, 0.2):
            waiting.pop(0)
        elif time.monotonic() > deadline:
            raise TimeoutError(f"snmpd on port {agent.port} did not answer in {timeout} s")


def start_farm(
    root: Path, count: int, community: str = COMMUNITY, extra_config: str = ""
) -> AgentFarm:
    """`count` agents on distinct loopback ports, ready when this returns; `extra_config`
    (snmpd.conf lines, e.g. `override`) for each."""
    farm = AgentFarm(root)
    ports: set[int] = set()
    try:
        for i in range(count):
            port = free_udp_port()
            while port in ports:
                port = free_udp_port()
            ports.add(port)
            directory = root / f"agent{i}"
            farm.agents.append(
                start_agent(directory, port, community=community, extra_config=extra_config)
            )
        wait_ready(farm.agents, community)
    except BaseException:
        farm.stop()
        raise
    return farm


@contextlib.contextmanager
def running_farm(root: Path, count: int, community: str = COMMUNITY) -> Iterator[AgentFarm]:
    farm = start_farm(root, count, community)
    try:
        yield farm
    finally:
        farm.stop()
