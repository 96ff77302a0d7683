"""Server groups: each server's own service, named by its device, and the group as a whole.

Generated per server of every group whose service the application collector
checks from the server itself (emops.structured.context.SERVICE_HEALTH_PATHS:
app, stats, unified interface, CTI). A server that stops answering is named by
device, service and site even when a balancer hides it from users (info); a
group whose every server is down pages, as nothing is left to take over. A
group of one server only pages: the two alerts would say the same thing.

A server whose check could not run (its vantage point is broken: the device is
frozen or gone) has no series: it is left to `SnmpTargetDown`, never read as
a stopped service.
"""

from __future__ import annotations

from emops.monitoring.promql import devices_selector, evidence, literal
from emops.monitoring.rules.constructors import alert, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.structured.context import SERVICE_HEALTH_PATHS
from emops.topology import Topology
from emops.topology.model import Device


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.servers` rule group."""
    rules: list[dict] = []
    for role in SERVICE_HEALTH_PATHS:
        servers = sorted(topo.devices_with_role(role), key=lambda d: d.name)
        if len(servers) > 1:
            rules += [server_alert(d, servers, s) for d in servers]
        if servers:
            rules.append(group_alert(role, servers, s))
    return rule_group("emops.servers", rules)


def _up(role: str, devices: list[Device]) -> str:
    return devices_selector("emops_service_up", [d.name for d in devices], service=role)


def server_alert(server: Device, servers: list[Device], s: MonitorSettings) -> dict:
    role = server.role
    others = [d for d in servers if d.name != server.name]
    answering = evidence(
        literal(f"{_up(role, others)} == 1"),
        "{{ range $i, $s := . }}{{ if $i }}, {{ end }}{{ $s.Labels.device }}{{ end }}",
        none="none",
        sort_by="device",
    )
    return alert(
        "ServerServiceDown",
        f"max({_up(role, [server])}) == 0",
        severity="info",
        wait=s.timing.confirm_for,
        labels={"device": server.name, "site": server.site, "role": role, "service": role},
        summary=f"{role} service on {server.name} does not answer",
        description=f"""
            The {role} service on {server.name} does not answer its own health check
            (emops_service_up = 0, checked from the server itself). The other {role}
            servers still answering: {answering}.
            """,
    )


def group_alert(role: str, servers: list[Device], s: MonitorSettings) -> dict:
    names = ", ".join(d.name for d in servers)
    sites = sorted({d.site for d in servers})
    return alert(
        "ServiceGroupDown",
        f"""
        (max({_up(role, servers)}) == 0)
        and (count({_up(role, servers)}) == {len(servers)})
        """,
        severity="page",
        wait=s.timing.confirm_for,
        labels={"service": role, "site": ",".join(sites)},
        summary=f"every {role} server is down ({names})",
        description=f"""
            No {role} server answers its own health check ({names}; each checked from the
            server itself): nothing is left to take the {role} service over.
            """,
    )
