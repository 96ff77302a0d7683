"""SSH into twin devices: one lab key pair, one key-only sshd per device.

Ansible, netmiko and the tests reach a device the way they reach real gear: by
SSH to its management address. Each device's sshd runs as the registered
service "sshd" (so the fault API can stop it), with its own host key, config
and pid file, listening only on the management address. The lab's public key
is the only credential, for every account (the file is given by absolute path).
StrictModes is off because the lab dir may sit under a world-writable /tmp.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

from emops.errors import EmopsError
from lab import processes, services
from lab.paths import device_dir, keys_dir, lab_dir

SSHD = "/usr/sbin/sshd"
SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "LogLevel=ERROR",
    "-o", "IdentitiesOnly=yes",
    "-o", "ConnectTimeout=5",
]  # fmt: skip


def _keygen(path: Path, comment: str) -> None:
    """Generate an ed25519 key pair once; written aside then renamed, so never half."""
    if path.exists() and path.with_suffix(".pub").exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(tmp)],
        check=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    tmp.chmod(0o600)
    os.replace(f"{tmp}.pub", path.with_suffix(".pub"))
    os.replace(tmp, path)


def ensure_lab_keys() -> Path:
    """The lab's SSH client private key (ed25519, 0600), generated once per lab."""
    folder = keys_dir()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    key = folder / "id_ed25519"
    _keygen(key, "emops-lab")
    return key


def ssh_command(device_address: str, user: str = "root") -> list[str]:
    """ssh argv (lab key, no host key checks, batch mode) ending with user@address."""
    return ["ssh", "-i", str(ensure_lab_keys()), *SSH_OPTIONS, f"{user}@{device_address}"]


def _q(text: str) -> str:
    return f'"{text}"'


def _config(device: str, address: str) -> str:
    ssh = device_dir(device) / "ssh"
    return "\n".join(
        [
            f"# sshd for lab device {device}; written by lab.sshd on every start",
            f"ListenAddress {address}",
            "Port 22",
            f"HostKey {_q(str(ssh / 'ssh_host_ed25519_key'))}",
            "PidFile /run/sshd.pid",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            f"AuthorizedKeysFile {_q(str(ssh / 'authorized_keys'))}",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "Subsystem sftp internal-sftp",
            f"SetEnv {_q('EMOPS_DEVICE=' + device)} {_q(f'EMOPS_LAB_DIR={lab_dir()}')}",
            "",
        ]
    )


def _unlock_root(device: str) -> None:
    """With UsePAM no, sshd refuses a locked account ('!' in shadow): unlock it in
    the device's own /etc overlay, never on the host."""
    try:
        shadow = processes.device_path(device, "/etc/shadow").read_text()
    except OSError:
        return
    for line in shadow.splitlines():
        fields = line.split(":")
        if fields[0] == "root" and fields[1].startswith("!"):
            processes.exec_in_device(device, ["usermod", "-p", "*", "root"], check=True, timeout=30)


def _listening(pid: int, address: str, port: int = 22) -> bool:
    """Is a TCP socket listening on address:port in the netns of pid?"""
    want = ipaddress.ip_address(address)
    table = "tcp6" if want.version == 6 else "tcp"
    try:
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        local, state = fields[1], fields[3]
        host, _, hexport = local.partition(":")
        raw = bytes.fromhex(host)
        if sys.byteorder == "little":  # each 32-bit word is in host byte order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
        bound = ipaddress.ip_address(raw)
        if state == "0A" and int(hexport, 16) == port and bound in (want, type(want)(0)):
            return True
    return False


def start_sshd(device: str, listen_address: str, timeout: float = 10.0) -> int:
    """Start (or keep) the device's sshd on listen_address:22; return its pid.

    Returns once the port listens. A changed address restarts sshd.
    """
    anchor = processes.require_pid(device)
    try:
        ipaddress.ip_address(listen_address)
    except ValueError:
        raise EmopsError.of(
            "listen_address", f"{listen_address!r} is not an IP address", "give the mgmt address"
        ) from None
    if not Path(SSHD).exists():
        raise EmopsError.of("sshd", f"{SSHD} is missing", "apt-get install openssh-server")
    lab_key = ensure_lab_keys()
    ssh = device_dir(device) / "ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    # 0755/0644: sshd reads authorized_keys as the logging-in user, and accounts other
    # than root (a vtysh CLI account) must read it too; it holds only a public key.
    ssh.chmod(0o755)
    _keygen(ssh / "ssh_host_ed25519_key", f"root@{device}")
    auth = ssh / "authorized_keys"
    auth.write_text(lab_key.with_suffix(".pub").read_text())
    auth.chmod(0o644)
    config, text = ssh / "sshd_config", _config(device, listen_address)
    changed = not config.exists() or config.read_text() != text
    config.write_text(text)
    _unlock_root(device)
    if changed and "sshd" in services.list_services(device):
        services.stop_service(device, "sshd")
    pid = services.start_service(device, "sshd", [SSHD, "-D", "-f", str(config), "-e"])
    deadline = time.monotonic() + timeout
    while not _listening(anchor, listen_address):
        if not services.service_status(device)["sshd"]["running"]:
            raise EmopsError.of(
                "sshd",
                f"sshd on {device} exited",
                processes.log_tail(device_dir(device) / "log" / "sshd.log"),
            )
        if time.monotonic() > deadline:
            raise EmopsError.of(
                "sshd", f"sshd on {device} not listening on {listen_address}:22 in {timeout:g} s"
            )
        time.sleep(0.01)
    return pid
