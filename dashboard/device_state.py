"""One device as its metrics describe it now: tables for the Device page, from two answers.

Pure functions over samples (one answer with every gauge of the device, one
with its interface counters' rates), so the page and the tests read the
metrics one way. Each table is a list of rows of formatted strings; an empty
list means the device reported nothing for it, which the page says out loud.

Thresholds are the device's own (the MIB's alarm levels), never guessed: a
sensor without one shows "no threshold", not "ok".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dashboard import formatting
from dashboard.prometheus import Sample
from dashboard.views_common import by_label as _by

# OSPF-MIB ospfNbrState
OSPF_STATES = {1: "down", 2: "attempt", 3: "init", 4: "twoWay", 5: "exchangeStart",
               6: "exchange", 7: "loading", 8: "full"}  # fmt: skip
OSPF_FULL = 8
# emops_snmp_profile_missing{group} -> what the page calls it
GROUPS = {"cpu": "CPU", "memory": "memory", "temperature": "temperature", "voltage": "voltage",
          "fans": "fans", "power": "power supplies", "optics": "optics", "fhrp": "FHRP",
          "ospf": "OSPF neighbours"}  # fmt: skip
CACHE_METRICS = ("emops_memory_buffers_bytes", "emops_memory_cached_bytes")  # net-snmp RAM rows
INTERFACE_COLUMNS = (  # (column, counter of queries.INTERFACE_COUNTERS)
    ("in", "receive_bytes"),
    ("out", "transmit_bytes"),
    ("in errors", "receive_errors"),
    ("out errors", "transmit_errors"),
    ("in discards", "receive_discards"),
    ("out discards", "transmit_discards"),
)


def _ok(value: float) -> str:
    """emops_fan_ok / emops_power_supply_ok: 1 normal, 0 failed or abnormal."""
    return "ok" if value >= 1 else "FAILED"


@dataclass(frozen=True)
class DeviceState:
    """A device's gauges by metric name, and its interface rates by counter name."""

    gauges: dict[str, list[Sample]]
    rates: dict[str, list[Sample]]

    @classmethod
    def read(cls, gauges: list[Sample], rates: list[Sample]) -> DeviceState:
        by_name: dict[str, list[Sample]] = defaultdict(list)
        for s in gauges:
            by_name[s.labels.get("__name__", "")].append(s)
        by_counter: dict[str, list[Sample]] = defaultdict(list)
        for s in rates:
            by_counter[s.labels.get("counter", "")].append(s)
        return cls(dict(by_name), dict(by_counter))

    def of(self, metric: str) -> list[Sample]:
        return self.gauges.get(metric, [])

    # --- what the device is ---------------------------------------------------------

    @property
    def snmp_up(self) -> bool | None:
        found = self.of("emops_snmp_up")
        return None if not found else max(s.value for s in found) >= 1

    @property
    def profile(self) -> tuple[str, str] | None:
        """(profile, sysObjectID) the poller chose for the device."""
        found = self.of("emops_snmp_profile_info")
        if not found:
            return None
        labels = found[0].labels
        return labels.get("profile", ""), labels.get("sysobjectid", "")

    @property
    def missing(self) -> list[str]:
        """Groups the profile promises and the device returned none of (cpu, fans, ...)."""
        found = self.of("emops_snmp_profile_missing")
        return sorted(s.labels.get("group", "") for s in found if s.value >= 1)

    # --- health ---------------------------------------------------------------------

    def entities(self, metric: str, label: str = "entity") -> dict[str, float]:
        """{entity: value} of one metric, sorted by entity."""
        return dict(sorted(_by(self.of(metric), label).items()))

    def _single(self, metric: str) -> float | None:
        found = self.of(metric)
        return found[0].value if found else None

    def cpu_rows(self) -> list[dict]:
        cpus = self.entities("emops_cpu_utilization_ratio")
        host = self._single("emops_device_cpu_load_ratio")
        if host is not None:
            cpus["all processors (mean)"] = host
        return [{"CPU": e, "utilisation": formatting.ratio(v, 1)} for e, v in cpus.items()]

    def memory_rows(self) -> list[dict]:
        """Per entity (vendor), per pool (Cisco), and RAM (HOST-RESOURCES) less buffers/cache."""
        shown: list[tuple[str, float | None, float | None]] = []  # (memory, in use, size)
        sizes = self.entities("emops_memory_size_bytes")
        for entity, ratio in self.entities("emops_memory_utilization_ratio").items():
            shown.append((entity, ratio, sizes.get(entity)))
        free = self.entities("emops_memory_pool_free_bytes", "pool")
        for pool, used in self.entities("emops_memory_pool_used_bytes", "pool").items():
            total = used + free[pool] if pool in free else None
            shown.append((f"pool {pool}", used / total if total else None, total))
        used = self._single("emops_device_memory_used_bytes")
        size = self._single("emops_device_memory_size_bytes")
        if used is not None and size:
            cache = sum(self._single(m) or 0.0 for m in CACHE_METRICS)
            shown.append(("RAM (less buffers and cache)", (used - cache) / size, size))
        return [
            {"memory": name, "in use": formatting.ratio(ratio, 1), "size": formatting.size(total)}
            for name, ratio, total in shown
        ]

    # --- sensors --------------------------------------------------------------------

    def temperature_rows(self) -> list[dict]:
        high = self.entities("emops_sensor_temperature_high_celsius")
        rows = []
        for entity, value in self.entities("emops_sensor_temperature_celsius").items():
            limit = high.get(entity)
            rows.append(
                {
                    "sensor": entity,
                    "temperature": formatting.celsius(value),
                    "high threshold": formatting.celsius(limit),
                    "status": _threshold_status(value, None, limit),
                }
            )
        return rows

    def voltage_rows(self) -> list[dict]:
        volts = self.entities("emops_sensor_voltage_volts")
        return [{"sensor": e, "voltage": formatting.volts(v)} for e, v in volts.items()]

    def fan_rows(self) -> list[dict]:
        return [{"fan": e, "state": _ok(v)} for e, v in self.entities("emops_fan_ok").items()]

    def power_rows(self) -> list[dict]:
        supplies = self.entities("emops_power_supply_ok")
        return [{"power supply": e, "state": _ok(v)} for e, v in supplies.items()]

    def optics_rows(self) -> list[dict]:
        rx = self.entities("emops_optics_rx_power_dbm")
        tx = self.entities("emops_optics_tx_power_dbm")
        low = self.entities("emops_optics_rx_power_low_dbm")
        high = self.entities("emops_optics_rx_power_high_dbm")
        return [
            {
                "port": port,
                "rx": formatting.dbm(rx.get(port)),
                "tx": formatting.dbm(tx.get(port)),
                "rx low threshold": formatting.dbm(low.get(port)),
                "rx high threshold": formatting.dbm(high.get(port)),
                "status": _threshold_status(rx.get(port), low.get(port), high.get(port), "rx "),
            }
            for port in sorted(set(rx) | set(tx))
        ]

    # --- interfaces and protocols ---------------------------------------------------

    def interface_rows(self) -> list[dict]:
        oper = self.entities("emops_interface_oper_up", "ifname")
        admin = self.entities("emops_interface_admin_up", "ifname")
        speed = self.entities("emops_interface_speed_bits_per_second", "ifname")
        rate = {counter: _by(samples, "ifname") for counter, samples in self.rates.items()}
        reporting = self.of("emops_interface_oper_up") + [s for v in self.rates.values() for s in v]
        labels = {s.labels.get("ifname", ""): s.labels for s in reporting}
        rows = []
        for ifname, lb in sorted(labels.items()):
            rates = {counter: values.get(ifname) for counter, values in rate.items()}
            row = {
                "interface": ifname,
                "link": lb.get("link", ""),
                "link role": lb.get("link_role", ""),
                "member": lb.get("member", ""),
                "admin": _updown(admin.get(ifname)),
                "oper": _updown(oper.get(ifname)),
                "speed": formatting.bits_per_second(speed.get(ifname)),
            }
            for column, counter in INTERFACE_COLUMNS:
                value = rates.get(counter)
                if counter.endswith("bytes"):
                    row[column] = formatting.bits_per_second(None if value is None else 8 * value)
                else:
                    row[column] = formatting.per_second(value)
            rows.append(row)
        return rows

    def fhrp_rows(self) -> list[dict]:
        """VRRP / HSRP groups from SNMP, and keepalived's VRRP instances (app collector)."""
        found = [
            (
                s.labels.get("protocol", ""),
                s.labels.get("group", ""),
                s.labels.get("interface", ""),
                s,
            )
            for s in self.of("emops_fhrp_master")
        ]
        found += [
            ("vrrp (keepalived)", s.labels.get("instance", ""), s.labels.get("segment", ""), s)
            for s in self.of("emops_vrrp_master")
        ]
        found.sort(key=lambda f: (f[0], _numeric(f[1]), f[2]))
        return [
            {
                "protocol": p,
                "group": g,
                "interface": i,
                "state": "master" if s.value >= 1 else "backup",
            }
            for p, g, i, s in found
        ]

    def ospf_rows(self) -> list[dict]:
        neighbours = sorted(
            self.of("emops_ospf_neighbor_state"),
            key=lambda s: (s.labels.get("neighbor", ""), s.labels.get("address", "")),
        )
        return [
            {
                "neighbour": s.labels.get("neighbor", ""),
                "address": s.labels.get("address", ""),
                "state": f"{OSPF_STATES.get(int(s.value), 'unknown')} ({s.value:.0f})",
                "full": "yes" if s.value == OSPF_FULL else "NO",
            }
            for s in neighbours
        ]


def _updown(value: float | None) -> str:
    return formatting.MISSING if value is None else ("up" if value >= 1 else "down")


def _numeric(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 30, text)


def _threshold_status(
    value: float | None, low: float | None, high: float | None, what: str = ""
) -> str:
    """Against the device's own alarm levels; none known is said, not taken as ok."""
    if value is None:
        return formatting.MISSING
    if low is None and high is None:
        return "no threshold"
    if low is not None and value < low:
        return f"{what}BELOW low threshold"
    if high is not None and value >= high:
        return f"{what}ABOVE high threshold"
    return "ok"
