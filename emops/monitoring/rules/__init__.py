"""The recording and alerting rules, one contributor module per concern.

Each module returns one rule group (plain data). `rule_groups` lists them in
the order they appear in `rules/emops.rules.yml`; a group's recording rules come
before the alerts that read them, because rules in one group run in order at
the same timestamp (across groups they would lag one evaluation).
"""

from __future__ import annotations

from emops.monitoring.rules import (
    collectors,
    database,
    health,
    interface_errors,
    latency,
    links,
    routing,
    servers,
    services,
    vrrp,
)
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

CONTRIBUTORS = (
    links.group,  # WAN and LAN links: state from poll + trap, utilisation, site isolation
    vrrp.group,  # every VRRP pair: exactly one master (SNMP, else the peek); services read it
    services.group,  # load balancers, VIP probes, and the fused per-service verdicts
    servers.group,  # each server's own service (app, stats, interface, CTI) and its group
    database.group,  # PostgreSQL primary and standby
    latency.group,  # the probe latency SLO as multi-window burn rates
    health.group,  # device health: CPU, memory, sensors, fans, power, optics, reboots
    interface_errors.group,  # errors and discards rising on the inventory's links
    routing.group,  # every OSPF adjacency the inventory implies (reads the links' records)
    collectors.group,  # the monitoring's own eyes: SNMP targets and scrapes
)


def rule_groups(topo: Topology, settings: MonitorSettings) -> list[dict]:
    """Every rule group, in file order; groups with no rules are left out."""
    groups = [contribute(topo, settings) for contribute in CONTRIBUTORS]
    return [g for g in groups if g["rules"]]


def alert_names(groups: list[dict]) -> list[str]:
    """The distinct alert names, in file order (what tests and docs must cover)."""
    names: list[str] = []
    for group in groups:
        for rule in group["rules"]:
            if "alert" in rule and rule["alert"] not in names:
                names.append(rule["alert"])
    return names
