"""Prometheus exposition of the SNMP poller (docs/metrics.md, job `emops-snmp`).

client_python style: `collect()` builds fresh metric families from the
poller's latest results on every scrape, so nothing global carries over and a
target that stopped answering simply shows `emops_snmp_up 0` and no data.
Interface counters are exported raw (Counter64 as read): Prometheus' rate()
handles agent restarts and counter resets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.links import UNLINKED, LinkRef
from collectors.snmp.poller import InterfaceSample, PollResult

DEVICE_LABELS = ["device", "site", "role"]
INTERFACE_LABELS = [*DEVICE_LABELS, "ifname", "link", "link_role", "member"]
IF_UP = 1  # ifOperStatus / ifAdminStatus up(1)

# metric name, help, InterfaceSample field, kind
_INTERFACE_COUNTERS = (
    ("emops_interface_receive_bytes_total", "IF-MIB ifHCInOctets", "in_octets"),
    ("emops_interface_transmit_bytes_total", "IF-MIB ifHCOutOctets", "out_octets"),
    ("emops_interface_receive_errors_total", "IF-MIB ifInErrors", "in_errors"),
    ("emops_interface_transmit_errors_total", "IF-MIB ifOutErrors", "out_errors"),
    ("emops_interface_receive_discards_total", "IF-MIB ifInDiscards", "in_discards"),
    ("emops_interface_transmit_discards_total", "IF-MIB ifOutDiscards", "out_discards"),
)


def device_labels(result: PollResult) -> list[str]:
    t = result.target
    return [t.device, t.site, t.role]


class SnmpCollector(Collector):
    """Yields the SNMP families from `results()` (device -> latest PollResult)."""

    def __init__(
        self,
        results: Callable[[], Mapping[str, PollResult]],
        links: Mapping[tuple[str, str], LinkRef] | None = None,
        capacities: Sequence[tuple[str, str, str, float]] = (),
    ) -> None:
        self._results = results
        self._links = links or {}
        self._capacities = capacities

    def link_of(self, device: str, ifname: str) -> LinkRef:
        return self._links.get((device, ifname), UNLINKED)

    def collect(self) -> Iterator[Metric]:
        results = sorted(dict(self._results()).values(), key=lambda r: r.target.device)
        yield from self._self_report(results)
        yield from self._device(results)
        yield from self._interfaces(results)
        capacity = GaugeMetricFamily(
            "emops_link_capacity_bits_per_second",
            "Inventory link rate x members (not SNMP)",
            labels=["link", "link_role", "site"],
        )
        for link, role, site, bps in self._capacities:
            capacity.add_metric([link, role, site], bps)
        yield capacity

    def _self_report(self, results: list[PollResult]) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "emops_snmp_up", "1 if the last poll of the target answered", labels=DEVICE_LABELS
        )
        duration = GaugeMetricFamily(
            "emops_snmp_scrape_duration_seconds",
            "Wall time of the last poll of the target",
            labels=DEVICE_LABELS,
        )
        packets = CounterMetricFamily(
            "emops_snmp_packets_total", "SNMP request PDUs sent", labels=DEVICE_LABELS
        )
        retries = CounterMetricFamily(
            "emops_snmp_retries_total", "SNMP requests sent again", labels=DEVICE_LABELS
        )
        errors = CounterMetricFamily(
            "emops_snmp_errors_total",
            "Failed polls by reason (timeout, auth, malformed, refused, ...)",
            labels=[*DEVICE_LABELS, "reason"],
        )
        for r in results:
            labels = device_labels(r)
            up.add_metric(labels, 1.0 if r.up else 0.0)
            duration.add_metric(labels, r.duration_s)
            packets.add_metric(labels, r.packets_total)
            retries.add_metric(labels, r.retries_total)
            for reason, count in sorted(r.errors_total.items()):
                errors.add_metric([*labels, reason], count)
        yield from (up, duration, packets, retries, errors)

    def _device(self, results: list[PollResult]) -> Iterator[Metric]:
        families = {
            "uptime_s": GaugeMetricFamily(
                "emops_device_uptime_seconds", "sysUpTime / 100", labels=DEVICE_LABELS
            ),
            "cpu_load_ratio": GaugeMetricFamily(
                "emops_device_cpu_load_ratio", "Mean hrProcessorLoad / 100", labels=DEVICE_LABELS
            ),
            "memory_used_bytes": GaugeMetricFamily(
                "emops_device_memory_used_bytes", "hrStorageRam used", labels=DEVICE_LABELS
            ),
            "memory_size_bytes": GaugeMetricFamily(
                "emops_device_memory_size_bytes", "hrStorageRam size", labels=DEVICE_LABELS
            ),
        }
        for r in results:
            if not r.up:
                continue
            for attr, family in families.items():
                value = getattr(r, attr)
                if value is not None:
                    family.add_metric(device_labels(r), value)
        yield from families.values()

    def _interfaces(self, results: list[PollResult]) -> Iterator[Metric]:
        counters = [
            (CounterMetricFamily(name, text, labels=INTERFACE_LABELS), attr)
            for name, text, attr in _INTERFACE_COUNTERS
        ]
        oper = GaugeMetricFamily(
            "emops_interface_oper_up", "ifOperStatus == up(1)", labels=INTERFACE_LABELS
        )
        admin = GaugeMetricFamily(
            "emops_interface_admin_up", "ifAdminStatus == up(1)", labels=INTERFACE_LABELS
        )
        speed = GaugeMetricFamily(
            "emops_interface_speed_bits_per_second", "ifHighSpeed x 10^6", labels=INTERFACE_LABELS
        )
        for r in results:
            if not r.up:
                continue
            for ifc in r.interfaces:
                labels = self._interface_labels(r, ifc)
                for family, attr in counters:
                    value = getattr(ifc, attr)
                    if value is not None:
                        family.add_metric(labels, value)
                if ifc.oper_status is not None:
                    oper.add_metric(labels, 1.0 if ifc.oper_status == IF_UP else 0.0)
                if ifc.admin_status is not None:
                    admin.add_metric(labels, 1.0 if ifc.admin_status == IF_UP else 0.0)
                if ifc.high_speed_mbps is not None:
                    speed.add_metric(labels, ifc.high_speed_mbps * 1e6)
        yield from (family for family, _ in counters)
        yield from (oper, admin, speed)

    def _interface_labels(self, r: PollResult, ifc: InterfaceSample) -> list[str]:
        ref = self.link_of(r.target.device, ifc.name)
        return [*device_labels(r), ifc.name, ref.link, ref.link_role, ref.member]
