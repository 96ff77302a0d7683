"""Run the real Prometheus and Alertmanager, and emops' collectors and alert sink,
in the background, and stop exactly those.

`up` renders the config from the inventory into the state directory (with the
listen addresses it was given, so Prometheus scrapes itself and alerts the
Alertmanager it really started), starts every daemon detached with a pid file,
records their command lines, and waits, bounded, until each answers its ready
path. On the lab inventory the collectors watch the running twin: its size,
its management address for traps. `down` signals only the PIDs in those
files, and only if each still runs our binary with our arguments: a stale pid
file never kills a stranger. State lives under EMOPS_MONITOR_DIR
(default /var/lib/emops-monitor).

It sits in the top layer because it runs the parts below it: the collectors and
the alert sink by `python -m` (literal module names: tests/test_layers.py reads them
as imports), and the twin's size from lab/.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emops.errors import EmopsError
from emops.files import write_atomic
from emops.monitoring.generate import ALERTMANAGER_FILE, PROMETHEUS_FILE, generate_for
from emops.monitoring.hashmod import shard_port
from emops.monitoring.settings import settings_for
from emops.topology import Topology, cut_to_sites, load_topology
from lab.bringup import running_sites

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
DEFAULT_STATE_DIR = "/var/lib/emops-monitor"
STATE_FILE = "monitor.json"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def state_dir() -> Path:
    return Path(os.environ.get("EMOPS_MONITOR_DIR", DEFAULT_STATE_DIR))


@dataclass(frozen=True)
class Daemon:
    """One background process `up` starts: its command line and where its traces live."""

    name: str  # prometheus | alertmanager | alert-sink | snmp-collector[-K] | app-collector
    argv: tuple[str, ...]
    listen: str
    state: Path
    ready_path: str = "/-/ready"
    identity: tuple[str, ...] = ()  # arguments only our instance carries (see _pid_of)

    @property
    def binary(self) -> str:
        return self.argv[0]

    @property
    def pid_file(self) -> Path:
        return self.state / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state / f"{self.name}.log"

    def url(self, path: str) -> str:
        return f"http://{self.listen}{path}"

    def as_record(self) -> dict:
        return {
            "name": self.name,
            "argv": list(self.argv),
            "listen": self.listen,
            "ready_path": self.ready_path,
            "identity": list(self.identity),
        }

    @classmethod
    def from_record(cls, record: dict, state: Path) -> Daemon:
        return cls(
            record["name"],
            tuple(record["argv"]),
            record["listen"],
            state,
            record.get("ready_path", "/-/ready"),
            tuple(record.get("identity", ())),
        )


def server_daemons(state: Path, prometheus: str, alertmanager: str) -> list[Daemon]:
    """Alertmanager first: Prometheus should find it when it starts sending."""
    config = state / "config"
    am_config = f"--config.file={config / ALERTMANAGER_FILE}"
    prom_config = f"--config.file={config / PROMETHEUS_FILE}"
    return [
        Daemon(
            "alertmanager",
            (
                ALERTMANAGER_BIN,
                am_config,
                f"--storage.path={state / 'alertmanager-data'}",
                f"--web.listen-address={alertmanager}",
                "--cluster.listen-address=",  # no gossip: one Alertmanager, nothing to peer
            ),
            alertmanager,
            state,
            identity=(am_config,),
        ),
        Daemon(
            "prometheus",
            (
                PROMETHEUS_BIN,
                prom_config,
                f"--storage.tsdb.path={state / 'prometheus-data'}",
                f"--web.listen-address={prometheus}",
            ),
            prometheus,
            state,
            identity=(prom_config,),
        ),
    ]


def recorded_daemons(state: Path) -> list[Daemon]:
    """The daemons as the last `up` started them (the two servers at their default
    addresses if it never ran)."""
    saved = _read_state(state).get("daemons")
    if saved:
        return [Daemon.from_record(r, state) for r in saved]
    return server_daemons(state, "127.0.0.1:9090", "127.0.0.1:9093")


# --- up ---------------------------------------------------------------------------


def up(
    inventory: str,
    *,
    prometheus: str = "127.0.0.1:9090",
    alertmanager: str = "127.0.0.1:9093",
    shards: int = 1,
    remote_write: str | None = None,
    timeout: float = READY_TIMEOUT_S,
    collectors: bool = True,
    sites: int | None = None,
    production: bool = False,
) -> list[str]:
    """Start every daemon (or find them running); returns one line per daemon.

    With `collectors`, also the alert sink and emops' own SNMP and application
    collectors; on the lab inventory they watch the running twin (its size, its
    management network for traps), so a twin must be up.
    """
    state = state_dir()
    state.mkdir(parents=True, exist_ok=True)
    recorded = recorded_daemons(state)
    running = [d for d in recorded if _pid_of(d) is not None]
    if running and len(running) == len(recorded):
        return [f"{d.name}: already running at {d.listen} (pid {_pid_of(d)})" for d in running]
    if running:
        names = ", ".join(d.name for d in running)
        raise EmopsError.of("monitor", f"only {names} is running", "run `emops monitor down` first")
    topo, sites = _watched_topology(inventory, sites, collectors)
    servers = server_daemons(state, prometheus, alertmanager)
    extra = (
        collector_daemons(state, inventory, topo, sites, shards, production) if collectors else []
    )
    wanted = [*extra[:1], servers[0], *extra[1:], servers[1]]  # sink, AM, collectors, Prometheus
    _check_installed(servers)
    _check_free(wanted)
    if collectors:
        _check_trap_address(trap_listen(topo))
    generate_for(
        topo,
        state / "config",
        shards=shards,
        remote_write=remote_write,
        endpoints={"prometheus": prometheus, "alertmanager": alertmanager},
    )
    record = {"inventory": inventory, "sites": sites, "daemons": [d.as_record() for d in wanted]}
    write_atomic(state / STATE_FILE, json.dumps(record, indent=1) + "\n")
    started: list[tuple[Daemon, int]] = []
    try:
        for daemon in wanted:
            started.append((daemon, _start(daemon)))
        for daemon, pid in started:
            _wait_ready(daemon, pid, timeout)
    except BaseException:
        for daemon, pid in reversed(started):
            _kill(pid)
            daemon.pid_file.unlink(missing_ok=True)
        raise
    return [f"{d.name}: ready at http://{d.listen} (pid {_pid_of(d)})" for d in wanted]


def _watched_topology(
    inventory: str, sites: int | None, collectors: bool
) -> tuple[Topology, int | None]:
    """The model monitoring watches: on the lab inventory, the running twin's size."""
    topo = load_topology(inventory)
    if topo.is_lab and sites is None:
        sites = running_sites(inventory)
        if sites is None and collectors:
            raise EmopsError.of(
                "monitor",
                f"no twin of {inventory} is up for the collectors to watch",
                "run `emops lab up` first, or add --no-collectors",
            )
    return (topo if sites is None else cut_to_sites(topo, sites)), sites


