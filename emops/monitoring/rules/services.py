"""Services: load-balancer backends, VIP probes, and one fused verdict per service.

A failed VIP probe alone does not page: a probe's own path (a client site's
WAN, the prober) fails more often than the service. The service-level alert
pages only when the probe fails AND a second, independent sensor on the
service side agrees: the active load balancer has no healthy backend, no load
balancer holds the VIP (VRRP), or the primary database is down.
"""

from __future__ import annotations

from emops.monitoring.inventory_view import databases, service_vips
from emops.monitoring.promql import camel, devices_selector, evidence, literal, quote, selector
from emops.monitoring.rules.constructors import alert, record, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.structured.services import BACKEND_SUFFIX, backend_name
from emops.topology import Topology

LB_LABELS = "device, site, role, proxy"


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.services` rule group."""
    rules = load_balancer_records() + probe_records()
    for vip in service_vips(topo):
        rules += service_records(topo, vip)
    rules += component_alerts(s)
    rules += [service_alert(topo, vip, s) for vip in service_vips(topo)]
    return rule_group("emops.services", rules)


def load_balancer_records() -> list[dict]:
    """HAProxy 2.4+ exports one haproxy_server_status series per state, 1 for the current one."""
    return [
        record(
            "emops:lb_backend_servers_up",
            f"""
            label_replace(
              sum by ({LB_LABELS}) (haproxy_server_status{{state="UP"}}),
              "service", "$1", "proxy", "(.*){BACKEND_SUFFIX}")
            """,
        ),
        # Servers in maintenance are left out on purpose: draining is not a fault.
        record(
            "emops:lb_backend_servers_total",
            f"""
            label_replace(
              count by ({LB_LABELS}) (haproxy_server_status{{state="MAINT"}} == 0),
              "service", "$1", "proxy", "(.*){BACKEND_SUFFIX}")
            """,
        ),
    ]


def probe_records() -> list[dict]:
    return [
        record(
            "emops:service_vip_probe_success",
            'max by (service) (emops_probe_success{target="vip"})',
        ),
    ]


def _vrrp_master(vip) -> str:
    """Who holds the VIP: the VRRP group's fused reading (SNMP, else the namespace peek)."""
    return selector("emops:vrrp_master", segment=vip.segment, vrrp_group=vip.service)


def service_records(topo: Topology, vip) -> list[dict]:
    """The service side of one VIP, each sensor as its own series (0 when silent)."""
    labels = {"service": vip.service}
    master = _vrrp_master(vip)
    rules = [
        record(
            "emops:service_lb_masters",
            f"sum(max by (device) ({master})) or vector(0)",
            labels,
        ),
        # Healthy backends as seen by the balancer that holds the VIP now.
        record(
            "emops:service_lb_backends_up",
            f"""
            max(
              emops:lb_backend_servers_up{{proxy={quote(backend_name(vip.service))}}}
              * on (device) group_left () (max by (device) ({master}) == 1)
            )
            or vector(0)
            """,
            labels,
        ),
    ]
    primaries = [d.device for d in databases(topo) if d.db_role == "primary"]
    if primaries:
        rules.append(
            record(
                "emops:service_database_up",
                f"max({devices_selector('emops_postgres_up', primaries)}) or vector(0)",
                labels,
            )
        )
    return rules


def component_alerts(s: MonitorSettings) -> list[dict]:
    t = s.timing
    up = evidence(
        'printf `emops:lb_backend_servers_up{device="%s", proxy="%s"}` $labels.device $labels.proxy'
    )
    total = evidence(
        'printf `emops:lb_backend_servers_total{device="%s", proxy="%s"}` '
        "$labels.device $labels.proxy"
    )
    return [
        # one alert per server a balancer sees down, labelled with it, so it can be routed
        # and silenced per server; servers in maintenance (draining) are left out
        alert(
            "LoadBalancerBackendDown",
            f"""
            label_replace(
              max by ({LB_LABELS}, server) (haproxy_server_status{{state="UP"}}) == 0,
              "service", "$1", "proxy", "(.*){BACKEND_SUFFIX}")
            unless on (device, proxy, server) (haproxy_server_status{{state="MAINT"}} == 1)
            """,
            severity="info",
            wait=t.confirm_for,
            summary="{{ $labels.device }}: server {{ $labels.server }} of backend "
            "{{ $labels.proxy }} is down",
            description=f"""
                HAProxy health checks on {{{{ $labels.device }}}} see server
                {{{{ $labels.server }}}} DOWN; {up} of {total} servers of backend
                {{{{ $labels.proxy }}}} UP.
                """,
        ),
        alert(
            "VirtualAddressUnreachable",
            'min by (service, target, site) (emops_probe_success{target="vip"}) == 0',
            severity="info",
            wait=t.confirm_for,
            summary="{{ $labels.service }} VIP probe from {{ $labels.site }} fails",
            description="""
                The HTTP probe of the {{ $labels.service }} virtual address from site
                {{ $labels.site }} gets no valid answer. One sensor only: it pages as part of
                the service-level alert when the service side agrees.
                """,
        ),
    ]


def service_alert(topo: Topology, vip, s: MonitorSettings) -> dict:
    """`<Service>ServiceDown`: probe failure fused with the service side's own sensors."""
    sel = f"{{service={quote(vip.service)}}}"
    sides = [
        f"(emops:service_lb_backends_up{sel} == 0)",
        f"(emops:service_lb_masters{sel} == 0)",
    ]
    primaries = [d.device for d in databases(topo) if d.db_role == "primary"]
    if primaries:
        sides.append(f"(emops:service_database_up{sel} == 0)")
    lines = [f"(emops:service_vip_probe_success{sel} == 0)", "and on (service)", "("]
    for i, side in enumerate(sides):
        lines += ["  or on (service)"] * bool(i) + [f"    {side}"]
    lines.append(")")

    def value(metric: str) -> str:
        return evidence(literal(f"{metric}{sel}"))

    db_text = ""
    if primaries:
        db_text = (
            f"; primary database {', '.join(primaries)} up: {value('emops:service_database_up')}"
        )
    return alert(
        f"{camel(vip.service)}ServiceDown",
        "\n".join(lines),
        severity="page",
        wait=s.timing.confirm_for,
        labels={"service": vip.service, "site": vip.site},
        summary=f"{vip.service} service is down (VIP {vip.endpoint})",
        description=f"""
            Every probe of the {vip.service} VIP {vip.endpoint} fails, and the service side
            agrees: healthy backends on the active load balancer:
            {value("emops:service_lb_backends_up")}; VRRP masters among
            {", ".join(vip.owners)}: {value("emops:service_lb_masters")}{db_text}.
            """,
    )
