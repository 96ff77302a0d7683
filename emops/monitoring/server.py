"""Run the real Prometheus and Alertmanager in the background, and stop exactly those.

`up` renders the config from the inventory into the state directory (with the
listen addresses it was given, so Prometheus scrapes itself and alerts the
Alertmanager it really started), starts both daemons detached with pid files,
and waits, bounded, until each answers /-/ready. `down` signals only the PIDs
in those files, and only if each still runs our binary with our config: a
stale pid file never kills a stranger. State lives under EMOPS_MONITOR_DIR
(default /var/lib/emops-monitor).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from emops.errors import EmopsError
from emops.files import write_atomic
from emops.monitoring.generate import ALERTMANAGER_FILE, PROMETHEUS_FILE, generate

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
    """One of the two processes: how to start it and where its traces live."""

    name: str  # prometheus | alertmanager
    binary: str
    listen: str
    state: Path

    @property
    def pid_file(self) -> Path:
        return self.state / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state / f"{self.name}.log"

    @property
    def config_dir(self) -> Path:
        return self.state / "config"

    def argv(self) -> list[str]:
        if self.name == "prometheus":
            return [
                self.binary,
                f"--config.file={self.config_dir / PROMETHEUS_FILE}",
                f"--storage.tsdb.path={self.state / 'prometheus-data'}",
                f"--web.listen-address={self.listen}",
            ]
        return [
            self.binary,
            f"--config.file={self.config_dir / ALERTMANAGER_FILE}",
            f"--storage.path={self.state / 'alertmanager-data'}",
            f"--web.listen-address={self.listen}",
            "--cluster.listen-address=",  # no gossip: one Alertmanager, nothing to peer with
        ]

    def url(self, path: str) -> str:
        return f"http://{self.listen}{path}"


def daemons(state: Path, prometheus: str, alertmanager: str) -> list[Daemon]:
    """Alertmanager first: Prometheus should find it when it starts sending."""
    return [
        Daemon("alertmanager", ALERTMANAGER_BIN, alertmanager, state),
        Daemon("prometheus", PROMETHEUS_BIN, prometheus, state),
    ]


def recorded_daemons(state: Path) -> list[Daemon]:
    """The daemons as the last `up` started them (default addresses if it never ran)."""
    saved = _read_state(state)
    return daemons(
        state,
        saved.get("prometheus", "127.0.0.1:9090"),
        saved.get("alertmanager", "127.0.0.1:9093"),
    )


# --- up ---------------------------------------------------------------------------


def up(
    inventory: str,
    *,
    prometheus: str = "127.0.0.1:9090",
    alertmanager: str = "127.0.0.1:9093",
    shards: int = 1,
    remote_write: str | None = None,
    timeout: float = READY_TIMEOUT_S,
) -> list[str]:
    """Start both daemons (or find them running); returns one line per daemon."""
    state = state_dir()
    state.mkdir(parents=True, exist_ok=True)
    running = [d for d in recorded_daemons(state) if _pid_of(d) is not None]
    if len(running) == 2:
        return [f"{d.name}: already running at {d.listen} (pid {_pid_of(d)})" for d in running]
    if running:
        names = ", ".join(d.name for d in running)
        raise EmopsError.of("monitor", f"only {names} is running", "run `emops monitor down` first")
    wanted = daemons(state, prometheus, alertmanager)
    _check_installed(wanted)
    _check_free(wanted)
    generate(
        inventory,
        state / "config",
        shards=shards,
        remote_write=remote_write,
        endpoints={"prometheus": prometheus, "alertmanager": alertmanager},
    )
    write_atomic(
        state / STATE_FILE,
        json.dumps({"prometheus": prometheus, "alertmanager": alertmanager, "inventory": inventory})
        + "\n",
    )
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
            daemon.argv(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=daemon.state,
            start_new_session=True,  # survives the CLI; its own process group
        )
    write_atomic(daemon.pid_file, f"{proc.pid}\n")
    return proc.pid


def _wait_ready(daemon: Daemon, pid: int, timeout: float) -> None:
    """Poll /-/ready; the child's liveness, not its identity (it may not have exec'd yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise EmopsError.of(
                daemon.name,
                f"exited during start-up: {_log_tail(daemon)}",
                f"see {daemon.log_file}",
            )
        if _http_ok(daemon.url("/-/ready")):
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
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    config = f"--config.file={daemon.config_dir}".encode()
    ours = argv and argv[0] == daemon.binary.encode() and any(a.startswith(config) for a in argv)
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
    """(both up, a line per daemon, Prometheus' view of its scrape targets)."""
    lines: list[str] = []
    healthy = True
    found = recorded_daemons(state_dir())
    for daemon in found:
        pid = _pid_of(daemon)
        ready = pid is not None and _http_ok(daemon.url("/-/ready"))
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
