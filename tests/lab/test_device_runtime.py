"""Device runtime on real namespaces: isolation, services, freeze, sshd, stop.

Builds two test namespaces (emops-t-dev1, emops-t-dev2) joined by a veth in
198.18.250.0/30, plus a management veth from the root namespace to dev1
(198.18.251.0/30); the lab directory is a tmp dir. Everything is removed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import missing, require_namespaces

from emops.errors import EmopsError
from lab import device, processes, services, sshd
from lab.paths import device_dir, keys_dir

pytestmark = [pytest.mark.root]

ROOT = Path(__file__).resolve().parents[2]
DEV1, DEV2 = "emops-t-dev1", "emops-t-dev2"
ADDR1, ADDR2 = "198.18.250.1", "198.18.250.2"
HOST_MGMT, DEV1_MGMT = "198.18.251.1", "198.18.251.2"
VETH_12, VETH_21, VETH_H, VETH_H1 = "emt-d1-d2", "emt-d2-d1", "emt-h-d1", "emt-d1-h"


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module", autouse=True)
def _namespaces() -> None:
    """Root and namespaces, before the module's `lab` builds anything (fails under CI)."""
    require_namespaces("the device runtime tests", "nsenter", "unshare", "findmnt")


def _purge() -> None:
    """Remove what this module creates, including leftovers of a crashed run."""
    for ns in (DEV1, DEV2):
        if Path(f"/run/netns/{ns}").exists():
            pids = _run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:  # test-owned namespace: only our own processes run there
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            _run("ip", "netns", "del", ns, check=False)
    _run("ip", "link", "del", "dev", VETH_H, check=False)


def _build() -> None:
    for ns in (DEV1, DEV2):
        _run("ip", "netns", "add", ns)
        _run("ip", "-n", ns, "link", "set", "dev", "lo", "up")
    _run(
        "ip", "link", "add", VETH_12, "netns", DEV1, "type", "veth", "peer", VETH_21, "netns", DEV2
    )
    _run("ip", "link", "add", VETH_H, "type", "veth", "peer", VETH_H1, "netns", DEV1)
    for ns, dev, addr in (
        (DEV1, VETH_12, f"{ADDR1}/30"),
        (DEV2, VETH_21, f"{ADDR2}/30"),
        (DEV1, VETH_H1, f"{DEV1_MGMT}/30"),
    ):
        _run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        _run("ip", "-n", ns, "link", "set", "dev", dev, "up")
    _run("ip", "addr", "add", f"{HOST_MGMT}/30", "dev", VETH_H)
    _run("ip", "link", "set", "dev", VETH_H, "up")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, float]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMOPS_LAB_DIR", str(tmp_path_factory.mktemp("lab")))
        _purge()
        try:
            _build()
            started = time.monotonic()
            device.start_device(DEV1, DEV1)
            device.start_device(DEV2, DEV2)
            timing = {"device_start_s": (time.monotonic() - started) / 2}
            print(f"device start: {timing['device_start_s'] * 1000:.0f} ms each")
            yield timing
        finally:
            for name in (DEV1, DEV2):
                try:
                    device.stop_device(name)
                except EmopsError as exc:
                    warnings.warn(f"stop_device({name}): {exc}", stacklevel=1)
            _purge()


def _inside(name: str, script: str) -> subprocess.CompletedProcess:
    return processes.exec_in_device(name, ["sh", "-c", script], capture_output=True, text=True)