def collector_daemons(
    state: Path,
    inventory: str,
    topo: Topology,
    sites: int | None,
    shards: int,
    production: bool,
) -> list[Daemon]:
    """The alert sink, one SNMP collector per shard (shard 0 takes the traps), the
    application collector; each a `python -m` of this installation."""
    endpoints = settings_for(topo).endpoints
    common = ["-i", os.path.abspath(inventory)]
    common += ["--sites", str(sites)] if sites is not None else []
    common += ["--production"] if production else []
    sink_listen = endpoints.alert_sink.removeprefix("http://").rstrip("/")
    sink_log = str(state / "alerts.jsonl")
    sink = ("-m", "emops.monitoring.alert_sink", "--listen", sink_listen, "--log", sink_log)
    found = [
        Daemon(
            "alert-sink",
            (sys.executable, *sink),
            sink_listen,
            state,
            identity=(sink_log,),
        )
    ]
    for shard in range(shards):
        listen = (
            f"{endpoints.snmp_collector_host}:{shard_port(shard, endpoints.snmp_collector_port)}"
        )
        events = str(state / f"traps-{shard}.jsonl")
        traps = trap_listen(topo) if shard == 0 else "off"
        argv = [sys.executable, "-m", "collectors.exporter", *common, "--listen", listen]
        argv += ["--shard", f"{shard}/{shards}", "--traps", traps, "--events", events]
        name = "snmp-collector" if shards == 1 else f"snmp-collector-{shard}"
        found.append(Daemon(name, tuple(argv), listen, state, "/metrics", (events,)))
    listen = endpoints.app_collector
    argv = [sys.executable, "-m", "collectors.app_exporter", *common, "--listen", listen]
    found.append(
        Daemon(
            "app-collector",
            tuple(argv),
            listen,
            state,
            "/metrics",
            ("collectors.app_exporter", listen),
        )
    )
    return found


def trap_listen(topo: Topology) -> str:
    """Where the devices send traps (the inventory's snmp.trap_receiver:trap_port)."""
    for device in topo.devices.values():
        snmp = device.vars.get("snmp") or {}
        if snmp.get("trap_receiver"):
            return f"{snmp['trap_receiver']}:{snmp.get('trap_port', 162)}"
    return "127.0.0.1:9162"


