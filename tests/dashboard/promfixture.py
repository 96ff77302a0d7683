"""A real Prometheus, fed by a tiny exporter of emops_* series with known values.

The exporter publishes, for every device and link of the lab inventory, what
the collectors would (docs/metrics.md), with values chosen so each dashboard
state appears: a WAN link down with its backup bundle carrying the site's
traffic, a bundle member down, a web server whose agent stopped answering,
an HAProxy backend DOWN, a standby lagging, one site's VIP probe failing.
Device health follows the issue 11 profiles: routers and core switches report
vendor CPU, memory, sensors, optics, FHRP and OSPF (one of them with a sensor
above its threshold, a failed fan, weak optics, a neighbour not full, an
interface taking errors), servers report HOST-RESOURCES memory, one router's
profile promises fans and optics it does not return, and the silent web
server reports nothing but its failed poll.

Counters are exposed with explicit timestamps and values proportional to them
(value = rate x time), so every rate() Prometheus computes is exactly the
chosen rate, whatever the scrape jitter: the dashboard and the test see the
same numbers.

Everything listens on 127.0.0.1 on free ports and is stopped by PID.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from childprocess import ChildServer
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from dashboard import queries
from dashboard.prometheus import PrometheusClient
from dashboard.timerange import TimeRange
from emops.topology.model import Link, Topology
from lab.postgres_local import free_port

PROMETHEUS_BIN = "/usr/bin/prometheus"
SCRAPE_S = 1
DOWN_LINK = "qinghe-private"  # cut: its backup bundle carries the site's traffic
CARRYING_BACKUP = "qinghe-backup"
DEGRADED_BUNDLE = ("anping-backup", 3)  # (link, member index) whose member is down
SILENT_DEVICE = "hq-web4"  # SNMP agent stopped answering; HAProxy marks it DOWN too
FAILING_PROBE_SITE = "qinghe"
LAGGING_STANDBY = ("hq-db2", 2.5)
# Probe latency: cumulative share of probes at or below each bucket bound (seconds).
PROBE_BUCKETS = ((0.01, 0.10), (0.025, 0.40), (0.05, 0.70), (0.1, 0.90), (0.25, 0.97),
                 (0.5, 0.99), (1.0, 1.0))  # fmt: skip
PROBES_PER_S = 2.0
FULL_DEVICE = "hq-core1"  # every group, each with one thing wrong
GAP_DEVICE = ("hq-wan-backup", ("fans", "optics"))  # groups its profile promises, none returned
VENDOR_ROLES = ("core_switch", "wan_router")
VENDOR_PROFILE = ("huawei_vrp", "1.3.6.1.4.1.2011.2.224.279")
LINUX_PROFILE = ("linux_netsnmp", "1.3.6.1.4.1.8072.3.2.10")
CPU = {"MPU Board 0": 0.35, "LPU Board 1": 0.12}
TEMPERATURE = {"MPU Board 0": (48.0, 75.0), "LPU Board 1": (71.0, 70.0)}  # (now, high alarm)
RX_DBM = (-7.5, -23.5)  # (a healthy optic, FULL_DEVICE's first port: below its low alarm)
RX_LOW_HIGH_DBM = (-20.0, 0.0)
OSPF_NEIGHBOURS = (("10.255.0.2", "198.18.0.2", 8.0), ("10.255.0.3", "198.18.0.6", 2.0))
ERRORS_PER_S = 0.5  # receive errors on FULL_DEVICE's first port
HOST_MEMORY = (6e9, 8e9, 0.5e9, 1.5e9)  # used, size, buffers, cached: 50 % really in use
UPTIME_S = 3 * 86400 + 7200


def _ifname(link: Link, end: str, member: int | None) -> str:
    endpoint = getattr(link.members[member] if member is not None else link, end)
    return endpoint.interface or f"{link.name}-{end}"


@dataclass
class LabSeries:
    """The known values, derived from the inventory (so any lab inventory works)."""

    topo: Topology
    utilisation: dict[str, float] = field(default_factory=dict)  # link -> busier direction

    def __post_init__(self) -> None:
        for i, site in enumerate(self.topo.municipal_sites()):
            for link in self.topo.wan_links(site.name, "primary"):
                self.utilisation[link.name] = 0.0 if link.name == DOWN_LINK else 0.05 * (i + 1)
            for link in self.topo.wan_links(site.name, "backup"):
                self.utilisation[link.name] = 0.5 if link.name == CARRYING_BACKUP else 0.0
        for link in self.topo.links:
            self.utilisation.setdefault(link.name, 0.1 if link.role == "lag" else 0.2)

    def member_up(self, link: str, member: int | None) -> bool:
        return link != DOWN_LINK and (link, member) != DEGRADED_BUNDLE

    def carrying_members(self, link: Link) -> list[int | None]:
        """The members that are up share the link's traffic (None: an unbundled link)."""
        members = list(range(len(link.members))) if link.members else [None]
        return [m for m in members if self.member_up(link.name, m)]

    def ends(self):
        """(link, member index or None, end 'a'/'b', device, ifname, share of the link's bps)."""
        for link in self.topo.links:
            members = range(len(link.members)) if link.members else [None]
            for member in members:
                for end, share in (("a", 1.0), ("b", 0.5)):  # b sends half what a sends
                    device = getattr(link, end).device
                    yield link, member, end, device, _ifname(link, end, member), share