def _wait(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_hostname_is_the_device_name(lab: dict) -> None:
    host = socket.gethostname()
    for name in (DEV1, DEV2):
        assert _inside(name, "hostname; cat /etc/hostname").stdout.split() == [name, name]
    assert socket.gethostname() == host


@pytest.mark.parametrize(
    "target,key", [("/etc", "etc"), ("/var/lib", "varlib"), ("/var/log", "varlog")]
)
def test_overlay_writes_stay_in_the_device(lab: dict, target: str, key: str) -> None:
    marker = f"{target}/emops-t-marker"
    assert _inside(DEV1, f"echo dev1 > {marker} && cat {marker}").stdout == "dev1\n"
    assert not Path(marker).exists(), "the write leaked to the host"
    assert _inside(DEV2, f"test -e {marker}").returncode == 1, "the write leaked to dev2"
    assert (device_dir(DEV1) / "overlay" / key / "upper" / "emops-t-marker").exists()
    assert _inside(DEV1, f"test -d {target}").returncode == 0  # the host's content shows through


def test_host_files_show_through_etc(lab: dict) -> None:
    assert _inside(DEV1, "cat /etc/os-release").stdout == Path("/etc/os-release").read_text()


def test_run_is_private(lab: dict) -> None:
    assert _inside(DEV1, "touch /run/emops-t-marker && test -d /run/sshd").returncode == 0
    assert not Path("/run/emops-t-marker").exists()
    assert _inside(DEV2, "test -e /run/emops-t-marker").returncode == 1
    assert (device_dir(DEV1) / "run" / "emops-t-marker").exists()


def test_start_is_idempotent_and_bad_input_is_clear(lab: dict) -> None:
    pid = processes.device_pid(DEV1)
    assert pid is not None
    assert device.start_device(DEV1, DEV1) == pid
    assert pid in processes.device_processes(DEV1)
    assert processes.device_pid("emops-t-nodev") is None
    with pytest.raises(EmopsError, match="not running"):
        processes.exec_in_device("emops-t-nodev", ["true"])
    with pytest.raises(EmopsError, match="not running"):
        services.start_service("emops-t-nodev", "x", ["true"])
    with pytest.raises(EmopsError, match="does not exist"):
        device.start_device("emops-t-nodev", "emops-t-nons")
    with pytest.raises(EmopsError, match="invalid device name"):
        device.start_device("bad name", DEV1)
    device.stop_device("emops-t-nodev")  # nothing runs: a no-op


def _http_ok() -> bool:
    code = f"import urllib.request; urllib.request.urlopen('http://{ADDR1}:8080/', timeout=2)"
    return (
        processes.exec_in_device(DEV2, [sys.executable, "-c", code], capture_output=True).returncode
        == 0
    )


def test_services_start_stop_kill_restart(lab: dict) -> None:
    argv = [sys.executable, "-m", "http.server", "--bind", ADDR1, "8080"]
    pid = services.start_service(DEV1, "web", argv)
    assert (device_dir(DEV1) / "services" / "web.json").exists()
    status = services.service_status(DEV1)["web"]
    assert (status["pid"], status["running"], status["argv"]) == (pid, True, argv)
    assert services.start_service(DEV1, "web", argv) == pid  # idempotent
    assert _wait(_http_ok), "dev2 cannot reach the web service on dev1 across the veth"

    services.stop_service(DEV1, "web")
    assert not services.service_status(DEV1)["web"]["running"]
    assert "web" in services.list_services(DEV1)  # registration kept
    pid2 = services.start_registered(DEV1, "web")
    assert pid2 != pid and services.service_status(DEV1)["web"]["running"]
    services.kill_service(DEV1, "web")
    assert not services.service_status(DEV1)["web"]["running"]
    assert pid2 not in processes.device_processes(DEV1)
    assert (device_dir(DEV1) / "log" / "web.log").read_text().count("start:") == 2

    with pytest.raises(EmopsError, match="no service 'nosuch'"):
        services.stop_service(DEV1, "nosuch")


def test_forking_service_pid_comes_from_its_pidfile(lab: dict) -> None:
    argv = ["sh", "-c", "sleep 300 & echo $! > /run/forker.pid"]
    pid = services.start_service(DEV1, "forker", argv, pidfile="/run/forker.pid")
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "sleep"
    assert services.service_status(DEV1)["forker"]["running"]
    services.stop_service(DEV1, "forker")
    assert pid not in processes.device_processes(DEV1)
    with pytest.raises(EmopsError, match="exited with status 3"):
        services.start_service(DEV1, "broken", ["sh", "-c", "echo boom; exit 3"])


def test_freeze_and_thaw_touch_only_the_device(lab: dict) -> None:
    services.start_service(DEV2, "sleeper", ["sleep", "300"])
    frozen = device.freeze_device(DEV2)
    try:
        assert frozen and set(frozen) == set(processes.device_processes(DEV2))
        assert {processes.proc_state(p) for p in frozen} == {"T"}
        assert "T" not in {processes.proc_state(p) for p in processes.device_processes(DEV1)}
        assert processes.proc_state(os.getpid()) != "T"
    finally:
        device.thaw_device(DEV2)
    assert "T" not in {processes.proc_state(p) for p in processes.device_processes(DEV2)}


def _host_listens_on_22() -> bool:
    out = _run("ss", "-Hltn", "sport = :22", check=False).stdout
    return any(line.split()[3] in ("0.0.0.0:22", "*:22", "[::]:22") for line in out.splitlines())


def _ensure_openssh() -> None:
    if Path(sshd.SSHD).exists():
        return
    before = _host_listens_on_22()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(
            ["apt-get", "install", "-y", "-q", "openssh-server"],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        missing(f"openssh-server missing and apt-get failed: {exc}")
    if result.returncode != 0 or not Path(sshd.SSHD).exists():
        missing(f"openssh-server missing and apt-get failed: {result.stderr[-300:]}")
    if not before and _host_listens_on_22():
        warnings.warn("installing openssh-server started a host sshd on :22", stacklevel=1)


def _ssh(address: str, command: str) -> subprocess.CompletedProcess:
    argv = [*sshd.ssh_command(address), command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_sshd_login_and_cli_over_ssh(lab: dict) -> None:
    _ensure_openssh()
    started = time.monotonic()
    pid = sshd.start_sshd(DEV1, DEV1_MGMT)
    assert _wait(lambda: _ssh(DEV1_MGMT, "hostname").returncode == 0, timeout=10)
    first_login = time.monotonic() - started
    print(f"sshd start to first login: {first_login * 1000:.0f} ms")
    assert _ssh(DEV1_MGMT, "hostname").stdout.strip() == DEV1
    assert sshd.start_sshd(DEV1, DEV1_MGMT) == pid  # idempotent
    assert (keys_dir() / "id_ed25519").stat().st_mode & 0o777 == 0o600
    assert services.service_status(DEV1)["sshd"]["running"]

    # the twin's systemctl, run by "Ansible" over SSH inside the device
    cli = f"cd {ROOT} && {sys.executable} -m lab.services {DEV1} start via-ssh -- sleep 300"
    result = _ssh(DEV1_MGMT, cli)
    assert result.returncode == 0, result.stderr
    assert services.service_status(DEV1)["via-ssh"]["pid"] == int(result.stdout)
    status = _ssh(DEV1_MGMT, f"cd {ROOT} && {sys.executable} -m lab.services {DEV1} status via-ssh")
    assert json.loads(status.stdout)["via-ssh"]["running"]
    bad = _ssh(DEV1_MGMT, f"cd {ROOT} && {sys.executable} -m lab.services {DEV1} stop nosuch")
    assert bad.returncode == 2 and "no service 'nosuch'" in bad.stderr

    # dev2 has no management link: reach its sshd from dev1 across their veth
    sshd.start_sshd(DEV2, ADDR2)
    hop = processes.exec_in_device(
        DEV1, [*sshd.ssh_command(ADDR2), "hostname"], capture_output=True, text=True
    )
    assert hop.stdout.strip() == DEV2, hop.stderr
    with pytest.raises(EmopsError, match="not an IP address"):
        sshd.start_sshd(DEV1, "mgmt")


def test_stop_device_leaves_nothing_and_touches_nothing_else(lab: dict) -> None:
    bystander = subprocess.Popen(["sleep", "300"])  # root netns: must survive
    try:
        survivors_dev1 = processes.device_processes(DEV1)
        device.stop_device(DEV2)
        assert processes.device_processes(DEV2) == []
        assert processes.device_pid(DEV2) is None
        assert processes.proc_state(bystander.pid) not in (None, "Z")
        assert set(survivors_dev1) <= set(processes.device_processes(DEV1))
        device.stop_device(DEV2)  # again: a no-op
        device.stop_device(DEV1)
        assert processes.device_processes(DEV1) == []
        assert not any(s["running"] for s in services.service_status(DEV1).values())
    finally:
        bystander.kill()
        bystander.wait(timeout=5)
