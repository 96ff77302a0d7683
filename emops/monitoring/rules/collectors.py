"""The monitoring's own eyes: an SNMP agent that stopped answering, a scrape that fails.

Without these, a blind spot looks like a healthy network: every other alert
needs data to fire.
"""

from __future__ import annotations

from emops.monitoring.rules.constructors import alert, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.collectors` rule group."""
    t = s.timing
    return rule_group(
        "emops.collectors",
        [
            alert(
                "SnmpTargetDown",
                "max by (device, site, role) (emops_snmp_up) == 0",
                severity="info",
                wait=t.confirm_for,
                summary="{{ $labels.device }} does not answer SNMP",
                description="""
                    The SNMP collector's polls of {{ $labels.device }} ({{ $labels.role }},
                    site {{ $labels.site }}) get no answer (emops_snmp_up = 0): the device,
                    its agent or the management path is down, and its interfaces are not
                    being watched.
                    """,
            ),
            alert(
                "ScrapeTargetDown",
                'label_replace(up == 0, "service", "monitoring", "job", "emops-.*|prometheus")',
                severity="info",
                wait=t.confirm_for,
                summary="Prometheus cannot scrape {{ $labels.job }} at {{ $labels.instance }}",
                description="""
                    Scrapes of job {{ $labels.job }} at {{ $labels.instance }} fail; every alert
                    built on its metrics is blind until it is back.
                    """,
            ),
        ],
    )
