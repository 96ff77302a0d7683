"""playbooks/backup.yml against the test router, read two ways: as an FRR
router (vtysh over SSH as root) and as a cisco_ios device (netmiko, the CLI
account). One commit for the first run, none for an unchanged re-run, one with
the diff after a config change."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .twin_router import CLI_USER, FrrRouter, PlaybookRunner, recap

pytestmark = [pytest.mark.root, pytest.mark.slow]

SSH_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"


def _inventory(router: FrrRouter) -> dict:
    frr = {
        "ansible_host": router.address,
        "emops_platform": "frr",
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(router.key_file),
        "ansible_ssh_common_args": SSH_ARGS,
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    cli = {
        "ansible_host": router.address,
        "emops_platform": "cisco_ios",
        "emops_cli_user": CLI_USER,
        "emops_cli_key_file": str(router.key_file),
    }
    return {"all": {"hosts": {router.name: frr, f"{router.name}-cli": cli}}}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def test_backup_commits_once_per_change(
    frr_router: FrrRouter, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    frr_router.reset()
    repo = tmp_path / "backups"
    args = ("-e", f"emops_backup_repo={repo}")

    first = playbook("backup.yml", _inventory(frr_router), *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    assert sorted(_git(repo, "ls-files").split()) == [
        f"{frr_router.name}-cli.cfg",
        f"{frr_router.name}.cfg",
    ]
    for name in (frr_router.name, f"{frr_router.name}-cli"):
        assert f"hostname {frr_router.name}" in (repo / f"{name}.cfg").read_text()
    assert recap(first.stdout, frr_router.name)["failed"] == 0

    second = playbook("backup.yml", _inventory(frr_router), *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "1"
    assert recap(second.stdout, f"{frr_router.name}-cli")["changed"] == 0

    frr_router.vtysh("configure terminal", "ip route 198.18.252.64/26 Null0")
    third = playbook("backup.yml", _inventory(frr_router), *args)
    assert third.returncode == 0, third.stdout + third.stderr
    assert _git(repo, "rev-list", "--count", "HEAD").strip() == "2"
    patch = _git(repo, "show", "HEAD")
    assert patch.count("+ip route 198.18.252.64/26 Null0") == 2  # both ways of reading it
    assert f"backup: {frr_router.name}, {frr_router.name}-cli" in patch


def test_unreadable_devices_keep_their_backup_and_are_named(
    frr_router: FrrRouter, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    inventory = _inventory(frr_router)
    hosts = inventory["all"]["hosts"]
    hosts["ghost-frr"] = {**hosts[frr_router.name], "ansible_port": 2222}  # nothing listens
    hosts["ghost-cli"] = {**hosts[f"{frr_router.name}-cli"], "emops_cli_port": 2222}
    repo = tmp_path / "backups"
    result = playbook("backup.yml", inventory, "-e", f"emops_backup_repo={repo}")
    assert result.returncode == 0, result.stdout + result.stderr
    message = _git(repo, "log", "-1", "--format=%B")
    assert "Not read, previous backup kept: ghost-cli, ghost-frr" in message
    assert sorted(_git(repo, "ls-files").split()) == [
        f"{frr_router.name}-cli.cfg",
        f"{frr_router.name}.cfg",
    ]
