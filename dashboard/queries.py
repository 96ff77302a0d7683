"""Every PromQL expression the dashboard sends, named by the KPI it answers.

Metric names and labels are docs/metrics.md's contract; HAProxy's `haproxy_*`
metrics are its own. The expressions use raw series, not the recording rules,
so the dashboard works against any Prometheus that scrapes the collectors
(recording rules may be missing, e.g. while the rules are being reloaded).

Windows are PromQL durations ("3600s"); `resolution` is a subquery step.

KPI definitions (docs/dashboard.md explains them):
- availability: share of the time the service answered the VIP probe from at
  least one site (the service was up somewhere);
- downtime rate: share of VIP probe requests, from every site, that failed
  (what users saw, WAN outages included);
- request delay: p50 / p95 of the VIP probe's latency histogram.
"""

from __future__ import annotations

import json

VIP = 'target="vip"'
LINK_ROLES = "primary|backup|lag|lan"  # segments and management ports are not links
MONITORING_PRESENT = "group(emops_snmp_up) or group(emops_probe_success)"
ACTIVE_ALERTS = 'count(ALERTS{alertstate="firing"}) or vector(0)'
FIRED_ALERTS = 'ALERTS{alertstate="firing"}'


def quote(value: str) -> str:
    """A PromQL string literal (Go escaping, which JSON's matches for inventory names)."""
    return json.dumps(value)


def _links(link: str | None) -> str:
    """The link selector: every real link, or just `link`."""
    return f'link_role=~"{LINK_ROLES}"' + (f", link={quote(link)}" if link else "")


# --- service KPIs (Overview) ------------------------------------------------------


def availability(window: str, resolution: str) -> str:
    service_up = f"max by (service) (emops_probe_success{{{VIP}}})"
    return f"avg(avg_over_time(({service_up})[{window}:{resolution}]))"


def site_probe_success(site: str, window: str) -> str:
    """Share of VIP probes from one site that succeeded."""
    return f"avg(avg_over_time(emops_probe_success{{{VIP}, site={quote(site)}}}[{window}]))"


def probe_success_by_site(window: str) -> str:
    return f"avg by (site) (avg_over_time(emops_probe_success{{{VIP}}}[{window}]))"


def downtime_rate(window: str) -> str:
    return f"1 - avg(avg_over_time(emops_probe_success{{{VIP}}}[{window}]))"


def request_delay(quantile: float, window: str, by: str = "") -> str:
    """The `quantile` of VIP probe latency in seconds (per `by` labels if given)."""
    group = f"le, {by}" if by else "le"
    buckets = f"rate(emops_probe_duration_seconds_bucket{{{VIP}}}[{window}])"
    return f"histogram_quantile({quantile:g}, sum by ({group}) ({buckets}))"


def devices_answering() -> str:
    return "sum(max by (device) (emops_snmp_up))"


def devices_polled() -> str:
    return "count(max by (device) (emops_snmp_up))"


# --- links (Topology, WAN capacity) ----------------------------------------------


def link_bits_per_second(window: str, link: str | None = None) -> str:
    """The busier direction of each link: the larger of its ends' transmit rates."""
    per_end = (
        "8 * sum by (link, link_role, device) "
        f"(rate(emops_interface_transmit_bytes_total{{{_links(link)}}}[{window}]))"
    )
    return f"max by (link, link_role) ({per_end})"


def link_capacity(link: str | None = None) -> str:
    selector = f"{{link={quote(link)}}}" if link else ""
    return f"max by (link, link_role, site) (emops_link_capacity_bits_per_second{selector})"


def link_utilisation(window: str, link: str | None = None) -> str:
    """Busier direction / the inventory's capacity (rate x members), 0..1."""
    return f"{link_bits_per_second(window, link)} / on (link, link_role) ({link_capacity(link)})"


def link_peak_utilisation(window: str, now_window: str, resolution: str) -> str:
    return f"max_over_time(({link_utilisation(now_window)})[{window}:{resolution}])"


def link_members_up(link: str | None = None) -> str:
    """1 per bundle member (or whole link) whose every end reports ifOperStatus up."""
    return f"min by (link, link_role, member) (emops_interface_oper_up{{{_links(link)}}})"


def device_up() -> str:
    """1 if the device's SNMP agent answered the last poll."""
    return "max by (device, site, role) (emops_snmp_up)"


# --- server groups ------------------------------------------------------------------


def probe_success_by_target(window: str) -> str:
    return f"avg by (service, target) (avg_over_time(emops_probe_success[{window}]))"


def probe_delay_by_target(quantile: float, window: str) -> str:
    buckets = f"rate(emops_probe_duration_seconds_bucket[{window}])"
    return f"histogram_quantile({quantile:g}, sum by (le, service, target) ({buckets}))"


def device_cpu() -> str:
    return "max by (device) (emops_device_cpu_load_ratio)"


def haproxy_server_state() -> str:
    """One series per (balancer, backend, server), labelled with its current state."""
    return "haproxy_server_status == 1"


def haproxy_backend_active() -> str:
    return "haproxy_backend_active_servers"


def postgres_up() -> str:
    return "max by (device) (emops_postgres_up)"


def replication_lag() -> str:
    return "max by (device) (emops_postgres_replication_lag_seconds)"
