"""`emops` end to end: outputs a user reads, and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import ROOT, TINY
from vaultkit import province_with_vault

from control.emops_cli import main

EMOPS = [sys.executable, "-m", "control.emops_cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EMOPS, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_pingpong_prints_both_forms(capsys):
    assert (
        main(
            [
                "capacity",
                "pingpong",
                "--users",
                "100",
                "--think-time",
                "30s",
                "--packets",
                "8",
                "--packet-size",
                "900B",
                "--delay",
                "10ms",
                "--format",
                "json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["published_bps"] == pytest.approx(191_489.36, rel=1e-6)
    assert out["refined_bps"] < out["published_bps"]


def test_bulk_text_output(capsys):
    assert main(["capacity", "bulk", "--size", "20MB", "--required-time", "2min"]) == 0
    assert capsys.readouterr().out.strip() == "bulk: 1.4Mbit/s"


def test_plan_writes_table_csv_json_and_chart(tmp_path, capsys):
    files = {k: tmp_path / f"plan.{k}" for k in ("csv", "json", "html")}
    assert (
        main(
            [
                "capacity",
                "plan",
                "-i",
                str(TINY),
                "--csv",
                str(files["csv"]),
                "--json",
                str(files["json"]),
                "--chart",
                str(files["html"]),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert re.search(r"alpha\s+alpha-private\s+primary\s+155M\s+1\.658M", table)
    assert "4 links planned, 0 need an upgrade" in table

    records = list(csv.DictReader(io.StringIO(files["csv"].read_text())))
    assert [r["link"] for r in records] == [
        "alpha-private",
        "alpha-backup",
        "beta-private",
        "beta-backup",
    ]
    assert int(records[0]["demand_bps"]) == 1_658_045
    report = json.loads(files["json"].read_text())
    assert report["network"] == "lab" and report["headroom"] == 0.3
    assert report["links"] == [
        {
            **r,
            **{
                k: type(report["links"][0][k])(r[k])
                for k in r
                if k not in ("site", "link", "role", "recommended", "status")
            },
        }
        for r in records
    ]
    html = files["html"].read_text()
    bars = re.findall(
        r'class="demand" data-site="(\w+)" data-role="(\w+)" '
        r'data-demand-bps="(\d+)"',
        html,
    )
    assert ("alpha", "primary", "1658045") in bars and len(bars) == 4


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_plan_prints_machine_formats(fmt, capsys):
    assert main(["capacity", "plan", "-i", str(TINY), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert len(json.loads(out)["links"]) == 4
    else:
        assert out.splitlines()[0].startswith("site,link,role,capacity_bps")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["capacity", "bulk", "--size", "20MB", "--required-time", "0s"], "--required-time"),
        (["capacity", "bulk", "--size", "20MB", "--required-time=-3s"], "--required-time"),
        (["capacity", "bulk", "--size", "20 furlongs", "--required-time", "3s"], "--size"),
        (
            ["capacity", "bulk", "--size", "20MB", "--required-time", "3s", "--overhead", "x"],
            "--overhead",
        ),
        (
            [
                "capacity",
                "pingpong",
                "--users",
                "many",
                "--think-time",
                "30s",
                "--packets",
                "8",
                "--packet-size",
                "900B",
            ],
            "--users",
        ),
        (
            [
                "capacity",
                "pingpong",
                "--users",
                "10",
                "--think-time",
                "soon",
                "--packets",
                "8",
                "--packet-size",
                "900B",
            ],
            "--think-time",
        ),
        (["capacity", "plan", "-i", "no/such/inventory"], "--inventory"),
        (["capacity", "plan", "-i", str(TINY), "--headroom", "lots"], "--headroom"),
    ],
)
def test_bad_input_is_one_line_exit_2_no_traceback(args, field):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and lines[0].startswith("emops: error:")
    assert "Traceback" not in result.stderr


def test_malformed_inventory_yaml_is_one_line(tiny):
    (tiny / "group_vars" / "alpha.yml").write_text("site: {kind: municipal\n")
    result = run("capacity", "plan", "-i", str(tiny))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_argument_is_a_usage_error():
    result = run("capacity", "bulk", "--size", "1MB")
    assert result.returncode == 2 and "--required-time" in result.stderr


def test_nothing_is_written_when_an_output_directory_is_missing(tmp_path):
    good = tmp_path / "plan.csv"
    result = run(
        "capacity",
        "plan",
        "-i",
        str(TINY),
        "--csv",
        str(good),
        "--chart",
        str(tmp_path / "missing" / "plan.html"),
    )
    assert result.returncode == 2 and "--chart" in result.stderr
    assert not good.exists()
    assert list(tmp_path.iterdir()) == []


def test_help_everywhere():
    for args in ([], ["capacity"], ["capacity", "plan"], ["inventory", "check"]):
        result = run(*args, "--help")
        assert result.returncode == 0 and "usage: emops" in result.stdout


def test_inventory_check_reports_ok_and_problems(tiny):
    assert "ok (lab: 3 sites, 7 devices" in run("inventory", "check", "-i", str(TINY)).stdout
    (tiny / "group_vars" / "beta.yml").write_text(
        "site: {kind: municipal, traffic: {pingpong: [{transaction: lookup, users: -1, "
        "think_time: 0s}]}}\n"
    )
    result = run("inventory", "check", "-i", str(tiny))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 2  # both problems, one line each


def test_real_inventories_validate():
    for inventory in ("inventory/province", "inventory/lab"):
        result = run("inventory", "check", "-i", inventory)
        assert result.returncode == 0, result.stderr
    lab_password = ROOT / "inventory" / "lab" / "vault-password.txt"
    assert lab_password.read_text().strip() == "emops-lab-vault"  # published: a test secret
    # the only password file in the repository: the province's is the operator's, never in git
    assert sorted(ROOT.glob("inventory/**/*vault-pass*")) == [lab_password]


def emops_as_typed(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`emops ...` from the checkout, ANSIBLE_VAULT_PASSWORD_FILE only if given here."""
    clean = {k: v for k, v in os.environ.items() if k != "ANSIBLE_VAULT_PASSWORD_FILE"}
    return subprocess.run(
        [*EMOPS, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, env=clean | env
    )


def test_vendor_render_of_the_province_needs_the_operators_password(tmp_path):
    out = tmp_path / "configs"
    done = emops_as_typed("vendor", "render", "-i", "inventory/province", "-o", str(out))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "emops: error: --vault-password-file: inventory/province has vault-encrypted secrets "
        "and no password (pass --vault-password-file FILE or set "
        "ANSIBLE_VAULT_PASSWORD_FILE=FILE, a file outside git)"
    ]
    assert not out.exists()  # nothing written, not even the directory
    lab_password = str(ROOT / "inventory" / "lab" / "vault-password.txt")
    done = emops_as_typed(
        "vendor", "render", "-i", "inventory/province", "-o", str(out),
        ANSIBLE_VAULT_PASSWORD_FILE=lab_password,
    )  # fmt: skip
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "does not open the vault of inventory/province" in done.stderr
    assert not out.exists()
    # what needs no secret needs no password
    done = emops_as_typed(
        "vendor", "render", "-i", "inventory/province", "-o", str(out), "--redact"
    )
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.cfg"))) == 17
    assert "REDACTED" in (out / "meixi-wan.cfg").read_text()