def _check_trap_address(listen: str) -> None:
    host, _, port = listen.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, int(port)))
        except OSError as exc:
            hint = (
                "bring the twin up first (`emops lab up`) or add --no-collectors"
                if exc.errno == errno.EADDRNOTAVAIL
                else "stop what receives traps there"
            )
            raise EmopsError.of(
                "snmp.trap_receiver", f"cannot receive traps at {listen} ({exc.strerror})", hint
            ) from None


def _check_installed(wanted: list[Daemon]) -> None:
    missing = [d.binary for d in wanted if not os.access(d.binary, os.X_OK)]
    if missing:
        raise EmopsError.of(
            "monitor",
            f"{', '.join(missing)} not installed",
            "apt-get install prometheus prometheus-alertmanager (or `make apt`)",
        )


def _check_free(wanted: list[Daemon]) -> None:
    for daemon in wanted:
        host, _, port = daemon.listen.rpartition(":")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, int(port)))
            except OSError as exc:
                raise EmopsError.of(
                    f"--{daemon.name}-listen",
                    f"{daemon.listen} is not free ({exc.strerror})",
                    "stop what listens there or pick another port",
                ) from None


def _start(daemon: Daemon) -> int:
    with open(daemon.log_file, "ab") as log:
        proc = subprocess.Popen(
            daemon.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=daemon.state,
            start_new_session=True,  # survives the CLI; its own process group
        )
    write_atomic(daemon.pid_file, f"{proc.pid}\n")
    return proc.pid


def _wait_ready(daemon: Daemon, pid: int, timeout: float) -> None:
    """Poll its ready path; the child's liveness, not its identity (it may not have exec'd yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise EmopsError.of(
                daemon.name,
                f"exited during start-up: {_log_tail(daemon)}",
                f"see {daemon.log_file}",
            )
        if _http_ok(daemon.url(daemon.ready_path)):
            return
        time.sleep(0.2)
    raise EmopsError.of(
        daemon.name, f"not ready after {timeout:g}s at {daemon.listen}", f"see {daemon.log_file}"
    )


def _log_tail(daemon: Daemon, lines: int = 3) -> str:
    try:
        text = daemon.log_file.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:]) or "(empty log)"


# --- down -------------------------------------------------------------------------


def down() -> list[str]:
    """Stop the daemons named in the pid files; returns one line per daemon."""
    state = state_dir()
    return [_stop(d) for d in reversed(recorded_daemons(state))]


def _stop(daemon: Daemon) -> str:
    pid = _pid_of(daemon)
    if pid is None:
        daemon.pid_file.unlink(missing_ok=True)
        return f"{daemon.name}: not running"
    _kill(pid)
    daemon.pid_file.unlink(missing_ok=True)
    return f"{daemon.name}: stopped (pid {pid})"


def _kill(pid: int) -> None:
    """SIGTERM, wait (bounded), then SIGKILL: this one process, nothing else."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)


# --- process identity -------------------------------------------------------------


def _pid_of(daemon: Daemon) -> int | None:
    """The pid in the pid file, if that process is alive and is this daemon."""
    try:
        pid = int(daemon.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    ours = bool(argv) and argv[0] == daemon.binary and all(a in argv for a in daemon.identity)
    return pid if ours else None


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone; our own children are reaped)."""
    with contextlib.suppress(ChildProcessError):  # not our child: its parent reaps it
        os.waitpid(pid, os.WNOHANG)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z"


# --- status -----------------------------------------------------------------------


@dataclass(frozen=True)
class TargetHealth:
    job: str
    instance: str
    health: str
    error: str


def status() -> tuple[bool, list[str], list[TargetHealth]]:
    """(every daemon ready, a line per daemon, Prometheus' view of its scrape targets)."""
    lines: list[str] = []
    healthy = True
    found = recorded_daemons(state_dir())
    for daemon in found:
        pid = _pid_of(daemon)
        ready = pid is not None and _http_ok(daemon.url(daemon.ready_path))
        healthy &= ready
        state = "ready" if ready else ("starting" if pid else "not running")
        where = f" at http://{daemon.listen} (pid {pid})" if pid else ""
        lines.append(f"{daemon.name}: {state}{where}")
    prometheus = next(d for d in found if d.name == "prometheus")
    targets = scrape_targets(prometheus.listen) if _pid_of(prometheus) else []
    return healthy, lines, targets


def scrape_targets(listen: str) -> list[TargetHealth]:
    data = _get_json(f"http://{listen}/api/v1/targets?state=active")
    found = [
        TargetHealth(
            t["labels"].get("job", ""),
            t["labels"].get("instance", ""),
            t.get("health", "unknown"),
            t.get("lastError", ""),
        )
        for t in (data or {}).get("data", {}).get("activeTargets", [])
    ]
    return sorted(found, key=lambda t: (t.job, t.instance))


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _read_state(state: Path) -> dict:
    try:
        return json.loads((state / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
