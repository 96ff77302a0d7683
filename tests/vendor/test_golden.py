"""Golden files: every vendor device of inventory/province, rendered redacted.

A template or view change shows up as a diff against tests/vendor/golden/<host>.cfg.
When the change is intended, regenerate and review the diff in git:

    EMOPS_REGEN_GOLDEN=1 .venv/bin/pytest tests/vendor/test_golden.py

Golden files are always rendered with secrets REDACTED; a test renders them
again from a copy of the inventory whose vault it can open (tests/vaultkit.py:
the committed province vault opens only with the operator's password) and
proves they are the same text and hold no secret value.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
from vaultkit import OpenVault, province_with_vault

from emops.secrets import Decryptor
from emops.topology import load_topology
from emops.vendor import cliconf
from emops.vendor.dialects import PLATFORM_DEVICE_TYPES, dialect
from emops.vendor.render import REDACTED, render_device, resolver_from
from emops.vendor.session import plan
from emops.vendor.view import vendor_devices

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
TOPO = load_topology(ROOT / "inventory" / "province")
HOSTS = [d.name for d in vendor_devices(TOPO)]
REGENERATE = os.environ.get("EMOPS_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("host", HOSTS)
def test_rendering_matches_the_golden_file(host: str) -> None:
    rendered = render_device(TOPO, host)
    golden = GOLDEN / f"{host}.cfg"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"no golden file for {host}: run with EMOPS_REGEN_GOLDEN=1"
    expected = golden.read_text()
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(True), rendered.splitlines(True), str(golden), "rendered"
        )
    )
    assert rendered == expected, f"{host} drifted from its golden file:\n{diff}"


def test_golden_files_are_exactly_the_vendor_devices() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.cfg")) == sorted(HOSTS)
    assert len(HOSTS) == 17  # 2 cores, the firewall, 14 WAN routers


def _expected_lines(host: str) -> list[str]:
    """What the inventory says must be configured on host, in the platform's words."""
    cisco = TOPO.devices[host].platform == "cisco_ios"
    ends = [(e.interface, e.address) for lk in TOPO.links for e in (lk.a, lk.b) if e.device == host]
    ends += [
        (m.interface, m.address)
        for lk in TOPO.links
        for mb in lk.members
        for m, side in ((mb.a, lk.a), (mb.b, lk.b))
        if side.device == host
    ]
    ends += [(m.interface, m.address) for s in TOPO.segments for m in s.members if m.device == host]
    lines = []
    for iface, address in ends:
        lines.append(f"interface {iface}")
        if address is not None:
            lines.append(f" ip address {address.ip} {address.netmask}")
    for seg in TOPO.segments:
        if seg.vrid and any(m.device == host for m in seg.members):
            vrrp = f" vrrp {seg.vrid} ip" if cisco else f" vrrp vrid {seg.vrid} virtual-ip"
            lines.append(f"{vrrp} {seg.gateway}")
    return lines


@pytest.mark.parametrize("host", HOSTS)
def test_rendered_config_holds_the_inventory_interfaces(host: str) -> None:
    rendered = render_device(TOPO, host).splitlines()
    missing = [line for line in _expected_lines(host) if line not in rendered]
    assert not missing, f"{host}: inventory facts missing from the config: {missing}"
    assert f"hostname {host}" in rendered or f"sysname {host}" in rendered


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> OpenVault:
    return province_with_vault(tmp_path_factory.mktemp("vault"))


def _vault_values(vault: OpenVault) -> dict[str, str]:
    """The copy's vault_* values, decrypted the way `emops vendor render` does."""
    decryptor = Decryptor(vault.password_file)
    hvars = next(iter(load_topology(vault.inventory).devices.values())).vars
    values = {k: str(decryptor.plain(v)) for k, v in hvars.items() if k.startswith("vault_")}
    assert values == vault.secrets
    return values


def test_no_vault_secret_in_any_golden_file(vault: OpenVault) -> None:
    secrets = _vault_values(vault)
    assert len(secrets) >= 5 and all(len(v) >= 8 for v in secrets.values())
    topo = load_topology(vault.inventory)  # the same network, another vault
    for path in sorted(GOLDEN.glob("*.cfg")):
        text = render_device(topo, path.stem)
        assert text == path.read_text(), f"{path.name}: the redacted text depends on the vault"
        leaked = [k for k, v in secrets.items() if v in text]
        assert not leaked, f"{path.name} holds the clear value of {leaked}"
        assert REDACTED in text


def test_a_push_render_carries_the_resolved_secrets(vault: OpenVault) -> None:
    secrets = _vault_values(vault)
    for host in ("anping-wan", "lianshan-wan"):
        text = render_device(TOPO, host, resolver_from(secrets))
        assert REDACTED not in text
        assert secrets["vault_snmp_auth_password"] in text
        assert secrets["vault_device_password"] in text


@pytest.mark.parametrize("host", ["hq-core1", "hq-fw", "anping-wan", "lianshan-wan"])
def test_golden_configs_parse_and_their_secrets_are_write_only(host: str) -> None:
    """The push path can use what the templates write: it parses into blocks, and
    the lines holding passwords and keys are the dialect's write-only ones (the
    device shows them back hashed, so they are never compared)."""
    d = dialect(PLATFORM_DEVICE_TYPES[TOPO.devices[host].platform])
    text = (GOLDEN / f"{host}.cfg").read_text()
    tree = cliconf.parse(text, d)
    assert any(line.startswith("interface ") and kids for line, kids in tree.items())
    keyed = re.compile(r"(password|authentication-mode|privacy-mode|secret|auth sha) .*REDACTED")
    compared = plan(text, "", d, list(d.write_only), False).commands
    assert not [line for line in compared if keyed.search(line)]
    forced = plan(text, "", d, list(d.write_only), True).commands
    assert [line for line in forced if keyed.search(line)]
