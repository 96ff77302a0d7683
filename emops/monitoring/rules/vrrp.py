"""VRRP: each pair in the inventory must have exactly one master.

Generated per pair (segment gateways on the core switches, service VIPs on the
load balancers) and selected by the inventory's own names, `segment` and the
pair's `device`s, so the rules do not depend on how a collector names the
instance. "No master" needs the pair spelled out: a pair whose devices all
vanished has no series left to compare.
"""

from __future__ import annotations

from emops.monitoring.inventory_view import VrrpPair, vrrp_pairs
from emops.monitoring.promql import devices_selector, evidence, literal
from emops.monitoring.rules.constructors import alert, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

APP_COLLECTOR_UP = 'max(up{job="emops-app"}) == 1'  # VRRP state comes from the app collector


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.vrrp` rule group."""
    rules: list[dict] = []
    for pair in vrrp_pairs(topo):
        rules += pair_alerts(pair, s)
    return rule_group("emops.vrrp", rules)


def _labels(pair: VrrpPair) -> dict[str, str]:
    labels = {"site": pair.site, "segment": pair.segment, "vrrp_group": pair.name}
    if pair.service:
        labels["service"] = pair.service
    return labels


def pair_alerts(pair: VrrpPair, s: MonitorSettings) -> list[dict]:
    t = s.timing
    master = devices_selector("emops_vrrp_master", pair.devices, segment=pair.segment)
    holders = evidence(
        literal(f"{master} == 1"),
        "{{ range $i, $s := . }}{{ if $i }}, {{ end }}{{ $s.Labels.device }}{{ end }}",
        none="nobody",
        sort_by="device",
    )
    who = f"VRRP group {pair.name} (vrid {pair.vrid}) on {pair.segment}"
    devices = ", ".join(pair.devices)
    return [
        alert(
            "VrrpMasterChanged",
            f"sum(changes({master}[{t.change_window}])) > 0",
            severity="info",
            labels=_labels(pair),
            summary=f"{who}: master changed",
            description=f"""
                The master of {who} changed ({{{{ $value }}}} transitions among {devices} in
                the last {t.change_window}); it is now held by {holders}. Expected after a
                failover; a pair that keeps changing is flapping.
                """,
        ),
        alert(
            "VrrpTwoMasters",
            f"sum({master}) > 1",
            severity="page",
            wait=t.confirm_for,
            labels=_labels(pair),
            summary=f"{who}: {{{{ $value }}}} masters",
            description=f"""
                {{{{ $value }}}} devices hold the address of {who} at once: {holders}.
                Split brain: clients reach whichever answered ARP last.
                """,
        ),
        alert(
            "VrrpNoMaster",
            f"""
            ((sum({master}) or vector(0)) == 0)
            and on () ({APP_COLLECTOR_UP})
            """,
            severity="page",
            wait=t.confirm_for,
            labels=_labels(pair),
            summary=f"{who}: no master",
            description=f"""
                None of {devices} holds the address of {who} although the application
                collector is up: the segment or service behind it is unreachable.
                """,
        ),
    ]
