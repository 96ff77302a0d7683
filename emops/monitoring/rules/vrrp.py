"""VRRP: each pair in the inventory must have exactly one master.

Generated per pair (segment gateways on the core switches, service VIPs on the
load balancers) and selected by the inventory's own names, the pair's `device`s
and its VRID, so the rules do not depend on how a collector names the instance.

Two sensors can say who is master. SNMP (`emops_fhrp_master`, VRRP-MIB, VRRPv3-MIB
or CISCO-HSRP-MIB, `group` = the VRID) is the production path; the application
collector's namespace peek (`emops_vrrp_master`, who holds the address) exists only
on the twin. `emops:vrrp_master` fuses them per pair: SNMP whenever it has any row
for the pair, else the peek, never a mix (two clocks in one pair would show two
masters during a failover). Where both report, `VrrpSnmpDisagrees` cross-checks them.

"No master" is asserted only from complete data: SNMP rows from every device of the
pair (a silent device may be the master: its `SnmpTargetDown` says so), or, with no
SNMP rows at all, the peek while the application collector runs and peeks.
"""

from __future__ import annotations

from emops.monitoring.inventory_view import VrrpPair, vrrp_pairs
from emops.monitoring.promql import any_of, devices_selector, evidence, literal, quote, selector
from emops.monitoring.rules.constructors import alert, record, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

PEEK_RUNS = 'max(up{job="emops-app"}) == 1 and on () count(emops_vrrp_master)'
FHRP_PROTOCOLS = "vrrp|vrrp3|hsrp"


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.vrrp` rule group."""
    pairs = vrrp_pairs(topo)
    rules = [master_record(pair) for pair in pairs]
    for pair in pairs:
        rules += pair_alerts(pair, s)
    return rule_group("emops.vrrp", rules)


def _labels(pair: VrrpPair) -> dict[str, str]:
    labels = {"site": pair.site, "segment": pair.segment, "vrrp_group": pair.name}
    if pair.service:
        labels["service"] = pair.service
    return labels


def snmp_rows(pair: VrrpPair) -> str:
    """The pair's rows over SNMP: its devices, its VRID as `group`."""
    return (
        f"emops_fhrp_master{{device=~{any_of(pair.devices)}, "
        f"group={quote(str(pair.vrid))}, protocol=~{quote(FHRP_PROTOCOLS)}}}"
    )


def peek_rows(pair: VrrpPair) -> str:
    return devices_selector("emops_vrrp_master", pair.devices, segment=pair.segment)


def master(pair: VrrpPair) -> str:
    """The fused reading of one pair (`emops:vrrp_master`), per device."""
    return selector("emops:vrrp_master", segment=pair.segment, vrrp_group=pair.name)


def master_record(pair: VrrpPair) -> dict:
    snmp = snmp_rows(pair)
    return record(
        "emops:vrrp_master",
        f"""
        label_replace(max by (device) ({snmp}), "source", "snmp", "", "")
        or
        (
          label_replace(max by (device) ({peek_rows(pair)}), "source", "namespace", "", "")
          unless on () count({snmp})
        )
        """,
        {"segment": pair.segment, "vrrp_group": pair.name},
    )


def _listing(query: str, label: str, none: str) -> str:
    each = "{{ range $i, $s := . }}{{ if $i }}, {{ end }}"
    fmt = each + f"{{{{ $s.Labels.{label} }}}}{{{{ end }}}}"
    return evidence(literal(query), fmt, none=none, sort_by=label)


def pair_alerts(pair: VrrpPair, s: MonitorSettings) -> list[dict]:
    t = s.timing
    master_ = master(pair)
    holders = _listing(f"{master_} == 1", "device", "nobody")
    source = evidence(literal(master_), '{{ . | first | label "source" }}', none="no sensor")
    who = f"VRRP group {pair.name} (vrid {pair.vrid}) on {pair.segment}"
    devices = ", ".join(pair.devices)
    return [
        alert(
            "VrrpMasterChanged",
            f"sum(changes({master_}[{t.change_window}])) > 0",
            severity="info",
            labels=_labels(pair),
            summary=f"{who}: master changed",
            description=f"""
                The master of {who} changed ({{{{ $value }}}} transitions among {devices} in
                the last {t.change_window}); it is now held by {holders} (read by {source}).
                Expected after a failover; a pair that keeps changing is flapping.
                """,
        ),
        alert(
            "VrrpTwoMasters",
            f"sum({master_}) > 1",
            severity="page",
            wait=t.confirm_for,
            labels=_labels(pair),
            summary=f"{who}: {{{{ $value }}}} masters",
            description=f"""
                {{{{ $value }}}} devices hold the address of {who} at once: {holders}
                (read by {source}). Split brain: clients reach whichever answered ARP last.
                """,
        ),
        alert(
            "VrrpNoMaster",
            f"""
            ((sum({master_}) or vector(0)) == 0)
            and on ()
            (
                (count(count by (device) ({snmp_rows(pair)})) == {len(pair.devices)})
              or
                ({PEEK_RUNS} unless on () count({snmp_rows(pair)}))
            )
            """,
            severity="page",
            wait=t.confirm_for,
            labels=_labels(pair),
            summary=f"{who}: no master",
            description=f"""
                None of {devices} holds the address of {who} (read by {source}): the
                segment or service behind it is unreachable.
                """,
        ),
        disagree_alert(pair, s, who),
    ]


def disagree_alert(pair: VrrpPair, s: MonitorSettings, who: str) -> dict:
    """SNMP and the namespace peek, both present, name different masters."""
    snmp = f"max by (device) ({snmp_rows(pair)})"
    peek = f"max by (device) ({peek_rows(pair)})"
    return alert(
        "VrrpSnmpDisagrees",
        f"count({snmp} != on (device) {peek}) > 0",
        severity="info",
        wait=s.timing.crosscheck_for,
        labels=_labels(pair),
        summary=f"{who}: SNMP and the address holder disagree",
        description=f"""
            SNMP (emops_fhrp_master, group {pair.vrid}) names
            {_listing(f"{snmp} == 1", "device", "nobody")} as master, but the address is
            held by {_listing(f"{peek} == 1", "device", "nobody")} (namespace peek), for
            {s.timing.crosscheck_for}: one of the two sensors is wrong (an agent reporting a
            stale state, or a peek of the wrong interface).
            """,
    )
