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


def haproxy_server_state() -> str:
    """One series per (balancer, backend, server), labelled with its current state."""
    return "haproxy_server_status == 1"


def haproxy_backend_active() -> str:
    return "haproxy_backend_active_servers"


def postgres_up() -> str:
    return "max by (device) (emops_postgres_up)"


def replication_lag() -> str:
    return "max by (device) (emops_postgres_replication_lag_seconds)"


# --- device health (Server groups, Topology, Device) ---------------------------------
# One number per device, for every device at once (or one, with `device`): the vendor
# profile's reading where the device has one, else HOST-RESOURCES'.


def _device(device: str | None) -> str:
    return f"{{device={quote(device)}}}" if device else ""


def device_cpu(device: str | None = None) -> str:
    """The busiest CPU, 0..1: the profile's per-entity utilisation, else hrProcessorLoad."""
    d = _device(device)
    vendor = f"max by (device) (emops_cpu_utilization_ratio{d})"
    return f"{vendor} or max by (device) (emops_device_cpu_load_ratio{d})"


def device_memory(device: str | None = None) -> str:
    """Memory in use, 0..1: the busiest entity, else memory pools, else RAM less buffers/cache."""
    d = _device(device)
    vendor = f"max by (device) (emops_memory_utilization_ratio{d})"
    pool_used = f"sum by (device) (emops_memory_pool_used_bytes{d})"
    pools = f"{pool_used} / ({pool_used} + sum by (device) (emops_memory_pool_free_bytes{d}))"
    used = f"max by (device) (emops_device_memory_used_bytes{d})"
    cache = (
        f"max by (device) (emops_memory_buffers_bytes{d}) "
        f"+ max by (device) (emops_memory_cached_bytes{d})"
    )
    size = f"max by (device) (emops_device_memory_size_bytes{d})"
    return f"{vendor} or ({pools}) or (({used} - ({cache} or 0 * {used})) / {size})"


def device_temperature_max(device: str | None = None) -> str:
    return f"max by (device) (emops_sensor_temperature_celsius{_device(device)})"


def device_uptime(device: str | None = None) -> str:
    return f"max by (device) (emops_device_uptime_seconds{_device(device)})"


# --- one device (Device page) ----------------------------------------------------------

DEVICE_GAUGES = (  # docs/metrics.md: everything a device's poll leaves, read in one answer
    "emops_snmp_up",
    "emops_snmp_profile_info",
    "emops_snmp_profile_missing",
    "emops_device_uptime_seconds",
    "emops_device_cpu_load_ratio",
    "emops_device_memory_used_bytes",
    "emops_device_memory_size_bytes",
    "emops_cpu_utilization_ratio",
    "emops_memory_utilization_ratio",
    "emops_memory_size_bytes",
    "emops_memory_pool_used_bytes",
    "emops_memory_pool_free_bytes",
    "emops_memory_buffers_bytes",
    "emops_memory_cached_bytes",
    "emops_sensor_temperature_celsius",
    "emops_sensor_temperature_high_celsius",
    "emops_sensor_voltage_volts",
    "emops_fan_ok",
    "emops_power_supply_ok",
    "emops_optics_rx_power_dbm",
    "emops_optics_tx_power_dbm",
    "emops_optics_rx_power_low_dbm",
    "emops_optics_rx_power_high_dbm",
    "emops_fhrp_master",
    "emops_ospf_neighbor_state",
    "emops_vrrp_master",
    "emops_interface_oper_up",
    "emops_interface_admin_up",
    "emops_interface_speed_bits_per_second",
)
INTERFACE_COUNTERS = (  # emops_interface_<name>_total
    "receive_bytes",
    "transmit_bytes",
    "receive_errors",
    "transmit_errors",
    "receive_discards",
    "transmit_discards",
)


def device_gauges(device: str) -> str:
    """Every gauge of DEVICE_GAUGES the device has, each keeping its `__name__`."""
    return f'{{__name__=~"{"|".join(DEVICE_GAUGES)}", device={quote(device)}}}'


def interface_rates(
    device: str, window: str, counters: tuple[str, ...] = INTERFACE_COUNTERS
) -> str:
    """Per-second rate of each interface counter, labelled `counter` (rate() drops names)."""
    d = f"{{device={quote(device)}}}"
    return " or ".join(
        f'label_replace(rate(emops_interface_{c}_total{d}[{window}]), "counter", "{c}", "", "")'
        for c in counters
    )


def device_cpu_history(device: str) -> str:
    """Per CPU entity; HOST-RESOURCES' mean load as one more line."""
    d = f"{{device={quote(device)}}}"
    host = f"max(emops_device_cpu_load_ratio{d})"
    return (
        f"max by (entity) (emops_cpu_utilization_ratio{d}) "
        f'or label_replace({host}, "entity", "all processors (mean)", "", "")'
    )


def device_temperature_history(device: str) -> str:
    return f"max by (entity) (emops_sensor_temperature_celsius{{device={quote(device)}}})"


def interface_bits_per_second(device: str, direction: str, window: str) -> str:
    """`direction` receive | transmit, per ifname."""
    counter = f"emops_interface_{direction}_bytes_total{{device={quote(device)}}}"
    return f"8 * sum by (ifname) (rate({counter}[{window}]))"


def interface_errors_per_second(device: str, window: str) -> str:
    """Errors and discards, both directions, per ifname."""
    faults = tuple(c for c in INTERFACE_COUNTERS if not c.endswith("bytes"))
    return f"sum by (ifname) ({interface_rates(device, window, faults)})"
