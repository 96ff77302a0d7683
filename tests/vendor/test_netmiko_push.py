"""The netmiko push path, end to end: a real `ansible-playbook` run of
playbooks/vendor-push.yml against an FRR router reached over SSH as a cisco_ios
device (backup, push, verify, idempotence, rollback, check mode, masking)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from vaultkit import province_with_vault

from emops.secrets import Decryptor
from emops.topology import load_topology

from .twin_router import CLI_USER, FrrRouter, PlaybookRunner, recap

pytestmark = [pytest.mark.root, pytest.mark.slow]

SECRET = "s3cr3t-4f1d"  # stands in for a vault value that appears in a config
INTENT = f"""! emops test intent: FRR's vtysh speaks the cisco_ios dialect
ip route 198.18.252.128/25 Null0
!
interface emt-vnd1-a
 description emops data link {SECRET}
 ip ospf cost 10
!
router ospf
 ospf router-id 198.18.252.5
 network 198.18.252.4/30 area 0.0.0.0
!
"""
BAD_TAIL = "interface emt-vnd1-b\n description half pushed\n frobnicate 3\n"


def _inventory(router: FrrRouter, config: Path) -> dict:
    host = {
        "ansible_host": router.address,
        "emops_platform": "cisco_ios",
        "emops_cli_user": CLI_USER,
        "emops_cli_key_file": str(router.key_file),
        "emops_config_file": str(config),
        "vault_test_secret": SECRET,  # masked in every output, as vault values are
    }
    return {"all": {"hosts": {router.name: host}}}


def _push(run: PlaybookRunner, router: FrrRouter, tmp_path: Path, intent: str, *args: str):
    config = tmp_path / "intent.cfg"
    config.write_text(intent)
    pushes = tmp_path / "pushes"
    started = time.monotonic()
    result = run(
        "vendor-push.yml", _inventory(router, config), "-e", f"emops_push_dir={pushes}", *args
    )
    wall = time.monotonic() - started
    report_path = pushes / f"{router.name}.last.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return result, recap(result.stdout, router.name), report, wall


def test_push_backs_up_verifies_and_is_idempotent(
    frr_router: FrrRouter, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    frr_router.reset()
    baseline = frr_router.running()
    result, recap, report, wall = _push(playbook, frr_router, tmp_path, INTENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert recap["changed"] == 1 and recap["failed"] == 0
    print(f"push playbook {wall:.2f} s; module stages {report['timings']}")

    backup = Path(report["backup_path"])
    assert backup.parent == tmp_path / "pushes" and backup.name.startswith(frr_router.name)
    assert "hostname emops-t-vnd1" in backup.read_text()
    assert "router ospf" not in backup.read_text() and "router ospf" not in baseline

    running = frr_router.running()
    for line in ("ip route 198.18.252.128/25 Null0", " ip ospf cost 10", "router ospf"):
        assert line in running.splitlines()
    assert " network 198.18.252.4/30 area 0.0.0.0" in running.splitlines()
    assert SECRET not in json.dumps(report), "a vault value leaked into the push report"

    again, recap2, report2, wall2 = _push(playbook, frr_router, tmp_path, INTENT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert recap2["changed"] == 0 and report2["commands"] == []
    assert frr_router.running() == running
    print(f"idempotent re-run {wall2:.2f} s; module stages {report2['timings']}")


def test_rejected_line_rolls_back_to_the_backup(
    frr_router: FrrRouter, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    frr_router.reset()
    before = frr_router.running()
    result, recap, report, _ = _push(playbook, frr_router, tmp_path, INTENT + BAD_TAIL)
    assert result.returncode != 0 and recap["failed"] == 1
    assert "frobnicate" in report["msg"] and "rolled back" in report["msg"]
    assert report["rolled_back"] is True and report["rollback_commands"]
    assert frr_router.running() == before
    print(f"rollback {report['timings']['rollback']:.3f} s; commands {report['rollback_commands']}")


def test_check_mode_reports_the_diff_and_changes_nothing(
    frr_router: FrrRouter, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    frr_router.reset()
    before = frr_router.running()
    result, recap, report, _ = _push(playbook, frr_router, tmp_path, INTENT, "--check", "--diff")
    assert result.returncode == 0, result.stdout + result.stderr
    assert recap["changed"] == 1
    assert "+ip route 198.18.252.128/25 Null0" in result.stdout
    assert SECRET not in result.stdout and "********" in result.stdout
    assert report["backup_path"] is None
    assert not list((tmp_path / "pushes").glob("*.cfg"))
    assert frr_router.running() == before


def test_province_config_renders_in_memory_and_masks_the_vault(
    frr_router: FrrRouter, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    """The real path for vendor gear: meixi-wan's config rendered from
    inventory/province (a copy whose vault opens with a test password, given to
    Ansible as an operator gives theirs) with the vault decrypted by Ansible,
    planned against a live device in check mode (the FRR router stands in for
    the ISR): every line is reported, no vault value reaches the output or the
    report."""
    frr_router.reset()
    before = frr_router.running()
    pushes = tmp_path / "pushes"
    extra = {
        "ansible_host": frr_router.address,
        "emops_cli_user": CLI_USER,
        "emops_cli_key_file": str(frr_router.key_file),
        "emops_push_dir": str(pushes),
        "emops_push_write_only": True,
    }
    opened = province_with_vault(tmp_path)
    province = opened.inventory
    result = playbook(
        "vendor-push.yml", province, "--limit", "meixi-wan", "--check", "--diff",
        "--vault-password-file", str(opened.password_file), "-e", json.dumps(extra),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert recap(result.stdout, "meixi-wan")["changed"] == 1
    report = json.loads((pushes / "meixi-wan.last.json").read_text())
    assert "hostname meixi-wan" in report["commands"]
    assert " ppp multilink group 1" in report["commands"]
    secret_lines = [c for c in report["commands"] if c.startswith("snmp-server user ")]
    assert secret_lines and "********" in secret_lines[0]
    hvars = load_topology(province).devices["meixi-wan"].vars
    vault = {k: v for k, v in hvars.items() if k.startswith("vault_")}
    decryptor = Decryptor(opened.password_file)
    assert {k: decryptor.plain(v) for k, v in vault.items()} == opened.secrets
    for name, value in vault.items():
        clear = str(decryptor.plain(value))
        assert clear not in result.stdout + result.stderr, f"{name} leaked to the output"
        assert clear not in json.dumps(report), f"{name} leaked to the push report"
    assert frr_router.running() == before
