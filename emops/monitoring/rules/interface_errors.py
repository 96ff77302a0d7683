"""Interface errors and discards rising, on the interfaces the inventory knows.

Only interfaces the inventory places on a link or segment are judged (every
WAN/LAN link, bundle member and server-segment port: the paths the service
uses, labelled with the link they carry). An access switch's unused ports, a
stack port, NULL0 or a management port carry no service traffic; their errors
(a user's bad patch cable) would be noise to the people watching the service.
A port that is down is LinkDown's business, so only ports that are up are judged.
"""

from __future__ import annotations

from emops.monitoring.rules.constructors import alert, expr, record, rule_group
from emops.monitoring.rules.links import INTERFACE_LABELS, LINK_ROLES
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

KNOWN = f"{LINK_ROLES}|segment"  # interfaces on inventory links and segments


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.interface_errors` rule group."""
    return rule_group(
        "emops.interface_errors",
        [rate_record(kind, s) for kind in ("errors", "discards")] + [rising_alert(s)],
    )


def rate_record(kind: str, s: MonitorSettings) -> dict:
    """`emops:interface_<kind>_per_second{..., direction}`: both directions, one series each."""
    w = s.timing.rate_window
    parts = [
        f"""
        sum by ({INTERFACE_LABELS}, direction) (
          label_replace(
            rate(emops_interface_{direction}_{kind}_total{{link_role=~"{KNOWN}"}}[{w}]),
            "direction", "{direction}", "", "")
        )
        """
        for direction in ("receive", "transmit")
    ]
    return record(f"emops:interface_{kind}_per_second", "\nor\n".join(map(expr, parts)))


def rising_alert(s: MonitorSettings) -> dict:
    t, th = s.timing, s.thresholds
    errors, discards = th.interface_errors_per_second, th.interface_discards_per_second
    return alert(
        "InterfaceErrorsRising",
        f"""
        (
            label_replace(emops:interface_errors_per_second > {errors:g}, "kind", "errors", "", "")
          or
            label_replace(
              emops:interface_discards_per_second > {discards:g}, "kind", "discards", "", ""
            )
        )
        and on (device, ifname) (max by (device, ifname) (emops_interface_oper_up) == 1)
        """,
        severity="info",
        wait=t.health_for,
        summary=(
            "{{ $labels.device }} {{ $labels.ifname }}: {{ $labels.direction }} "
            "{{ $labels.kind }} rising"
        ),
        description=f"""
            Interface {{{{ $labels.ifname }}}} of {{{{ $labels.device }}}} (site
            {{{{ $labels.site }}}}, {{{{ $labels.link_role }}}} {{{{ $labels.link }}}}) counts
            {{{{ $value | printf "%.2f" }}}} {{{{ $labels.direction }}}} {{{{ $labels.kind }}}}
            per second over {t.rate_window}, for {t.health_for} (thresholds: errors
            {errors:g}/s, discards {discards:g}/s). Errors point at the line or a
            transceiver, discards at congestion or a queue too small.
            """,
    )
