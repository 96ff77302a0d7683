"""Links: is each link up (SNMP poll or trap), how full is it, is a site cut off.

The rules are generic over every link the collectors label (`link`, `link_role`,
`member` from the inventory); the link's site comes from the collectors'
`emops_link_capacity_bits_per_second`, which carries the inventory's site of the
link (its municipal end), not the site of the device that measured it.
"""

from __future__ import annotations

from emops.monitoring.promql import evidence, labelled, up_down
from emops.monitoring.rules.constructors import alert, record, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

LINK_ROLES = "primary|backup|lag|lan"  # interfaces on segments or management are not links
INTERFACE_LABELS = "device, site, role, ifname, link, link_role, member"


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.links` rule group."""
    return rule_group("emops.links", records(s) + alerts(s))


def records(s: MonitorSettings) -> list[dict]:
    """Per-interface sensor readings -> per-member -> per-link, with the link's site."""
    window = s.timing.rate_window
    return [
        record(
            "emops:interface_up:poll",
            f"""
            min by ({INTERFACE_LABELS}) (emops_interface_oper_up{{link_role=~"{LINK_ROLES}"}})
            """,
        ),
        # A trap is fast evidence, but a lost linkUp trap would pin it down forever:
        # it counts for trap_hold_seconds, after which the poll alone decides.
        record(
            "emops:interface_up:trap",
            f"""
            min by ({INTERFACE_LABELS}) (emops_interface_trap_oper_up{{link_role=~"{LINK_ROLES}"}})
            and on (device, ifname)
            (time() - max by (device, ifname) (emops_interface_trap_timestamp_seconds)
              < {s.timing.trap_hold_seconds})
            """,
        ),
        record(
            "emops:link_info",
            "group by (link, link_role, site) (emops_link_capacity_bits_per_second)",
        ),
        record(
            "emops:link_capacity_bits_per_second",
            "max by (link, link_role, site) (emops_link_capacity_bits_per_second)",
        ),
        # A member (or an unbundled link) is up only if both its ends say so.
        record(
            "emops:link_member_up:poll",
            """
            min by (link, link_role, member) (emops:interface_up:poll)
            * on (link, link_role) group_left (site) emops:link_info
            """,
        ),
        record(
            "emops:link_member_up:trap",
            """
            min by (link, link_role, member) (emops:interface_up:trap)
            * on (link, link_role) group_left (site) emops:link_info
            """,
        ),
        # Down if either sensor says down: poll OR (recent) trap.
        record(
            "emops:link_member_up",
            """
            min by (link, link_role, member, site) (
                label_replace(emops:link_member_up:poll, "sensor", "poll", "", "")
              or
                label_replace(emops:link_member_up:trap, "sensor", "trap", "", "")
            )
            """,
        ),
        record("emops:link_members", "count by (link, link_role, site) (emops:link_member_up)"),
        record("emops:link_members_up", "sum by (link, link_role, site) (emops:link_member_up)"),
        # The busier direction, as measured at either end (both ends see the same bits).
        record(
            "emops:link_bits_per_second",
            f"""
            max by (link, link_role) (
                label_replace(
                  8 * sum by (link, link_role, device) (
                    rate(emops_interface_transmit_bytes_total{{link_role=~"{LINK_ROLES}"}}[{window}])
                  ),
                  "direction", "transmit", "", "")
              or
                label_replace(
                  8 * sum by (link, link_role, device) (
                    rate(emops_interface_receive_bytes_total{{link_role=~"{LINK_ROLES}"}}[{window}])
                  ),
                  "direction", "receive", "", "")
            )
            * on (link, link_role) group_left (site) emops:link_info
            """,
        ),
        record(
            "emops:link_utilisation_ratio",
            """
            emops:link_bits_per_second
            / on (link, link_role, site) emops:link_capacity_bits_per_second
            """,
        ),
    ]


def _sensor(metric: str, by: str, none: str = "no data") -> str:
    """`up` / `down` / `none` for one sensor's reading of the link or site in the alert."""
    return up_down(labelled(f'max({metric}{{{by}="%s"}})', by), none=none)


def _site_sensor(metric: str, role: str, none: str = "no data") -> str:
    query = f'max({metric}{{site="%s", link_role="{role}"}})'
    return up_down(labelled(query, "site"), none=none)


SITE_PROBE = 'emops_probe_success{target="vip"}'  # the service VIP probed from each site


def alerts(s: MonitorSettings) -> list[dict]:
    t, th = s.timing, s.thresholds
    site_probe = up_down(
        labelled(f'min({SITE_PROBE[:-1]}, site="%s"}})', "site"),
        up="answers",
        down="fails",
        none="none runs",
    )
    floor = th.backup_floor_ratio
    poll = _sensor("emops:link_member_up:poll", "link")
    trap = _sensor("emops:link_member_up:trap", "link", none="no recent trap")
    backup_bits = evidence(
        labelled('max(emops:link_bits_per_second{site="%s", link_role="backup"})', "site"),
        "{{ . | first | value | humanize }}bit/s",
    )
    backup_members = evidence(
        labelled('sum(emops:link_members_up{site="%s", link_role="backup"})', "site")
    )
    members = evidence(labelled('emops:link_members{link="%s"}', "link"))
    private_name = evidence(
        labelled('emops:link_members_up{site="%s", link_role="primary"}', "site"),
        '{{ . | first | label "link" }}',
        none="(unknown)",
    )
    return [
        alert(
            "LinkDown",
            "emops:link_members_up == 0",
            severity="info",
            wait=None if t.link_for == "0s" else t.link_for,
            summary="{{ $labels.link_role }} link {{ $labels.link }} is down",
            description=f"""
                No member of link {{{{ $labels.link }}}} (site {{{{ $labels.site }}}}) works.
                Evidence: SNMP poll {poll}; trap {trap}. Either sensor alone is enough:
                both read the interfaces' own state.
                """,
        ),
        alert(
            "BundleDegraded",
            """
            (emops:link_members_up < on (link, link_role, site) emops:link_members)
            and (emops:link_members_up > 0)
            """,
            severity="info",
            wait=t.confirm_for,
            summary="bundle {{ $labels.link }} runs on {{ $value }} of its members",
            description=f"""
                Link {{{{ $labels.link }}}} (site {{{{ $labels.site }}}}) has
                {{{{ $value }}}} of {members} members up (SNMP poll {poll}; trap {trap}):
                capacity is reduced, not lost.
                """,
        ),
        alert(
            "WanUtilisationHigh",
            f'emops:link_utilisation_ratio{{link_role=~"primary|backup"}} > {th.max_utilisation:g}',
            severity="info",
            wait=t.sustain_for,
            summary="WAN link {{ $labels.link }} is {{ $value | humanizePercentage }} full",
            description=f"""
                Link {{{{ $labels.link }}}} (site {{{{ $labels.site }}}}) carried
                {{{{ $value | humanizePercentage }}}} of its capacity in its busier direction
                for {t.sustain_for}, above planning.max_utilisation
                {th.max_utilisation:g} (SNMP interface counters over
                emops_link_capacity_bits_per_second).
                """,
        ),
        alert(
            "BackupBundleCarryingTraffic",
            f'emops:link_utilisation_ratio{{link_role="backup"}} > {floor:g}',
            severity="info",
            wait=t.confirm_for,
            summary=(
                "backup {{ $labels.link }} carries traffic: site {{ $labels.site }} failed over"
            ),
            description=f"""
                Backup link {{{{ $labels.link }}}} carries {backup_bits}
                ({{{{ $value | humanizePercentage }}}} of capacity, floor {floor:g}), so the
                site's traffic left its private link. Private link: SNMP poll
                {_site_sensor("emops:link_member_up:poll", "primary")}; trap
                {_site_sensor("emops:link_member_up:trap", "primary", "no recent trap")}.
                """,
        ),
        # Fused: the private link down (poll or trap) AND the site really unable to
        # reach HQ: every backup member down, or the site's own VIP probe failing. An
        # idle backup is no evidence where a probe runs from the site (a quiet night
        # sends nothing over it); only a site without a probe falls back to reading an
        # idle backup as one routing did not move onto.
        alert(
            "WanSiteIsolated",
            f"""
            (max by (site) (emops:link_members_up{{link_role="primary"}}) == 0)
            and on (site)
            (
                (max by (site) (emops:link_members_up{{link_role="backup"}}) == 0)
              or
                (min by (site) ({SITE_PROBE}) == 0)
              or
                (
                  (max by (site) (emops:link_utilisation_ratio{{link_role="backup"}}) <= {floor:g})
                  unless on (site) (max by (site) ({SITE_PROBE}))
                )
            )
            """,
            severity="page",
            wait=t.isolation_for,
            summary="site {{ $labels.site }} is cut off from HQ",
            description=f"""
                Private link {private_name} is down (SNMP poll
                {_site_sensor("emops:link_member_up:poll", "primary")}; trap
                {_site_sensor("emops:link_member_up:trap", "primary", "no recent trap")})
                and the site does not reach HQ: VIP probe from the site {site_probe};
                {backup_members} backup members up, carrying {backup_bits} (floor {floor:g}
                of capacity, judged only where no probe runs from the site).
                """,
        ),
    ]
