"""The application collectors' plan, derived from the lab inventory through the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.app.targets import AppPlan, describe, plan_from, vrrp_instances
from collectors.snmp.agents import free_udp_port
from emops.secrets import REDACTED, Decryptor, password_file
from emops.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "inventory" / "lab"


@pytest.fixture(scope="module")
def lab_plan() -> AppPlan:
    return plan_from(load_topology(LAB), Decryptor(password_file(LAB)), customer_id=7)


def test_probes_and_stats_from_segments(lab_plan: AppPlan) -> None:
    assert [t.url for t in lab_plan.vip_probes] == ["http://198.18.100.10:80/customers/7"]
    assert {t.target for t in lab_plan.vip_probes} == {"vip"}
    web = {t.target: t.url for t in lab_plan.server_probes}
    assert web["hq-web1"] == "http://198.18.110.11:80/customers/7"
    assert sorted(web) == ["hq-web1", "hq-web2", "hq-web3", "hq-web4"]
    stats = {t.target: t.url for t in lab_plan.stats}
    assert stats == {
        "hq-app1": "http://198.18.120.11:8080/stats",
        "hq-app2": "http://198.18.120.12:8080/stats",
    }


def test_every_server_groups_own_service_is_checked(lab_plan: AppPlan) -> None:
    topo = load_topology(LAB)
    services = {(t.service, t.owner): t for t in lab_plan.services}
    expected = {
        (d.role, d.name)
        for d in topo.devices.values()
        if d.role in ("app", "stats", "interface", "cti")
    }
    assert set(services) == expected and len(expected) >= 5
    assert services[("cti", "hq-cti1")].port == 5038  # the structured config's port
    assert services[("interface", "hq-uif1")].port == 8090
    assert services[("app", "hq-app1")].url == "http://198.18.120.11:8080/healthz"
    for target in lab_plan.services:  # each from its server's data address
        assert target.host.startswith("198.18."), target


def test_postgres_from_data_addresses_and_vault(lab_plan: AppPlan) -> None:
    db = {t.device: t for t in lab_plan.postgres}
    assert sorted(db) == ["hq-db1", "hq-db2"]
    assert (db["hq-db1"].host, db["hq-db1"].port) == ("198.18.130.11", 5432)
    assert db["hq-db2"].user == "marketing" and db["hq-db2"].database == "marketing"
    assert db["hq-db1"].password and "vault" not in db["hq-db1"].password  # decrypted
    printed = describe(lab_plan)["postgres"]["hq-db1"]
    assert printed["password"] == REDACTED


def test_vrrp_instances_gateways_and_vips() -> None:
    found = {v.instance: v for v in vrrp_instances(load_topology(LAB))}
    assert found["hq-app"].address == "198.18.120.1"
    assert found["hq-app"].devices == ("hq-core1", "hq-core2")
    assert found["marketing"].segment == "hq-lb"
    assert found["marketing"].devices == ("hq-lb1", "hq-lb2")
    assert found["marketing"].address == "198.18.100.10"
    assert "hq-db" not in found and "hq-transit" not in found  # no vrid: no VRRP
    assert "anping-lan" not in found


def test_monitoring_account_preferred(tmp_path: Path) -> None:
    """A `vault_db_monitor_*` pair, when the inventory has one, replaces the app account."""
    inventory = tmp_path / "lab"
    shutil.copytree(LAB, inventory)  # the lab's test password file comes along, inside
    (inventory / "group_vars" / "db_servers.yml").write_text(
        "vault_db_monitor_user: emops_monitor\nvault_db_monitor_password: secret\n"
    )
    plan = plan_from(load_topology(inventory), Decryptor(password_file(inventory)))
    db = {t.device: t for t in plan.postgres}
    assert (db["hq-db1"].user, db["hq-db1"].password) == ("emops_monitor", "secret")


def run_app_exporter(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The application exporter as typed in the checkout; the vault variable only if given."""
    clean = {k: v for k, v in os.environ.items() if k != "ANSIBLE_VAULT_PASSWORD_FILE"}
    argv = [sys.executable, "-m", "collectors.app_exporter", *args]
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=60, env=clean | env
    )


def test_province_database_password_needs_the_operators_vault_password() -> None:
    done = run_app_exporter(
        "-i", "inventory/province", "--listen", f"127.0.0.1:{free_udp_port()}", "--interval", "1s"
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: --vault-password-file: inventory/province has vault-encrypted secrets and no "
        "password (pass --vault-password-file FILE or set ANSIBLE_VAULT_PASSWORD_FILE=FILE, "
        "a file outside git)"
    ]


def test_print_config_needs_no_vault_password() -> None:
    """Not even a readable one: a password file that would fail is never opened."""
    for inventory in ("inventory/province", str(LAB)):
        done = run_app_exporter(
            "-i", inventory, "--print-config", ANSIBLE_VAULT_PASSWORD_FILE="/nx"
        )
        assert done.returncode == 0, done.stderr
        postgres = json.loads(done.stdout)["postgres"]
        assert {db["password"] for db in postgres.values()} == {REDACTED}