class Gauges:
    """Gauge families built up sample by sample, each with the device labels first."""

    def __init__(self, device_labels) -> None:
        self.device_labels = device_labels
        self._families: dict[str, GaugeMetricFamily] = {}

    def add(self, metric: str, device: str, value: float, **labels: str) -> None:
        if metric not in self._families:
            names = ["device", "site", "role", *labels]
            self._families[metric] = GaugeMetricFamily(metric, "", labels=names)
        self._families[metric].add_metric([*self.device_labels(device), *labels.values()], value)

    def families(self) -> list[Metric]:
        return list(self._families.values())


class LabCollector:
    """A prometheus_client collector: every emops_* series of the lab, at known values."""

    def __init__(self, series: LabSeries) -> None:
        self.s = series
        self.topo = series.topo

    def _device_labels(self, name: str) -> list[str]:
        d = self.topo.devices[name]
        return [d.name, d.site, d.role]

    def collect(self) -> list[Metric]:
        now_ms = int(time.time() * 1000)
        t = now_ms / 1000
        return [
            *self._devices(),
            *self._health(),
            *self._interfaces(t),
            self._capacity(),
            *self._probes(t),
            *self._haproxy(),
            *self._postgres(),
        ]

    def _devices(self) -> list[Metric]:
        up = GaugeMetricFamily("emops_snmp_up", "", labels=["device", "site", "role"])
        cpu = GaugeMetricFamily(
            "emops_device_cpu_load_ratio", "", labels=["device", "site", "role"]
        )
        for name in self.topo.devices:
            up.add_metric(self._device_labels(name), 0.0 if name == SILENT_DEVICE else 1.0)
            if name != SILENT_DEVICE:
                cpu.add_metric(self._device_labels(name), 0.5 if name == "hq-db1" else 0.25)
        return [up, cpu]

    def _health(self) -> list[Metric]:
        """Profile metrics (docs/metrics.md) for every device that answers."""
        gauges = Gauges(self._device_labels)
        ports: dict[str, list[str]] = {}
        for _link, _member, _end, device, ifname, _share in self.s.ends():
            ports.setdefault(device, []).append(ifname)
        for name, d in self.topo.devices.items():
            if name == SILENT_DEVICE:
                continue
            gauges.add("emops_device_uptime_seconds", name, UPTIME_S)
            if d.role in VENDOR_ROLES:
                self._vendor(gauges, name, ports.get(name, []))
            else:
                self._host(gauges, name)
        return gauges.families()

    @staticmethod
    def _host(gauges: Gauges, name: str) -> None:
        profile, oid = LINUX_PROFILE
        gauges.add("emops_snmp_profile_info", name, 1.0, profile=profile, sysobjectid=oid)
        used, size, buffers, cached = HOST_MEMORY
        gauges.add("emops_device_memory_used_bytes", name, used)
        gauges.add("emops_device_memory_size_bytes", name, size)
        gauges.add("emops_memory_buffers_bytes", name, buffers)
        gauges.add("emops_memory_cached_bytes", name, cached)

    @staticmethod
    def _vendor(gauges: Gauges, name: str, ports: list[str]) -> None:
        """A routed device with a vendor profile; FULL_DEVICE has one fault in each group."""
        add, full = gauges.add, name == FULL_DEVICE
        profile, oid = VENDOR_PROFILE
        add("emops_snmp_profile_info", name, 1.0, profile=profile, sysobjectid=oid)
        gaps = GAP_DEVICE[1] if name == GAP_DEVICE[0] else ()
        for group in ("cpu", "memory", "temperature", "fans", "power", "optics"):
            add("emops_snmp_profile_missing", name, float(group in gaps), profile=profile,
                group=group)  # fmt: skip
        for entity, ratio in CPU.items():
            add("emops_cpu_utilization_ratio", name, ratio, entity=entity)
        add("emops_memory_utilization_ratio", name, 0.42, entity="MPU Board 0")
        add("emops_memory_size_bytes", name, 2 * 2**30, entity="MPU Board 0")
        for entity, (celsius, high) in TEMPERATURE.items():
            now = celsius if full else min(celsius, 45.0)
            add("emops_sensor_temperature_celsius", name, now, entity=entity)
            add("emops_sensor_temperature_high_celsius", name, high, entity=entity)
        add("emops_sensor_voltage_volts", name, 12.05, entity="PWR 1")
        for unit in ("PWR 1", "PWR 2"):
            add("emops_power_supply_ok", name, 1.0, entity=unit)
        if "fans" not in gaps:
            add("emops_fan_ok", name, 1.0, entity="FAN 1")
            add("emops_fan_ok", name, 0.0 if full else 1.0, entity="FAN 2")
        if "optics" not in gaps:
            for i, port in enumerate(ports):
                add("emops_optics_rx_power_dbm", name, RX_DBM[full and i == 0], entity=port)
                add("emops_optics_tx_power_dbm", name, -2.1, entity=port)
                add("emops_optics_rx_power_low_dbm", name, RX_LOW_HIGH_DBM[0], entity=port)
                add("emops_optics_rx_power_high_dbm", name, RX_LOW_HIGH_DBM[1], entity=port)
        if full:
            for group, master in (("10", 1.0), ("20", 0.0)):
                add("emops_fhrp_master", name, master, protocol="vrrp", group=group,
                    interface=f"Vlanif1{group}")  # fmt: skip
            for neighbour, address, state in OSPF_NEIGHBOURS:
                add("emops_ospf_neighbor_state", name, state, neighbor=neighbour, address=address)

    def _interfaces(self, t: float) -> list[Metric]:
        labels = ["device", "site", "role", "ifname", "link", "link_role", "member"]
        oper = GaugeMetricFamily("emops_interface_oper_up", "", labels=labels)
        admin = GaugeMetricFamily("emops_interface_admin_up", "", labels=labels)
        speed = GaugeMetricFamily("emops_interface_speed_bits_per_second", "", labels=labels)
        counters = {
            c: CounterMetricFamily(f"emops_interface_{c}_total", "", labels=labels)
            for c in queries.INTERFACE_COUNTERS
        }
        first_port = True
        for link, member, _end, device, ifname, share in self.s.ends():
            if device == SILENT_DEVICE:
                continue
            values = [*self._device_labels(device), ifname, link.name, link.role]
            values.append("" if member is None else str(member))
            oper.add_metric(values, 1.0 if self.s.member_up(link.name, member) else 0.0)
            admin.add_metric(values, 1.0)
            speed.add_metric(values, link.rate_bps)
            carried = self.s.carrying_members(link)
            bits = self.s.utilisation[link.name] * link.capacity_bps * share
            mine = bits / len(carried) if member in carried else 0.0
            errors = ERRORS_PER_S if device == FULL_DEVICE and first_port else 0.0
            first_port = first_port and device != FULL_DEVICE
            per_s = {"transmit_bytes": mine / 8, "receive_bytes": mine / 16,
                     "receive_errors": errors}  # fmt: skip
            for c, family in counters.items():
                family.add_metric(values, per_s.get(c, 0.0) * t, timestamp=t)
        return [oper, admin, speed, *counters.values()]

    def _capacity(self) -> Metric:
        cap = GaugeMetricFamily(
            "emops_link_capacity_bits_per_second", "", labels=["link", "link_role", "site"]
        )
        for link in self.topo.links:
            cap.add_metric([link.name, link.role, self.topo.site_of_link(link)], link.capacity_bps)
        return cap

    def _probes(self, t: float) -> list[Metric]:
        labels = ["service", "target", "site"]
        success = GaugeMetricFamily("emops_probe_success", "", labels=labels)
        duration = HistogramMetricFamily("emops_probe_duration_seconds", "", labels=labels)
        targets = [("vip", s.name) for s in self.topo.municipal_sites()]
        targets += [(d.name, d.site) for d in self.topo.devices.values() if d.role == "web"]
        for target, site in targets:
            ok = site != FAILING_PROBE_SITE and target != SILENT_DEVICE
            success.add_metric(["marketing", target, site], 1.0 if ok else 0.0)
            slow = 2.0 if target == "vip" else 1.0  # the VIP path crosses the WAN: slower
            count = PROBES_PER_S * t
            buckets = [(f"{bound * slow:g}", share * count) for bound, share in PROBE_BUCKETS]
            buckets.append(("+Inf", count))
            duration.add_metric(["marketing", target, site], buckets, 0.05 * count, timestamp=t)
        return [success, duration]

    def _haproxy(self) -> list[Metric]:
        status = GaugeMetricFamily(
            "haproxy_server_status", "", labels=["device", "proxy", "server", "state"]
        )
        active = GaugeMetricFamily("haproxy_backend_active_servers", "", labels=["device", "proxy"])
        webs = sorted(d.name for d in self.topo.devices.values() if d.role == "web")
        for lb in sorted(d.name for d in self.topo.devices.values() if d.role == "load_balancer"):
            for web in webs:
                current = "DOWN" if web == SILENT_DEVICE else "UP"
                for state in ("UP", "DOWN", "MAINT", "DRAIN", "NOLB"):
                    status.add_metric([lb, "marketing", web, state], float(state == current))
            active.add_metric([lb, "marketing"], float(sum(w != SILENT_DEVICE for w in webs)))
        return [status, active]

    def _postgres(self) -> list[Metric]:
        up = GaugeMetricFamily("emops_postgres_up", "", labels=["device"])
        lag = GaugeMetricFamily("emops_postgres_replication_lag_seconds", "", labels=["device"])
        for d in sorted(self.topo.devices_with_role("db"), key=lambda d: d.name):
            up.add_metric([d.name], 1.0)
            lag.add_metric([d.name], LAGGING_STANDBY[1] if d.name == LAGGING_STANDBY[0] else 0.0)
        return [up, lag]


