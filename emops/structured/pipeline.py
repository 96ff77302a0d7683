"""The pipeline: topology model -> one structured configuration per device.

Each section comes from one small contributor; they run in the order below and
their fragments are merged into one mapping (a later contributor never
overwrites an earlier key: each owns its keys). docs/structured-config.md
documents the resulting shape, which templates for every platform read.
"""

from __future__ import annotations

from collections.abc import Callable

from emops.errors import EmopsError
from emops.structured import firewall, interfaces, routing, services, system
from emops.structured.context import Context, Data, Facts
from emops.topology.model import Topology

Contributor = Callable[[Context], Data]

CONTRIBUTORS: tuple[Contributor, ...] = (
    system.identity,  # hostname, platform, role, site, network, model
    system.management,  # out-of-band address
    interfaces.interfaces,  # routed ports, bundle members, segment ports
    interfaces.bundles,  # LAG (Eth-Trunk) and n x 2M (Mp-group) bundles
    interfaces.vlan_interfaces,  # core VLAN interfaces with VRRP groups
    routing.forwarding,  # IP forwarding and ECMP hashing
    routing.ospf,  # OSPF area 0: router id, interfaces, costs, timers
    routing.static_routes,  # hosts: via their segment gateway
    firewall.firewall,  # zones and allowed flows (default deny)
    services.load_balancer,  # VIPs (keepalived) and backends (HAProxy)
    services.web,  # reverse proxy in front of the app tier
    services.app,  # the marketing service and its databases
    services.database,  # PostgreSQL primary / standby, clients, datagen
    services.stats,  # statistical analysis reading the standby
    services.cti,  # CTI server
    services.unified_interface,  # unified interface server
    system.snmp,  # SNMPv3 agent, v2c where allowed, link traps
)


def _merge(config: Data, fragment: Data, contributor: Contributor) -> None:
    for key, value in fragment.items():
        if key in config:
            raise RuntimeError(f"{contributor.__qualname__} redefines {key!r}")
        config[key] = value


def _build(facts: Facts, device: str) -> Data:
    ctx = Context(facts, facts.topo.devices[device])
    config: Data = {}
    for contributor in CONTRIBUTORS:
        _merge(config, contributor(ctx), contributor)
    return config


def structured_configs(topo: Topology) -> dict[str, Data]:
    """Every device's structured config, in inventory order; all problems at once."""
    facts = Facts(topo)
    out = {name: _build(facts, name) for name in topo.devices}
    if facts.problems:
        raise EmopsError(facts.problems)
    return out


def structured_config(topo: Topology, device: str) -> Data:
    """One device's structured config."""
    if device not in topo.devices:
        raise EmopsError.of("device", f"no device {device!r}", "name a host of hosts.yml")
    facts = Facts(topo)
    config = _build(facts, device)
    if facts.problems:
        raise EmopsError(facts.problems)
    return config