@pytest.mark.parametrize("how", ["--vault-password-file", "ANSIBLE_VAULT_PASSWORD_FILE"])
def test_vendor_render_opens_a_province_vault_with_its_password(tmp_path, how):
    vault = province_with_vault(tmp_path)
    out = tmp_path / "configs"
    argv = ["vendor", "render", "-i", str(vault.inventory), "-o", str(out), "--host", "meixi-wan"]
    if how == "--vault-password-file":
        done = emops_as_typed(*argv, how, str(vault.password_file))
    else:
        done = emops_as_typed(*argv, ANSIBLE_VAULT_PASSWORD_FILE=str(vault.password_file))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 configurations (with secrets, mode 0600)")
    config = out / "meixi-wan.cfg"
    assert config.stat().st_mode & 0o777 == 0o600
    text = config.read_text()
    assert "REDACTED" not in text
    for name in ("vault_snmp_auth_password", "vault_device_password"):
        assert vault.secrets[name] in text


@pytest.mark.parametrize("inventory", ["inventory/province", "inventory/lab"])
def test_ansible_reads_the_same_inventory(inventory):
    """Ansible's own CLI sees the hosts and groups the model sees."""
    ansible_inventory = Path(sys.executable).parent / "ansible-inventory"
    listing = subprocess.run(
        [str(ansible_inventory), "-i", inventory, "--list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    data = json.loads(listing.stdout)
    graph = subprocess.run(
        [str(ansible_inventory), "-i", inventory, "--graph"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert "@core_switches:" in graph.stdout and "hq-core1" in graph.stdout
    from emops.topology import load_topology

    topo = load_topology(ROOT / inventory)
    assert set(data["_meta"]["hostvars"]) == set(topo.devices)
    assert set(data["municipal"]["children"]) == {s.name for s in topo.municipal_sites()}
