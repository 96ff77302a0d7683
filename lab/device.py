"""Device runtime: a bare network namespace turned into a light container.

Each device gets, on top of its network namespace (made by lab.build), its own
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
is what freeze/stop act on, and they never signal anything else (pidfd + netns
check, so a recycled pid is never hit).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from emops.errors import EmopsError
from lab.paths import device_dir, lab_dir

NETNS_DIR = Path("/run/netns")
OVERLAYS = {"etc": "/etc", "varlib": "/var/lib", "varlog": "/var/log"}
RUN_DIRS = {"sshd": 0o755, "lock": 0o1777}  # created in the device's /run
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

NsId = tuple[int, int]  # (st_dev, st_ino) of a network namespace


def _marker(name: str) -> str:
    return f"emops-device:{name}"


def check_name(name: str, field: str = "device") -> None:
    """Device names become hostnames and directory names: keep them plain."""
    if not name or len(name) > 63 or not set(name) <= _NAME_CHARS or name[0] in "-.":
        raise EmopsError.of(
            field, f"invalid device name {name!r}", "use letters, digits, '-', '_', '.'"
        )


# --- /proc helpers -----------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def proc_state(pid: int) -> str | None:
    """One-letter state (R, S, T, Z...) of a process, None if it is gone."""
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def proc_starttime(pid: int) -> int | None:
    """Start time in clock ticks since boot: with the pid, names a process uniquely."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _netns_of(pid: int) -> NsId | None:
    try:
        st = os.stat(f"/proc/{pid}/ns/net")
    except OSError:
        return None  # gone, or a zombie (its namespaces are already released)
    return (st.st_dev, st.st_ino)


def _live(pid: int) -> bool:
    return proc_state(pid) not in (None, "Z", "X")


_CHILDREN: dict[int, subprocess.Popen] = {}  # detached children we must reap ourselves


def adopt(proc: subprocess.Popen) -> None:
    """Remember a detached child so that reap() can collect it once it exits."""
    _CHILDREN[proc.pid] = proc


def reap(pid: int) -> None:
    """Collect an adopted child's exit status, so no zombie of ours lingers.

    Only adopted children: reaping any other child would steal its owner's status.
    """
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        del _CHILDREN[pid]


def signal_in_ns(pid: int, sig: int, ns: NsId) -> bool:
    """Signal pid only if it is (still) in network namespace ns; True if sent.

    A pidfd pins the process first: if the pid is recycled after the check,
    the signal goes to the dead process (ESRCH), never to the newcomer.
    """
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if _netns_of(pid) != ns:
            return False
        signal.pidfd_send_signal(fd, sig)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait until every pid is dead (zombies count as dead); return survivors."""
    left = set(pids)
    deadline = time.monotonic() + timeout
    while True:
        for pid in list(left):
            reap(pid)
            if not _live(pid):
                left.discard(pid)
        if not left or time.monotonic() >= deadline:
            return sorted(left)
        time.sleep(0.02)


# --- device identity ---------------------------------------------------------


def _netns_file(name: str) -> Path:
    return device_dir(name) / "netns"


def device_netns(name: str) -> str | None:
    """The network namespace name recorded when the device was started."""
    try:
        return _netns_file(name).read_text().strip() or None
    except OSError:
        return None


def device_pid(name: str) -> int | None:
    """The anchor's pid if it is alive and really this device's anchor.

    A recycled pid is rejected: the anchor's argv[0] names the device, its
    environment names the device directory, and it sits in the device's netns.
    """
    try:
        pid = int((device_dir(name) / "anchor.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not _live(pid):
        return None
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    if argv0 != _marker(name).encode():
        return None
    if f"EMOPS_DEVICE_DIR={device_dir(name)}".encode() not in environ:
        return None
    netns = device_netns(name)
    if netns and (NETNS_DIR / netns).exists() and _ns_id_of_file(netns) != _netns_of(pid):
        return None
    return pid


def _ns_id_of_file(netns: str) -> NsId | None:
    try:
        st = os.stat(NETNS_DIR / netns)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def device_ns(name: str) -> NsId | None:
    """The device's network namespace: from /run/netns, else from a live anchor."""
    netns = device_netns(name)
    ns = _ns_id_of_file(netns) if netns else None
    if ns is None and (pid := device_pid(name)) is not None:
        ns = _netns_of(pid)
    return ns


def require_pid(name: str) -> int:
    """The anchor pid, or a clear error naming the device."""
    check_name(name)
    pid = device_pid(name)
    if pid is None:
        raise EmopsError.of(
            "device",
            f"device {name!r} is not running",
            "start it first (emops lab up, or lab.device.start_device)",
        )
    return pid


def device_path(name: str, path: str) -> Path:
    """A path as the device sees it (its /etc overlay, its /run), readable from the host."""
    return Path(f"/proc/{require_pid(name)}/root") / path.lstrip("/")


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
        f"exec -a {q(_marker(name))} sleep infinity",
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


def log_tail(path: Path, lines: int = 10) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


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
    _netns_file(name).write_text(netns + "\n")
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


# --- running things inside ---------------------------------------------------


def nsenter_prefix(name: str) -> list[str]:
    """argv prefix that runs a command inside the device's namespaces."""
    return ["nsenter", "-t", str(require_pid(name)), "-m", "-u", "-i", "-n", "--"]


def exec_in_device(name: str, argv: list[str], **kw: object) -> subprocess.CompletedProcess:
    """subprocess.run inside the device (default timeout 60 s; cwd becomes /)."""
    kw.setdefault("timeout", 60)
    return subprocess.run(nsenter_prefix(name) + list(argv), **kw)  # type: ignore[call-overload]


def popen_in_device(name: str, argv: list[str], **kw: object) -> subprocess.Popen:
    """subprocess.Popen inside the device; nsenter execs, so .pid is the command's pid."""
    return subprocess.Popen(nsenter_prefix(name) + list(argv), **kw)  # type: ignore[call-overload]


def processes_in_ns(ns: NsId) -> list[int]:
    """Every live process in network namespace ns (what `ip netns pids` prints)."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and _netns_of(int(entry.name)) == ns:
            pids.append(int(entry.name))
    return sorted(pids)


def device_processes(name: str) -> list[int]:
    """Every pid in the device's network namespace; [] if it has none."""
    check_name(name)
    ns = device_ns(name)
    return processes_in_ns(ns) if ns else []


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
    from lab import services  # services imports this module

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
