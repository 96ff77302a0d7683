"""A private FRR router in the twin's device runtime, reachable like vendor gear.

One namespace `emops-t-vnd1` (its own hostname, /etc, /run and sshd, as in
lab.device), FRR's zebra, ospfd and staticd run through lab.services with their
default paths (private per device), and an account `netops` whose login shell
is vtysh: SSH lands in an IOS-like CLI, so netmiko's cisco_ios driver and
Ansible drive it as they would a router. Management veth 198.18.252.0/30 from
the root namespace; a data veth pair 198.18.252.4/30 inside. Everything is
removed at the end, also after a crashed run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from testkit import require_namespaces

from lab import device, processes, services, sshd

ROOT = Path(__file__).resolve().parents[2]
NAME = "emops-t-vnd1"  # device and namespace
HOST_MGMT, DEV_MGMT = "198.18.252.1", "198.18.252.2"
VETH_HOST, VETH_MGMT, VETH_A, VETH_B = "emt-vnd1-h", "emt-vnd1-m", "emt-vnd1-a", "emt-vnd1-b"
DAEMONS = ("zebra", "ospfd", "staticd")
CLI_USER = "netops"

SETUP = f"""set -eu
sysctl -qw net.ipv4.ip_forward=1
install -d -o frr -g frr -m 0755 /run/frr
printf '! emops test router: per-daemon config files (not integrated)\\n' > /etc/frr/vtysh.conf
chown frr:frrvty /etc/frr/vtysh.conf && chmod 0640 /etc/frr/vtysh.conf
chgrp frrvty /etc/frr && chmod 0750 /etc/frr
rm -f /etc/frr/frr.conf
install -d -m 0755 /etc/emops
cat > /etc/emops/vtysh-shell <<'SH'
#!/bin/sh
# Login shell of the CLI account: SSH lands in FRR's vtysh, an IOS-like CLI.
if [ "${{1:-}}" = "-c" ]; then exec /usr/bin/vtysh -H /dev/null -c "$2"; fi
exec /usr/bin/vtysh -H /dev/null
SH
chmod 0755 /etc/emops/vtysh-shell
id {CLI_USER} >/dev/null 2>&1 || useradd -m -d /var/lib/{CLI_USER} -s /etc/emops/vtysh-shell \
    -G frrvty {CLI_USER}
