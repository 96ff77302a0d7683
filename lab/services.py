"""A tiny per-device service manager: the twin's stand-in for systemctl.

Devices in the twin have no systemd, yet the fault API must stop and restart
"the daemon" by name, and Ansible must be able to start one. Each service is a
registration in device_dir/services/NAME.json ({argv, env, pidfile, started_at,
pid, starttime}) plus a process started detached inside the device (own
session, stdin /dev/null, stdout+stderr appended to device_dir/log/NAME.log).
A service runs with a clean environment (PATH, LANG, HOME, EMOPS_DEVICE,
EMOPS_LAB_DIR, plus `env`), like a unit, not with its starter's environment.

Daemons that fork (`sshd` without -D, FRR with -d) pass `pidfile` (a path as the
device sees it); the real pid is read from it. Stopping signals the service's
process group members inside the device (the daemon and helpers it did not
detach), waits, and escalates to SIGKILL; the registration stays, so "daemon
start" re-runs the same argv.

Command line (for Ansible tasks over SSH inside a device, where sshd sets
EMOPS_LAB_DIR and EMOPS_DEVICE)::

    python -m lab.services DEVICE start NAME [--pidfile P] [--env K=V]... -- ARGV...
    python -m lab.services DEVICE start|stop|kill|restart NAME
    python -m lab.services DEVICE status [NAME]

`start` without ARGV re-runs the registered one; `status` prints JSON; bad input
exits 2 with one line per problem.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from emops.commandline import report_problems
from emops.errors import EmopsError
from lab import processes
from lab.paths import device_dir, lab_dir

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@")


def _check_service(name: str) -> None:
    if not name or not set(name) <= _NAME_CHARS or name[0] in "-.":
        raise EmopsError.of(
            "service", f"invalid service name {name!r}", "use letters, digits, '-_.@'"
        )


def _record_path(device: str, name: str) -> Path:
    _check_service(name)
    return device_dir(device) / "services" / f"{name}.json"


def _log_path(device: str, name: str) -> Path:
    return device_dir(device) / "log" / f"{name}.log"


def _load(device: str, name: str) -> dict:
    path = _record_path(device, name)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise EmopsError.of(
            "service",
            f"no service {name!r} on device {device!r}",
            f"registered: {', '.join(list_services(device)) or 'none'}",
        ) from None


def _save(device: str, record: dict) -> None:
    path = _record_path(device, record["name"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(path)


def _running_pid(device: str, record: dict) -> int | None:
    """The service's pid if that very process (pid + start time) is alive in the device."""
    pid, start = record.get("pid"), record.get("starttime")
    if not pid:
        return None
    processes.reap(pid)
    ns = processes.device_ns(device)
    if (
        ns is None
        or processes.proc_state(pid) in (None, "Z", "X")
        or processes.proc_starttime(pid) != start
    ):
        return None
    return pid if pid in processes.processes_in_ns(ns) else None


def list_services(device: str) -> list[str]:
    """Names of the device's registered services."""
    processes.check_name(device)
    folder = device_dir(device) / "services"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def service_status(device: str) -> dict[str, dict]:
    """name -> {pid, running, argv, pidfile, started_at} for every registered service."""
    out = {}
    for name in list_services(device):
        record = _load(device, name)
        pid = _running_pid(device, record)
        out[name] = {
            "pid": pid,
            "running": pid is not None,
            "argv": record["argv"],
            "pidfile": record.get("pidfile"),
            "started_at": record.get("started_at"),
        }
    return out


def _base_env(device: str, extra: dict[str, str] | None) -> dict[str, str]:
    env = {
        "PATH": processes.BASE_PATH,
        "LANG": "C.UTF-8",
        "HOME": "/root",
        "EMOPS_DEVICE": device,
        "EMOPS_LAB_DIR": str(lab_dir()),
    }
    return env | (extra or {})


