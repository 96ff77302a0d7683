"""A twin device's processes as /proc shows them: the anchor, entering it, signalling.

Every device is a network namespace held open by one *anchor* process (started
by lab.device); everything else in the device joins the anchor's namespaces with
`nsenter -t PID -m -u -i -n`. A process belongs to a device iff it is in the
device's network namespace. This module finds those processes (a recycled pid is
never taken for the anchor or a daemon: argv, environment, netns and start time
are checked), runs commands inside a device, and signals a pid only while it is
still in the namespace it was found in (pidfd + netns check).

It knows nothing of services or of how a device is started or stopped, so
lab.services and lab.device both build on it and neither imports the other back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from emops.errors import EmopsError
from lab.paths import device_dir

NETNS_DIR = Path("/run/netns")
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

NsId = tuple[int, int]  # (st_dev, st_ino) of a network namespace


def anchor_marker(name: str) -> str:
    """The anchor's argv[0]: how a live anchor is told from a recycled pid."""
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


def netns_file(name: str) -> Path:
    """Where start_device records the network namespace the device runs in."""
    return device_dir(name) / "netns"


def device_netns(name: str) -> str | None:
    """The network namespace name recorded when the device was started."""
    try:
        return netns_file(name).read_text().strip() or None
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
    if argv0 != anchor_marker(name).encode():
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


def log_tail(path: Path, lines: int = 10) -> str:
    """The last lines of a process's log on one line, for an error message."""
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
