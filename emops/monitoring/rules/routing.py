"""Routing: every OSPF adjacency the inventory implies must be up (OSPF-MIB ospfNbrState).

The expected adjacencies are written out as series (`emops:ospf_neighbor_expected`,
one per router and neighbour address, its value the lowest acceptable state), so
one alert compares them with what the routers report. An adjacency is lost when
its row is below that state or gone. Each is judged on the router that lost it,
and named after the peer's inventory name, not only its address.

Not judged, because another alert already says it (one fault, one alert):
- the router itself does not answer SNMP (`SnmpTargetDown`), or reports no OSPF
  neighbour at all (no OSPF-MIB in its profile or agent: a router whose whole
  table emptied is still seen lost from each of its peers);
- the peer does not answer SNMP (`SnmpTargetDown` on the peer: it is down);
- the link or bundle member under the adjacency is down (`LinkDown`, `BundleDegraded`).
What is left is routing lost over a working link: a protocol, timer or
authentication fault that only OSPF shows.
"""

from __future__ import annotations

from emops.monitoring.inventory_view import OspfAdjacency, ospf_adjacencies
from emops.monitoring.promql import evidence, labelled
from emops.monitoring.rules.constructors import alert, record, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

KEY = "device, address"  # one OSPF-MIB row: the router and its neighbour's address


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.routing` rule group (empty when no router runs OSPF)."""
    adjacencies = ospf_adjacencies(topo)
    if not adjacencies:
        return rule_group("emops.routing", [])
    return rule_group("emops.routing", [expected(a) for a in adjacencies] + [lost_alert(s)])


def expected(a: OspfAdjacency) -> dict:
    labels = {
        "device": a.device,
        "site": a.site,
        "role": a.role,
        "neighbor_device": a.neighbor_device,
        "neighbor": a.neighbor,
        "address": a.address,
        "link": a.link,
        "member": a.member,
    }
    return record("emops:ospf_neighbor_expected", f"vector({a.min_state})", labels)


def lost_alert(s: MonitorSettings) -> dict:
    state = evidence(
        labelled('max(emops_ospf_neighbor_state{device="%s", address="%s"})', "device", "address"),
        "in state {{ . | first | value }}",
        none="gone from its neighbour table",
    )
    return alert(
        "OspfNeighborLost",
        f"""
        (
          emops:ospf_neighbor_expected
          unless on ({KEY})
          (
            max by ({KEY}) (emops_ospf_neighbor_state)
            >= on ({KEY}) emops:ospf_neighbor_expected
          )
        )
        and on (device) (max by (device) (emops_snmp_up) == 1)
        and on (device) (count by (device) (emops_ospf_neighbor_state))
        unless on (neighbor_device)
          label_replace(
            max by (device) (emops_snmp_up) == 0, "neighbor_device", "$1", "device", "(.*)"
          )
        unless on (link) (max by (link) (emops:link_member_up) == 0)
        unless on (link, member) (emops:link_member_up == 0)
        """,
        severity="info",
        wait=s.timing.confirm_for,
        summary="{{ $labels.device }} lost OSPF neighbour {{ $labels.neighbor_device }}",
        description=f"""
            {{{{ $labels.device }}}} ({{{{ $labels.role }}}}, site {{{{ $labels.site }}}}) lost
            its OSPF adjacency with {{{{ $labels.neighbor_device }}}} (router id
            {{{{ $labels.neighbor }}}}, address {{{{ $labels.address }}}}) on
            {{{{ $labels.link }}}}: the neighbour is {state}, although both routers
            answer SNMP and the link is up. Traffic takes another path if there is one.
            """,
    )