def _read_pidfile(device: str, pidfile: str) -> int | None:
    try:
        pid = int(processes.device_path(device, pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if processes.proc_state(pid) not in (None, "Z", "X") else None


def _fail(device: str, name: str, what: str) -> EmopsError:
    log = _log_path(device, name)
    return EmopsError.of(
        "service", f"{name} on {device}: {what}", processes.log_tail(log) or str(log)
    )


def _launch(device: str, record: dict, timeout: float, settle: float) -> int:
    """Start the recorded argv inside the device; return the daemon's pid."""
    name, pidfile = record["name"], record.get("pidfile")
    if pidfile:
        processes.device_path(device, pidfile).unlink(missing_ok=True)
    log_path = _log_path(device, name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"--- {stamp} start: {' '.join(record['argv'])}\n".encode())
        log.flush()
        proc = processes.popen_in_device(
            device, record["argv"], stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=_base_env(device, record.get("env")),
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    processes.adopt(proc)
    deadline = time.monotonic() + (timeout if pidfile else settle)
    while time.monotonic() < deadline:
        if pidfile and (pid := _read_pidfile(device, pidfile)) is not None:
            break
        if proc.poll() not in (None, 0):
            raise _fail(device, name, f"exited with status {proc.returncode}")
        time.sleep(0.01)
    else:
        if pidfile:
            raise _fail(device, name, f"no live pid in {pidfile} after {timeout:g} s")
        pid = proc.pid
    record.update(pid=pid, starttime=processes.proc_starttime(pid), started_at=stamp)
    _save(device, record)
    return pid


def start_service(
    device: str,
    name: str,
    argv: list[str],
    env: dict[str, str] | None = None,
    pidfile: str | None = None,
    timeout: float = 10.0,
    settle: float = 0.1,
) -> int:
    """Register and start a daemon inside the device; return its pid.

    Idempotent: if the service already runs, its pid is returned unchanged.
    `settle` is how long a non-forking daemon is watched for an immediate failure.
    """
    processes.require_pid(device)
    if not argv:
        raise EmopsError.of("argv", f"service {name!r}: empty command", "give the daemon's argv")
    path = _record_path(device, name)
    if path.exists() and (pid := _running_pid(device, _load(device, name))) is not None:
        return pid
    record = {"name": name, "argv": list(argv), "env": env or {}, "pidfile": pidfile}
    record |= {"started_at": None, "pid": None, "starttime": None}
    _save(device, record)
    return _launch(device, record, timeout, settle)


def start_registered(device: str, name: str, timeout: float = 10.0) -> int:
    """Re-run a registered service (the fault API's "daemon start"); idempotent."""
    processes.require_pid(device)
    record = _load(device, name)
    if (pid := _running_pid(device, record)) is not None:
        return pid
    return _launch(device, record, timeout, settle=0.1)


def _group(pid: int, ns: processes.NsId) -> list[int]:
    """The pid plus members of its process group inside the device's netns."""
    members = [pid]
    for other in processes.processes_in_ns(ns):
        try:
            if other != pid and os.getpgid(other) == pid:
                members.append(other)
        except OSError:
            continue
    return members


def stop_service(device: str, name: str, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    """Signal the service, wait up to timeout, then SIGKILL; the registration stays."""
    record = _load(device, name)
    pid = _running_pid(device, record)
    ns = processes.device_ns(device)
    if pid is None or ns is None:
        return
    members = _group(pid, ns)
    for member in members:
        processes.signal_in_ns(member, sig, ns)
    left = processes.wait_gone(members, timeout)
    for member in left:
        processes.signal_in_ns(member, signal.SIGKILL, ns)
    left = processes.wait_gone(left, 5.0)
    record["stopped_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _save(device, record)
    if left:
        raise _fail(device, name, f"pids {left} survived SIGKILL")


def kill_service(device: str, name: str) -> None:
    """SIGKILL the service (a crash, for the fault API)."""
    stop_service(device, name, sig=signal.SIGKILL, timeout=5.0)


def restart_service(device: str, name: str, timeout: float = 10.0) -> int:
    """Stop, then start the registered argv again."""
    stop_service(device, name)
    return start_registered(device, name, timeout)


# --- command line ------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lab.services", description="The twin's stand-in for systemctl."
    )
    parser.add_argument("device")
    parser.add_argument("action", choices=["start", "stop", "kill", "restart", "status"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--pidfile", help="pid file (path inside the device) of a forking daemon")
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("argv", nargs="*", help="after --: the daemon's command line")
    return parser


def main(args: list[str] | None = None) -> int:
    ns = _parser().parse_args(args)
    try:
        if ns.action != "status" and not ns.name:
            raise EmopsError.of("name", f"{ns.action} needs a service name")
        if ns.action == "status":
            if ns.name:
                _load(ns.device, ns.name)  # unknown name: a clear error
            status = service_status(ns.device)
            print(json.dumps({ns.name: status[ns.name]} if ns.name else status, indent=1))
        elif ns.action == "start":
            if bad := [item for item in ns.env if "=" not in item]:
                raise EmopsError.of("--env", f"{bad[0]!r} is not K=V", "write --env NAME=VALUE")
            env = dict(item.split("=", 1) for item in ns.env)
            if ns.argv:
                pid = start_service(ns.device, ns.name, ns.argv, env or None, ns.pidfile)
            else:
                pid = start_registered(ns.device, ns.name)
            print(pid)
        elif ns.action == "restart":
            print(restart_service(ns.device, ns.name))
        elif ns.action == "stop":
            stop_service(ns.device, ns.name)
        else:
            kill_service(ns.device, ns.name)
    except EmopsError as exc:
        return report_problems(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