class Exporter:
    """The collector served over HTTP on a free loopback port (a daemon thread)."""

    def __init__(self, topo: Topology) -> None:
        self.series = LabSeries(topo)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(LabCollector(self.series))
        self.port = free_port()
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=registry)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


RULES = """\
groups:
- name: dashboard-fixture
  interval: 1s
  rules:
  - alert: WanLinkDown
    expr: min by (link) (emops_interface_oper_up{link_role="primary"}) == 0
    labels: {severity: page}
    annotations:
      summary: "{{ $labels.link }} is down"
      description: "SNMP poll: down at both ends of {{ $labels.link }}; backup carries the site."
  - alert: BackupCarryingTraffic
    expr: min by (link) (emops_interface_oper_up{link="qinghe-backup"}) == 1
    for: 1h
    labels: {severity: info}
    annotations:
      summary: "{{ $labels.link }} carries traffic"
"""


class PrometheusServer(ChildServer):
    """Debian's prometheus binary in a temporary directory, scraping one exporter."""

    name = "prometheus"

    def __init__(self, workdir: Path, target: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        (workdir / "rules.yml").write_text(RULES)
        (workdir / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE_S}s\n  evaluation_interval: {SCRAPE_S}s\n"
            f"rule_files: [{workdir / 'rules.yml'}]\n"
            "scrape_configs:\n- job_name: emops-fixture\n"
            f"  static_configs: [{{targets: ['{target}']}}]\n"
        )
        argv = [
            PROMETHEUS_BIN,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        super().__init__(argv, workdir, workdir / "prometheus.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 30) -> None:
        """Prometheus's own readiness endpoint answers 200."""
        self.wait_http(f"{self.url}/-/ready", lambda r: r.status == 200, timeout_s, poll_s=0.2)


def wait_steady(url: str, exporter: Exporter, timeout_s: float = 90) -> None:
    """Until rate() windows hold full windows of samples, at "now" and in subqueries."""
    client = PrometheusClient(url, ttl_s=0, backoff_s=0)
    r = TimeRange.last(3600, "lab")
    expected = exporter.series.utilisation["anping-private"]
    peak = queries.link_peak_utilisation(r.window, r.now_window, r.resolution)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        values = [
            client.instant(queries.link_utilisation(r.now_window, "anping-private")).data,
            [s for s in client.instant(peak).data if s.labels["link"] == "anping-private"],
        ]
        steady = all(v and abs(v[0].value - expected) < 1e-9 for v in values)
        firing = [a for a in client.alerts().data if a.get("state") == "firing"]
        if steady and firing:
            return
        time.sleep(1)
    raise TimeoutError(f"Prometheus at {url} did not reach steady values")


class Forwarder:
    """A TCP relay to Prometheus that can be cut: Prometheus 'goes down' for one client only."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.listener.close()