usermod -p '*' {CLI_USER}
"""


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=60)


def _purge() -> None:
    """Remove what this fixture creates, including leftovers of a crashed run."""
    if Path(f"/run/netns/{NAME}").exists():
        for pid in _run("ip", "netns", "pids", NAME, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError):  # test-owned namespace
                os.kill(int(pid), signal.SIGKILL)
        _run("ip", "netns", "del", NAME, check=False)
    _run("ip", "link", "del", "dev", VETH_HOST, check=False)


def _cable() -> None:
    _run("ip", "netns", "add", NAME)
    _run("ip", "-n", NAME, "link", "set", "dev", "lo", "up")
    _run("ip", "link", "add", VETH_HOST, "type", "veth", "peer", VETH_MGMT, "netns", NAME)
    _run("ip", "-n", NAME, "link", "add", VETH_A, "type", "veth", "peer", VETH_B)
    _run("ip", "addr", "add", f"{HOST_MGMT}/30", "dev", VETH_HOST)
    _run("ip", "link", "set", "dev", VETH_HOST, "up")
    for dev, addr in ((VETH_MGMT, f"{DEV_MGMT}/30"), (VETH_A, "198.18.252.5/30")):
        _run("ip", "-n", NAME, "addr", "add", addr, "dev", dev)
    _run("ip", "-n", NAME, "addr", "add", "198.18.252.6/30", "dev", VETH_B)
    for dev in (VETH_MGMT, VETH_A, VETH_B):
        _run("ip", "-n", NAME, "link", "set", "dev", dev, "up")


@dataclass
class FrrRouter:
    """The test router: its name, management address and the lab's SSH key."""

    name: str
    address: str
    key_file: Path

    def vtysh(self, *commands: str) -> str:
        """Run vtysh inside the device directly (ground truth, not over SSH)."""
        argv = ["vtysh", "-H", "/dev/null"]
        for command in commands:
            argv += ["-c", command]
        result = processes.exec_in_device(self.name, argv, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def running(self) -> str:
        return self.vtysh("show running-config")

    def reset(self) -> None:
        """Back to the baseline: per-daemon config files holding only the
        hostname, daemons restarted (what a fresh router boots with)."""
        for daemon in DAEMONS:
            with contextlib.suppress(Exception):
                services.stop_service(self.name, daemon)
        script = "".join(
            f"printf 'hostname {self.name}\\n' > /etc/frr/{d}.conf; "
            f"chown frr:frr /etc/frr/{d}.conf; chmod 0640 /etc/frr/{d}.conf; "
            for d in DAEMONS
        )
        processes.exec_in_device(self.name, ["sh", "-ec", script], check=True)
        for daemon in DAEMONS:
            argv = [f"/usr/lib/frr/{daemon}", "-d", "-P", "0", "-f", f"/etc/frr/{daemon}.conf"]
            argv += ["-i", f"/run/frr/{daemon}.pid", "-u", "frr", "-g", "frr"]
            services.start_service(self.name, daemon, argv, pidfile=f"/run/frr/{daemon}.pid")
        deadline = time.monotonic() + 10
        while "staticd" not in self.vtysh("show daemons") and time.monotonic() < deadline:
            time.sleep(0.05)


def require_router() -> None:
    """What the test router runs on: root, namespaces, FRR, sshd, git (skip, or fail under CI)."""
    require_namespaces(
        "the test router", "nsenter", "unshare", "git", sshd.SSHD, "/usr/lib/frr/zebra"
    )


@contextlib.contextmanager
def private_router() -> Iterator[FrrRouter]:
    """Build the router (namespace, device runtime, FRR, CLI account, sshd) and
    remove every trace of it afterwards, even when the body raises."""
    # netops reads the lab's authorized_keys: every directory above it must be
    # traversable (pytest's tmp dirs are 0700), hence a 0755 lab dir in /tmp
    lab_dir = Path(tempfile.mkdtemp(prefix="emops-t-vnd-"))
    lab_dir.chmod(0o755)
    saved = os.environ.get("EMOPS_LAB_DIR")
    os.environ["EMOPS_LAB_DIR"] = str(lab_dir)
    _purge()
    try:
        _cable()
        device.start_device(NAME, NAME)
        processes.exec_in_device(NAME, ["sh", "-c", SETUP], check=True, capture_output=True)
        router = FrrRouter(NAME, DEV_MGMT, sshd.ensure_lab_keys())
        router.reset()
        sshd.start_sshd(NAME, DEV_MGMT)
        yield router
    finally:
        with contextlib.suppress(Exception):
            device.stop_device(NAME)
        _purge()
        shutil.rmtree(lab_dir, ignore_errors=True)
        if saved is None:
            os.environ.pop("EMOPS_LAB_DIR", None)
        else:
            os.environ["EMOPS_LAB_DIR"] = saved


PlaybookRunner = Callable[..., subprocess.CompletedProcess]


def run_playbook(
    playbook: str, inventory: dict | Path, workdir: Path, *args: str
) -> subprocess.CompletedProcess:
    """Run one of the repository's playbooks with ansible-playbook against an
    inventory: a path, or a dict written to workdir as YAML."""
    inv = inventory if isinstance(inventory, Path) else workdir / "inventory.yml"
    if isinstance(inventory, dict):
        inv.write_text(yaml.safe_dump(inventory, sort_keys=False))
    argv = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inv)]
    argv += [str(ROOT / "playbooks" / playbook), *args]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    env["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=no"  # no SSH master outlives the test router
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def recap(output: str, host: str) -> dict[str, int]:
    """The PLAY RECAP counters (ok, changed, failed, ...) of one host."""
    match = re.search(rf"^{re.escape(host)}\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, output
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}
