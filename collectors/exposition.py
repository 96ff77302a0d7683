"""Prometheus exposition of the SNMP poller (docs/metrics.md, job `emops-snmp`).

client_python style: `collect()` builds fresh metric families from the
poller's latest results on every scrape, so nothing global carries over and a
target that stopped answering simply shows `emops_snmp_up 0` and no data.
Interface counters are exported raw (Counter64, else Counter32, as read):
Prometheus' rate() handles agent restarts, counter resets and (one per interval at
most) 32-bit wraps; docs/collectors.md, "Counters, wraps and reboots".

Each device's samples are built under its own guard (collectors/families.py):
a device whose data cannot be exposed is dropped from that scrape, shown as
`emops_snmp_up 0` and counted in `emops_snmp_errors_total{reason="bad_value"}`;
the other devices are always served.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.families import BAD_VALUE, DropCounts, fill_guarded
from collectors.links import UNLINKED, LinkRef
from collectors.snmp.poller import InterfaceSample, PollResult
from collectors.snmp.profiles import oid_text

DEVICE_LABELS = ["device", "site", "role"]
INTERFACE_LABELS = [*DEVICE_LABELS, "ifname", "link", "link_role", "member"]
IF_UP = 1  # ifOperStatus / ifAdminStatus up(1)

# metric name, help, InterfaceSample field
_INTERFACE_COUNTERS = (
    (
        "emops_interface_receive_bytes_total",
        "IF-MIB ifHCInOctets, else ifInOctets (see emops_interface_counter_bits)",
        "in_octets",
    ),
    (
        "emops_interface_transmit_bytes_total",
        "IF-MIB ifHCOutOctets, else ifOutOctets (see emops_interface_counter_bits)",
        "out_octets",
    ),
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
        self._dropped = DropCounts()  # device -> scrapes that dropped its data

    def link_of(self, device: str, ifname: str) -> LinkRef:
        return self._links.get((device, ifname), UNLINKED)

    def collect(self) -> Iterator[Metric]:
        results = sorted(dict(self._results()).values(), key=lambda r: r.target.device)
        data = {**self._device_families(), **self._interface_families()}
        dropped: set[str] = set()
        for r in results:
            if r.up and not fill_guarded(data, r.target.device, partial(self._fill_data, r)):
                dropped.add(r.target.device)
        yield from self._self_report(results, dropped)
        yield from data.values()
        yield from self._profile_families(results, dropped)
        capacity = GaugeMetricFamily(
            "emops_link_capacity_bits_per_second",
            "Inventory link rate x members (not SNMP)",
            labels=["link", "link_role", "site"],
        )
        for link, role, site, bps in self._capacities:
            capacity.add_metric([link, role, site], bps)
        yield capacity

    def _self_report(self, results: list[PollResult], dropped: set[str]) -> Iterator[Metric]:
        families: dict[str, Metric] = {
            "up": GaugeMetricFamily(
                "emops_snmp_up",
                "1 if the last poll of the target answered and its data could be exposed",
                labels=DEVICE_LABELS,
            ),
            "duration": GaugeMetricFamily(
                "emops_snmp_scrape_duration_seconds",
                "Wall time of the last poll of the target",
                labels=DEVICE_LABELS,
            ),
            "packets": CounterMetricFamily(
                "emops_snmp_packets_total", "SNMP request PDUs sent", labels=DEVICE_LABELS
            ),
            "retries": CounterMetricFamily(
                "emops_snmp_retries_total", "SNMP requests sent again", labels=DEVICE_LABELS
            ),
            "errors": CounterMetricFamily(
                "emops_snmp_errors_total",
                "Failed polls by reason (timeout, auth, malformed, refused, ...); "
                "bad_value: scrapes that dropped the device's data",
                labels=[*DEVICE_LABELS, "reason"],
            ),
        }
        for r in results:
            device = r.target.device
            fill = partial(self._fill_self_report, r, r.up and device not in dropped)
            if not fill_guarded(families, device, fill) or device in dropped:
                self._dropped.add(device)
            bad = self._dropped.get(device)
            if bad:
                families["errors"].add_metric([*device_labels(r), BAD_VALUE], bad)
        yield from families.values()

    @staticmethod
    def _fill_self_report(r: PollResult, up: bool, families: Mapping[str, Metric]) -> None:
        labels = device_labels(r)
        families["up"].add_metric(labels, 1.0 if up else 0.0)
        families["duration"].add_metric(labels, r.duration_s)
        families["packets"].add_metric(labels, r.packets_total)
        families["retries"].add_metric(labels, r.retries_total)
        for reason, count in sorted(r.errors_total.items()):
            if reason != BAD_VALUE:  # the exposition's own count, added after
                families["errors"].add_metric([*labels, reason], count)

    @staticmethod
    def _device_families() -> dict[str, Metric]:
        return {
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

    @staticmethod
    def _interface_families() -> dict[str, Metric]:
        families: dict[str, Metric] = {
            attr: CounterMetricFamily(name, text, labels=INTERFACE_LABELS)
            for name, text, attr in _INTERFACE_COUNTERS
        }
        families["oper"] = GaugeMetricFamily(
            "emops_interface_oper_up", "ifOperStatus == up(1)", labels=INTERFACE_LABELS
        )
        families["admin"] = GaugeMetricFamily(
            "emops_interface_admin_up", "ifAdminStatus == up(1)", labels=INTERFACE_LABELS
        )
        families["speed"] = GaugeMetricFamily(
            "emops_interface_speed_bits_per_second",
            "ifSpeed where exact, else ifHighSpeed x 10^6",
            labels=INTERFACE_LABELS,
        )
        families["bits"] = GaugeMetricFamily(
            "emops_interface_counter_bits",
            "Width of the byte counters exported for the interface: 64 (ifHCIn/OutOctets) "
            "or 32 (ifIn/OutOctets: wraps every 2^32 bytes)",
            labels=INTERFACE_LABELS,
        )
        return families

    def _fill_data(self, r: PollResult, families: Mapping[str, Metric]) -> None:
        """One device's gauges and interface series."""
        labels = device_labels(r)
        for attr in ("uptime_s", "cpu_load_ratio", "memory_used_bytes", "memory_size_bytes"):
            value = getattr(r, attr)
            if value is not None:
                families[attr].add_metric(labels, value)
        named: set[str] = set()
        for ifc in r.interfaces:
            if ifc.name in named:
                continue  # two rows of one name would be one series twice: the first wins
            named.add(ifc.name)
            if_labels = self._interface_labels(r, ifc)
            for _, _, attr in _INTERFACE_COUNTERS:
                value = getattr(ifc, attr)
                if value is not None:
                    families[attr].add_metric(if_labels, value)
            if ifc.oper_status is not None:
                families["oper"].add_metric(if_labels, 1.0 if ifc.oper_status == IF_UP else 0.0)
            if ifc.admin_status is not None:
                families["admin"].add_metric(if_labels, 1.0 if ifc.admin_status == IF_UP else 0.0)
            speed = ifc.speed_bits_per_second
            if speed is not None:
                families["speed"].add_metric(if_labels, speed)
            if ifc.counter_bits is not None:
                families["bits"].add_metric(if_labels, ifc.counter_bits)

    @staticmethod
    def _profile_families(results: list[PollResult], dropped: set[str]) -> Iterator[Metric]:
        """The device profiles' metrics (collectors/profiles/), the profile in use and
        the groups it promised that gave nothing: missing data is a signal, not a gap."""
        info = GaugeMetricFamily(
            "emops_snmp_profile_info",
            "1 per polled device: the device profile chosen by its sysObjectID",
            labels=[*DEVICE_LABELS, "profile", "sysobjectid"],
        )
        missing = GaugeMetricFamily(
            "emops_snmp_profile_missing",
            "1 if the device's profile promises this group (cpu, memory, ...) but the "
            "device returned none of it, else 0",
            labels=[*DEVICE_LABELS, "profile", "group"],
        )
        families: dict[str, Metric] = {}
        for r in results:
            if not r.up or r.target.device in dropped or not r.profile:
                continue
            labels = device_labels(r)
            info.add_metric([*labels, r.profile, oid_text(r.sys_object_id)], 1.0)
            for group in sorted({s.spec.group for s in r.profile_samples} | {*r.profile_missing}):
                missing.add_metric([*labels, r.profile, group], float(group in r.profile_missing))
            for sample in r.profile_samples:
                spec = sample.spec
                family = families.get(spec.name)
                if family is None:
                    kind = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
                    names = [*DEVICE_LABELS, *(label.name for label in spec.labels)]
                    family = families[spec.name] = kind(spec.name, spec.help, labels=names)
                family.add_metric([*labels, *sample.labels], sample.value)
        yield info
        yield missing
        yield from families.values()

    def _interface_labels(self, r: PollResult, ifc: InterfaceSample) -> list[str]:
        ref = self.link_of(r.target.device, ifc.name)
        return [*device_labels(r), ifc.name, ref.link, ref.link_role, ref.member]
