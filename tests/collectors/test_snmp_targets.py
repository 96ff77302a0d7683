"""Targets and credentials from the inventory, redaction, and where the exporter may talk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from vaultkit import province_with_vault

from collectors.safety import parse_listen, unsafe_reason
from collectors.snmp.agents import free_udp_port
from collectors.targets import describe, targets_from
from emops.errors import EmopsError
from emops.secrets import LAB_PASSWORD_FILE, Decryptor, decryptor_for, password_file
from emops.topology import load_topology
from lab.postgres_local import free_port

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "inventory" / "lab"
LAB_PASSWORD = LAB / LAB_PASSWORD_FILE
PROVINCE = "inventory/province"  # as an operator types it, from the checkout
NO_PASSWORD = (
    "error: --vault-password-file: inventory/province has vault-encrypted secrets and no "
    "password (pass --vault-password-file FILE or set ANSIBLE_VAULT_PASSWORD_FILE=FILE, "
    "a file outside git)"
)


def vault_plain(name: str) -> str:
    """A lab vault value decrypted by ansible-vault's own library, independently."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib, get_file_vault_secret

    text = (LAB / "group_vars" / "all" / "vault.yml").read_text()
    block = text.split(f"{name}: !vault |\n", 1)[1].split("\nvault_", 1)[0]
    secret = get_file_vault_secret(filename=str(LAB_PASSWORD), loader=DataLoader())
    secret.load()
    ciphertext = "\n".join(line.strip() for line in block.strip().splitlines())
    return VaultLib([("default", secret)]).decrypt(ciphertext).decode()


def first_scrape(proc: subprocess.Popen[str], port: int, timeout: float) -> str:
    """The exporter's first /metrics answer that has polled devices ("" if none in time);
    fails at once with its stderr if the process has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                body = r.read().decode()
        except OSError:
            continue
        if "emops_snmp_up{" in body:
            return body
    return ""


@pytest.fixture
def lab_copy(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(LAB, target)
    return target


def test_lab_targets_are_v3_with_decrypted_credentials() -> None:
    topo = load_topology(LAB)
    targets = targets_from(topo, Decryptor(password_file(LAB)))
    assert len(targets) == len(topo.devices)
    core = next(t for t in targets if t.device == "hq-core1")
    assert (core.host, core.port, core.version, core.site, core.role) == (
        "198.19.255.11",
        161,
        "3",
        "hq",
        "core_switch",
    )
    # the inventory's platform is the device profile's hint when sysObjectID matches none
    assert core.platform == topo.devices["hq-core1"].platform != ""
    assert core.usm is not None
    assert core.usm.user == "emops-monitor"
    assert core.usm.auth_password == vault_plain("vault_snmp_auth_password")
    assert core.usm.priv_password == vault_plain("vault_snmp_priv_password")
    assert vault_plain("vault_snmp_auth_password") not in repr(core)  # never in logs


def test_printed_config_is_redacted() -> None:
    topo = load_topology(LAB)
    printed = json.dumps(describe(targets_from(topo, Decryptor(password_file(LAB)))))
    for secret in ("vault_snmp_auth_password", "vault_snmp_priv_password"):
        assert vault_plain(secret) not in printed
    assert "<redacted>" in printed


def test_snmp_v2c_host_uses_the_read_community(lab_copy: Path) -> None:
    hosts = lab_copy / "hosts.yml"
    data = yaml.safe_load(hosts.read_text())
    data["all"]["children"]["hq"]["hosts"]["hq-web1"]["snmp_v2c"] = True
    hosts.write_text(yaml.safe_dump(data, sort_keys=False))
    targets = targets_from(load_topology(lab_copy), Decryptor(LAB_PASSWORD))
    web1 = next(t for t in targets if t.device == "hq-web1")
    assert (web1.version, web1.community) == ("2c", vault_plain("vault_snmp_community"))


def test_bad_snmp_settings_name_host_and_field(lab_copy: Path) -> None:
    snmp = lab_copy / "group_vars" / "all" / "snmp.yml"
    snmp.write_text(snmp.read_text().replace("auth_protocol: SHA", "auth_protocol: SHA9"))
    with pytest.raises(EmopsError) as err:
        targets_from(load_topology(lab_copy), Decryptor(LAB_PASSWORD))
    first = str(err.value.problems[0])
    assert "snmp.auth_protocol" in first and "host hq-core1" in first
    assert len(err.value.problems) == len(load_topology(lab_copy).devices)


def test_missing_vault_password_is_one_clear_error(
    lab_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    (lab_copy / LAB_PASSWORD_FILE).unlink()
    assert password_file(lab_copy) is None
    with pytest.raises(EmopsError) as err:
        targets_from(load_topology(lab_copy), Decryptor(None))
    assert len(err.value.problems) == 1
    assert str(err.value.problems[0]).startswith("--vault-password-file:")


def test_listen_only_on_loopback_or_lab() -> None:
    assert parse_listen("127.0.0.1:9610") == ("127.0.0.1", 9610)
    assert parse_listen("198.19.255.1:9610") == ("198.19.255.1", 9610)
    for bad in ("0.0.0.0:9610", "10.1.1.1:9610", "localhost:9610", "127.0.0.1:0"):
        with pytest.raises(EmopsError, match="--listen"):
            parse_listen(bad)


def test_targets_off_the_machine_are_never_sent_to() -> None:
    lab_bridge = [__import__("ipaddress").IPv4Network("198.19.255.0/24")]
    assert unsafe_reason("127.0.0.1", False, []) is None
    assert unsafe_reason("198.19.255.11", False, lab_bridge) is None
    assert unsafe_reason("198.19.255.11", False, []) == "unroutable"  # twin down: default route
    assert unsafe_reason("10.20.0.1", False, lab_bridge) == "not_lab"
    assert unsafe_reason("10.20.0.1", True, []) is None  # --production


def run_exporter(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The exporter as typed in the checkout; the vault variable only if given here."""
    clean = {k: v for k, v in os.environ.items() if k != "ANSIBLE_VAULT_PASSWORD_FILE"}
    return subprocess.run(
        [sys.executable, "-m", "collectors.exporter", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean | env,
    )


def test_cli_refuses_a_public_listen_address() -> None:
    done = run_exporter("--inventory", str(LAB), "--listen", "0.0.0.0:9610")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --listen: 0.0.0.0:9610 is outside 127.0.0.0/8 and the lab's 198.18.0.0/15 "
        "(listen on loopback or a lab address, never on all interfaces)"
    ]


