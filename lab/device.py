"""Device runtime: a bare network namespace turned into a light container.

Each device gets, on top of its network namespace (made by lab.bringup), its own
mount, UTS and IPC namespaces held open by one *anchor* process:

- hostname = the device name (also written to the device's /etc/hostname, /etc/hosts);
- /etc, /var/lib, /var/log: overlayfs over the host's, upper/work dirs in
  device_dir/overlay/, so Ansible can write /etc/frr/frr.conf on every device
  without touching the host or another device;
- /run: a bind mount of device_dir/run (pid files, sockets, /run/sshd);
- the lab directory stays the real one inside the device (re-bound if it lies
  under an overlaid path), so `python -m lab.services` works over SSH.

Every later process joins the anchor's namespaces with `nsenter -t PID -m -u -i -n`.
The IPC namespace (-i) is private too: SysV shared memory keys (PostgreSQL) and
POSIX message queues cannot collide between devices, as on separate machines.
The PID namespace is shared with the host on purpose: the lab (and the fault API)
sees and signals every daemon by its host pid. /tmp, /var/tmp, /root and /dev/shm
are shared with the host.

A process belongs to a device iff it is in the device's network namespace: that
is what freeze/stop act on, and they never signal anything else (lab.processes:
pidfd + netns check, so a recycled pid is never hit). Stopping a device stops its
services (lab.services) first, so each daemon ends as `daemon stop` would end it.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from pathlib import Path

from emops.errors import EmopsError
from lab import services
from lab.paths import device_dir, lab_dir
from lab.processes import (
    BASE_PATH,
    NETNS_DIR,
    adopt,
    anchor_marker,
    check_name,
    device_netns,
    device_ns,
    device_pid,
    log_tail,
    netns_file,
    proc_state,
    processes_in_ns,
    require_pid,
    signal_in_ns,
    wait_gone,
)

OVERLAYS = {"etc": "/etc", "varlib": "/var/lib", "varlog": "/var/log"}
RUN_DIRS = {"sshd": 0o755, "lock": 0o1777}  # created in the device's /run


# --- start -------------------------------------------------------------------


def _anchor_script(name: str) -> str:
    """The shell that sets up the namespaces, then becomes `sleep infinity`.

    Mount sources go through fd 3 (the device dir) opened before any mount, so
    they name the real directories even when the lab dir lies under /var/lib;
    `mount -c` stops mount(8) from canonicalising /proc/self/fd/3 back to a path.
    """
    ddir, lab = device_dir(name), lab_dir().resolve()
    q = shlex.quote
    lines = [
        "set -eu",
        f"echo {q(name)} > /proc/sys/kernel/hostname",
        f"exec 3< {q(str(ddir))} 4< {q(str(lab))}",
    ]
    for key, target in OVERLAYS.items():
        up, work = f"/proc/self/fd/3/overlay/{key}/upper", f"/proc/self/fd/3/overlay/{key}/work"
        lines.append(
            f"mount -t overlay overlay -o lowerdir={target},upperdir={up},workdir={work} {target}"
        )
    # The copied /run/netns/* mounts end up hidden under the new /run; they do not
    # keep those netns alive: `ip netns del` unlinks the file, which detaches
    # the mount in every mount namespace (measured).
    lines.append("mount -c --bind /proc/self/fd/3/run /run")
    if any(lab.is_relative_to(t) for t in [*OVERLAYS.values(), "/run"]):
        lines.append(f"mount -c --bind /proc/self/fd/4 {q(str(lab))}")
    lines += [
        "exec 3<&- 4<&-",
        f"echo {q(name)} > /etc/hostname",
        f"grep -qw {q(name)} /etc/hosts || printf '127.0.1.1\\t%s\\n' {q(name)} >> /etc/hosts",
        f"echo $$ > {q(str(ddir / 'anchor.pid.tmp'))}",
        f"mv -f {q(str(ddir / 'anchor.pid.tmp'))} {q(str(ddir / 'anchor.pid'))}",
        f"exec -a {q(anchor_marker(name))} sleep infinity",
    ]
    return "\n".join(lines) + "\n"


def _prepare_dirs(name: str) -> Path:
    ddir = device_dir(name)
    for key in OVERLAYS:
        for sub in ("upper", "work"):
            (ddir / "overlay" / key / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("services", "log", "ssh"):
        (ddir / sub).mkdir(parents=True, exist_ok=True)
    run = ddir / "run"
    run.mkdir(exist_ok=True)
    run.chmod(0o755)
    for sub, mode in RUN_DIRS.items():
        (run / sub).mkdir(exist_ok=True)
        (run / sub).chmod(mode)
    return ddir


def start_device(name: str, netns: str, timeout: float = 10.0) -> int:
    """Start the device's anchor in netns (idempotent) and return its pid.

    Returns once hostname and mounts are in place: the anchor writes anchor.pid
    only after its last mount.
    """
    check_name(name)
    check_name(netns, "netns")
    if (pid := device_pid(name)) is not None:
        if device_netns(name) != netns:
            raise EmopsError.of(
                "netns",
                f"device {name!r} already runs in netns {device_netns(name)!r}, not {netns!r}",
                "stop the device first",
            )
        return pid
    if not (NETNS_DIR / netns).exists():
        raise EmopsError.of("netns", f"network namespace {netns!r} does not exist", "create it")
    ddir = _prepare_dirs(name)
    (ddir / "anchor.pid").unlink(missing_ok=True)
    netns_file(name).write_text(netns + "\n")
    log_path = ddir / "log" / "anchor.log"
    argv = ["ip", "netns", "exec", netns, "unshare", "--mount", "--uts", "--ipc"]
    argv += ["--propagation", "private", "--", "bash", "-c", _anchor_script(name)]
    env = {"PATH": BASE_PATH, "EMOPS_DEVICE": name, "EMOPS_DEVICE_DIR": str(ddir)}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True, close_fds=True,
        )  # fmt: skip
    adopt(proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (pid := device_pid(name)) is not None:
            return pid
        if proc.poll() is not None:
            raise EmopsError.of(
                "device",
                f"device {name!r} failed to start (exit {proc.returncode})",
                log_tail(log_path) or f"see {log_path}",
            )
        time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=5)
    raise EmopsError.of(
        "device", f"device {name!r} did not start within {timeout:g} s", f"see {log_path}"
    )


# --- freeze / stop -----------------------------------------------------------


def _signal_all(name: str, sig: int, rounds: int = 5) -> list[int]:
    """Signal every process of the device, repeating to catch fresh forks."""
    ns = device_ns(name)
    if ns is None:
        return []
    done: set[int] = set()
    for _ in range(rounds):
        new = [p for p in processes_in_ns(ns) if p not in done]
        if not new:
            break
        done.update(p for p in new if signal_in_ns(p, sig, ns))
    return sorted(done)


def freeze_device(name: str, timeout: float = 2.0) -> list[int]:
    """SIGSTOP every process of the device ("device down"); returns the pids.

    Frozen rather than killed, so thaw restores every daemon exactly as it was.
    """
    require_pid(name)
    pids = _signal_all(name, signal.SIGSTOP)
    # SIGSTOP lands asynchronously (a running process stops a moment later):
    # return only once all are stopped, so the fault's timestamp is true.
    deadline = time.monotonic() + timeout
    while any(proc_state(p) not in ("T", "Z", "X", None) for p in pids):
        if time.monotonic() > deadline:
            raise EmopsError.of("device", f"device {name!r}: not all processes stopped")
        time.sleep(0.005)
    return pids


def thaw_device(name: str) -> list[int]:
    """SIGCONT every process of the device ("device up")."""
    require_pid(name)
    return _signal_all(name, signal.SIGCONT)


def stop_device(name: str, timeout: float = 5.0) -> None:
    """Stop services, then every process in the device's netns, then the anchor.

    Safe after a crash or when nothing runs; signals only pids in that netns.
    Leaves device_dir in place for the caller to delete.
    """
    check_name(name)
    ns = device_ns(name)
    if ns is None:
        return
    _signal_all(name, signal.SIGCONT)  # a frozen process would hold SIGTERM pending
    for svc in services.list_services(name):
        services.stop_service(name, svc, timeout=timeout)
    anchor = device_pid(name)
    others = [p for p in processes_in_ns(ns) if p != anchor]
    for pid in others:
        signal_in_ns(pid, signal.SIGTERM, ns)
    left = wait_gone(others, timeout)
    for pid in [*left, *processes_in_ns(ns)]:
        signal_in_ns(pid, signal.SIGKILL, ns)
    left = wait_gone(processes_in_ns(ns) + ([anchor] if anchor else []), timeout)
    (device_dir(name) / "anchor.pid").unlink(missing_ok=True)
    if left:
        raise EmopsError.of(
            "device", f"device {name!r}: processes {left} survived SIGKILL", "check `ps -o stat`"
        )
