"""The vendor section added to the structured config (no templates involved)."""

from __future__ import annotations

from pathlib import Path

from emops.structured import structured_config
from emops.topology import load_topology
from emops.vendor.view import ZONE_ORDER, device_view

ROOT = Path(__file__).resolve().parents[2]
TOPO = load_topology(ROOT / "inventory" / "province")


def test_ospf_networks_cover_every_ospf_interface() -> None:
    view = device_view(structured_config(TOPO, "anping-wan"))
    assert view["vendor"]["ospf_networks"] == ["10.0.0.0/30", "10.0.1.0/30", "10.11.1.0/24"]
    assert view["vendor"]["ospf_interfaces"]["Mp-group0/0/1"]["cost"] == 100
    assert view["vendor"]["bundle_kinds"] == {"Mp-group0/0/1": "mp_group"}


def test_usg_ports_sit_in_exactly_one_zone_and_flows_find_their_zones() -> None:
    view = device_view(structured_config(TOPO, "hq-fw"))
    zones = view["vendor"]["zones"]
    ports = [p for z in zones for p in z["interfaces"]]
    assert len(ports) == len(set(ports)) == 4
    named = {z["name"] for z in zones}
    for flow in view["firewall"]["flows"]:
        assert {flow["from_zone"], flow["to_zone"]} <= named
    assert len({ZONE_ORDER[z] for z in named}) == len(named)
    assert view["vendor"]["local_rules"][0]["from_zones"] == ["wan", "server"]


def test_secrets_stay_references() -> None:
    view = device_view(structured_config(TOPO, "meixi-wan"))
    assert view["snmp"]["v3"]["auth_password"] == "{{ vault_snmp_auth_password }}"
    assert view["vendor"]["account"]["password"] == "{{ vault_device_password }}"