def test_cli_print_config_redacts() -> None:
    done = run_exporter("--inventory", str(LAB), "--print-config")
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    assert {c["auth_password"] for c in config} == {"<redacted>"}
    assert vault_plain("vault_snmp_priv_password") not in done.stdout


def test_province_never_falls_back_to_the_lab_password() -> None:
    """The real network's secrets open only with the operator's password: without one,
    and with the lab's, the exporter stops before serving, one line, exit 2."""
    argv = ("-i", PROVINCE, "--listen", f"127.0.0.1:{free_port()}", "--traps", "off")
    done = run_exporter(*argv)
    assert (done.returncode, done.stderr.splitlines()) == (2, [NO_PASSWORD]), done.stderr
    done = run_exporter(*argv, ANSIBLE_VAULT_PASSWORD_FILE=str(LAB_PASSWORD))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(
        f"error: --vault-password-file: {LAB_PASSWORD} does not open the vault of {PROVINCE}"
    )
    done = run_exporter(*argv, "--vault-password-file", "/nonexistent/vault")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: --vault-password-file: /nonexistent/vault is not a file")


def test_print_config_decrypts_nothing() -> None:
    """--print-config reads no password (not even a broken one) and prints none."""
    for inventory in (PROVINCE, str(LAB)):
        done = run_exporter("-i", inventory, "--print-config", ANSIBLE_VAULT_PASSWORD_FILE="/nx")
        assert done.returncode == 0, done.stderr
        config = json.loads(done.stdout)
        assert {c["auth_password"] for c in config} == {"<redacted>"}
        assert {c["priv_password"] for c in config} == {"<redacted>"}
    assert vault_plain("vault_snmp_priv_password") not in done.stdout


def test_province_copy_decrypts_with_the_operators_password(tmp_path: Path) -> None:
    vault = province_with_vault(tmp_path)
    topo = load_topology(vault.inventory)
    targets = targets_from(topo, decryptor_for(vault.inventory, str(vault.password_file)))
    assert {t.usm.auth_password for t in targets if t.usm} == {
        vault.secrets["vault_snmp_auth_password"]
    }
    assert {t.usm.priv_password for t in targets if t.usm} == {
        vault.secrets["vault_snmp_priv_password"]
    }


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--vault-password-file", "ANSIBLE_VAULT_PASSWORD_FILE"])
def test_cli_serves_a_province_inventory_given_its_password(tmp_path: Path, how: str) -> None:
    """Given the password either way Ansible takes it, the exporter starts and serves
    (province targets are not the lab's: reported `not_lab`, nothing is sent)."""
    vault = province_with_vault(tmp_path)
    port = free_port()
    argv = [sys.executable, "-m", "collectors.exporter", "-i", str(vault.inventory)]
    argv += ["--listen", f"127.0.0.1:{port}", "--traps", "off", "--interval", "1s"]
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_VAULT_PASSWORD_FILE"}
    if how == "--vault-password-file":
        argv += [how, str(vault.password_file)]
    else:
        env[how] = str(vault.password_file)
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
    try:
        body = first_scrape(proc, port, timeout=30)
        assert 'emops_snmp_up{device="meixi-wan"' in body
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


@pytest.mark.slow
def test_cli_serves_metrics_and_stops_on_sigterm() -> None:
    port, trap_port = free_port(), free_udp_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "collectors.exporter", "--inventory", str(LAB)),
            *("--listen", f"127.0.0.1:{port}", "--traps", f"127.0.0.1:{trap_port}"),
            *("--interval", "1s", "--timeout", "200ms", "--retries", "0"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PROMETHEUS_DISABLE_CREATED_SERIES="True"),
    )
    try:
        body = first_scrape(proc, port, timeout=20)
        assert 'emops_snmp_up{device="hq-core1",role="core_switch",site="hq"}' in body
        assert 'emops_link_capacity_bits_per_second{link="anping-backup"' in body
        assert "emops_snmp_traps_total" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
