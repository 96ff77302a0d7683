"""What the vendor templates read: the device's structured configuration
(emops/structured, docs/structured-config.md) plus a `vendor` section of the
few things only CLI platforms need, computed here so templates stay lookups:

- `account`: the SSH login netmiko and engineers use, as vault references
  (the structured config does not carry credentials yet);
- `ospf_networks`: `network` statements (Huawei and IOS enable OSPF by prefix),
  from the addresses of the interfaces the structured config runs OSPF on;
- `ospf_interfaces`: name -> that interface's OSPF settings (cost, type);
- `bundle_kinds`: bundle name -> eth_trunk / mp_group (how a member joins it);
- `zones`: the USG's security zones; a port belongs to exactly one zone there,
  so a port the structured config lists in two zones (lan_core and server
  share the transit port) goes to the first in ZONE_ORDER;
- `local_rules`: what the USG lets reach itself (OSPF from its neighbours):
  the USG polices traffic to its own `local` zone, which other platforms do not.

Secrets stay references (`"{{ vault_snmp_auth_password }}"`): only the template
filter `secret` resolves or redacts them, at render time.
"""

from __future__ import annotations

from ipaddress import ip_interface
from typing import Any

from emops.structured.plain import plain
from emops.topology.model import Device, Topology

VENDOR_PLATFORMS = ("huawei_vrp", "cisco_ios")
ACCOUNT = {"user": "{{ vault_device_user }}", "password": "{{ vault_device_password }}"}
# USG zone priorities (1-100, unique; trust 85, untrust 5, dmz 50, local 100 are built in)
ZONE_ORDER = {"wan": 10, "partners": 15, "database": 70, "server": 80, "lan_core": 75}

Data = dict[str, Any]


def vendor_devices(topo: Topology) -> list[Device]:
    """The network devices configured through vendor CLI templates, in inventory order."""
    return [d for d in topo.devices.values() if d.platform in VENDOR_PLATFORMS]


def _addresses(config: Data) -> dict[str, str]:
    """Interface name -> address (CIDR) over ports, bundles and VLAN interfaces."""
    out = {}
    for section in ("interfaces", "bundles", "vlan_interfaces"):
        for iface in config.get(section) or []:
            if iface.get("address"):
                out[iface["name"]] = iface["address"]
    return out


def _ospf(config: Data) -> tuple[list[str], dict[str, Data]]:
    ospf = config.get("ospf")
    if not ospf:
        return [], {}
    addresses = _addresses(config)
    nets = {str(ip_interface(addresses[i["name"]]).network) for i in ospf["interfaces"]}
    ordered = sorted(nets, key=lambda n: ip_interface(n).network)
    return ordered, {i["name"]: i for i in ospf["interfaces"]}


def _zones(firewall: Data) -> list[Data]:
    """Zones that hold a port or that a flow names (a policy needs its zones to exist)."""
    named = {f[k] for f in firewall["flows"] for k in ("from_zone", "to_zone")}
    taken: set[str] = set()
    zones = []
    for name, priority in ZONE_ORDER.items():
        spec = firewall["zones"].get(name, {"interfaces": []})
        ports = [p for p in spec["interfaces"] if p not in taken]
        taken.update(ports)
        if ports or name in named:
            zones.append({"name": name, "priority": priority, "interfaces": ports})
    return zones


def _local_rules(config: Data, zones: list[Data]) -> list[Data]:
    """OSPF from every zone holding a port where the firewall has OSPF neighbours."""
    ospf = config.get("ospf") or {"interfaces": []}
    speaking = {i["name"] for i in ospf["interfaces"] if not i["passive"]}
    sources = [z["name"] for z in zones if speaking & set(z["interfaces"])]
    if not sources:
        return []
    return [{"name": "ospf-to-local", "from_zones": sources, "ip_protocol": 89}]


def device_view(structured: Data) -> Data:
    """One device's structured config (made plain) with its `vendor` section."""
    config = plain(structured)
    networks, ospf_ifaces = _ospf(config)
    vendor: Data = {
        "account": dict(ACCOUNT),
        "ospf_networks": networks,
        "ospf_interfaces": ospf_ifaces,
        "bundle_kinds": {b["name"]: b["kind"] for b in config.get("bundles") or []},
        "zones": [],
        "local_rules": [],
    }
    if config.get("firewall"):
        vendor["zones"] = _zones(config["firewall"])
        vendor["local_rules"] = _local_rules(config, vendor["zones"])
    return config | {"vendor": vendor}
