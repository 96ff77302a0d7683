"""The monitoring watches the provisioned twin and tells the truth about its faults.

`emops monitor up` (Prometheus, Alertmanager, the alert sink, the SNMP and
application collectors) runs against the twin that site.yml provisioned.
Every device is scraped and up and nothing fires while the twin is healthy;
then each fault is injected, watched, repaired and watched until every alert
has cleared. Each must raise its own alert and no unrelated one.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab.faults import Lab

from .kit import MEASURED, VIP, alert_key, firing, query

pytestmark = [pytest.mark.root, pytest.mark.slow]
PROBE = str(Path(__file__).with_name("netprobe.py"))


@pytest.fixture(scope="module")
def lab(monitored) -> Lab:
    return Lab.attach()


@pytest.fixture(scope="module")
def prom(monitored) -> str:
    return monitored.prometheus


def eventually(check: Callable[[], object], timeout: float, what: str, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:g} s still not: {what}")
        time.sleep(step)


def quiet(prom: str, timeout: float = 120, calm: float = 10) -> None:
    """Wait until nothing has fired for `calm` seconds (the previous episode has settled:
    a failback can come a few seconds after the first failover's alert cleared)."""
    last: list[str] = []
    calm_since = [time.monotonic()]

    def settled() -> bool:
        last[:] = [alert_key(a) for a in firing(prom)]
        if last:
            calm_since[0] = time.monotonic()
        return not last and time.monotonic() - calm_since[0] >= calm

    try:
        eventually(settled, timeout, f"nothing firing for {calm:g} s")
    except AssertionError:
        raise AssertionError(f"still firing after {timeout:g} s: {last}") from None


@dataclass
class Episode:
    """What the monitoring showed around one fault."""

    detected_s: float | None = None  # fault -> first wanted alert firing
    seen: dict[str, dict[str, str]] = field(default_factory=dict)  # every alert that fired
    cleared_s: float | None = None  # repair -> nothing firing

    def unrelated(self, related: Callable[[dict[str, str]], bool]) -> list[str]:
        return sorted(key for key, labels in self.seen.items() if not related(labels))


def episode(
    prom: str,
    inject: Callable[[], object],
    repair: Callable[[], object],
    wanted: Callable[[dict[str, str]], bool],
    *,
    hold: float,
    clear_within: float = 120,
) -> Episode:
    """Quiet first; inject; watch `hold` seconds (longer until `wanted` fires, at most
    60 s); repair; watch until everything has cleared."""
    quiet(prom)
    seen = Episode()
    start = time.monotonic()
    inject()
    try:
        while True:
            elapsed = time.monotonic() - start
            for labels in firing(prom):
                seen.seen[alert_key(labels)] = labels
                if seen.detected_s is None and wanted(labels):
                    seen.detected_s = round(elapsed, 2)
            if elapsed > hold and (seen.detected_s is not None or elapsed > 60):
                break
            time.sleep(0.2)
    finally:
        repair()
    repaired = time.monotonic()
    while time.monotonic() - repaired < clear_within:
        now = firing(prom)
        for labels in now:
            seen.seen[alert_key(labels)] = labels
        if not now:
            seen.cleared_s = round(time.monotonic() - repaired, 1)
            break
        time.sleep(0.5)
    return seen


def named(name: str, **labels: str) -> Callable[[dict[str, str]], bool]:
    return lambda a: a["alertname"] == name and all(a.get(k) == v for k, v in labels.items())


# --- healthy ------------------------------------------------------------------------------


def test_every_device_is_scraped_and_up_and_nothing_fires(twin, prom):
    devices = set(twin["devices"])

    def all_up() -> dict[str, float] | None:
        up = query(prom, "emops_snmp_up")
        return up if set(up) == devices and all(v == 1 for v in up.values()) else None

    eventually(all_up, 90, f"emops_snmp_up == 1 for all {len(devices)} devices")
    targets = query(prom, 'up{job=~"emops-snmp|emops-app|haproxy|prometheus"}')
    assert targets and all(v == 1 for v in targets.values()), targets

    def vip_ok() -> dict[str, float] | None:
        # The app collector's first round (a probe from every city's client through
        # its WAN link) may end after SNMP is all up: wait for it, do not sample once.
        vip = query(prom, 'emops_probe_success{target="vip"}')
        return vip if vip and all(v == 1 for v in vip.values()) else None

    eventually(vip_ok, 60, "the VIP probes from every city succeed")
    ifaces = query(prom, 'count by (device) (emops_interface_oper_up{link_role="primary"})')
    wan = {d for d in devices if d.endswith("-wan")}
    assert wan <= set(ifaces), "every city's private link interface is polled"
    quiet(prom, timeout=120)


# --- faults -------------------------------------------------------------------------------


# The twin's target is a trap turned into an alert within 5 s (measured 1.8-3.4 s, printed
# as link_alert_s); a loaded 2-core CI machine once took 5.25 s, so the test bound is 10 s.
# That the trap arrived is asserted on its own (emops_snmp_traps_total).
LINK_ALERT_BOUND_S = 10


def test_a_link_cut_raises_link_down_via_trap_and_clears(prom, lab):
    link = "anping-backup"  # a whole bundle: nothing reroutes, only the link is down
    traps_before = query(prom, 'emops_snmp_traps_total{device="anping-wan", trap="linkDown"}')
    seen = episode(
        prom,
        lambda: lab.link_down(link),
        lambda: lab.link_up(link),
        named("LinkDown", link=link),
        hold=8,
    )
    MEASURED["link_alert_s"] = seen.detected_s
    MEASURED["link_clear_s"] = seen.cleared_s
    assert seen.detected_s is not None and seen.detected_s < LINK_ALERT_BOUND_S, seen
    assert not seen.unrelated(named("LinkDown", link=link)), seen.seen
    assert seen.cleared_s is not None, "LinkDown clears after the repair"
    traps = query(prom, 'emops_snmp_traps_total{device="anping-wan", trap="linkDown"}')
    assert sum(traps.values()) > sum(traps_before.values()), "anping-wan sent linkDown traps"


def test_a_stopped_web_server_raises_backend_down_only(prom, lab):
    seen = episode(
        prom,
        lambda: lab.daemon_stop("hq-web1", "nginx"),
        lambda: lab.daemon_start("hq-web1", "nginx"),
        named("LoadBalancerBackendDown"),
        hold=15,
    )
    MEASURED["web_stop_alert_s"] = seen.detected_s
    assert seen.detected_s is not None, seen.seen
    assert not seen.unrelated(named("LoadBalancerBackendDown")), seen.seen
    assert seen.cleared_s is not None, seen.seen


def test_a_city_wan_failover_raises_backup_in_use_not_isolation(prom, lab):
    # users keep working from the city, so the backup bundle carries their traffic
    url = f"http://{VIP}/customers/42/bills"
    argv = ["ip", "netns", "exec", "anping-client", sys.executable, PROBE, "http", url]
    traffic = subprocess.Popen(
        [*argv, "--duration", "150", "--timeout", "2", "--pause", "0.02"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen = episode(
            prom,
            lambda: lab.link_down("anping-private"),
            lambda: lab.link_up("anping-private"),
            named("BackupBundleCarryingTraffic", site="anping"),
            hold=25,
        )
    finally:
        traffic.terminate()
        traffic.wait(timeout=10)
    MEASURED["wan_failover_alert_s"] = seen.detected_s

    def related(labels: dict[str, str]) -> bool:
        return named("LinkDown", link="anping-private")(labels) or named(
            "BackupBundleCarryingTraffic", site="anping"
        )(labels)

    assert seen.detected_s is not None, seen.seen
    assert any(named("LinkDown", link="anping-private")(a) for a in seen.seen.values())
    assert not seen.unrelated(related), seen.seen
    assert seen.cleared_s is not None, seen.seen


def test_load_balancer_failover_raises_vrrp_change_not_service_down(prom, lab):
    def related(labels: dict[str, str]) -> bool:
        # the frozen balancer itself is unreachable; its VRRP group changes master
        return labels.get("device") == "hq-lb1" or named("VrrpMasterChanged", segment="hq-lb")(
            labels
        )

    seen = episode(
        prom,
        lambda: lab.device_down("hq-lb1"),
        lambda: lab.device_up("hq-lb1"),
        named("VrrpMasterChanged", segment="hq-lb"),
        hold=15,
    )
    MEASURED["lb_failover_alert_s"] = seen.detected_s
    assert seen.detected_s is not None, seen.seen
    assert not seen.unrelated(related), seen.seen
    assert seen.cleared_s is not None, seen.seen
    quiet(prom)  # and the pair settles: no late flap after the failback


# --- what the vendor faces, the routing state and the servers' own services tell --------


@pytest.mark.parametrize(
    ("fault", "device", "alert", "wait"),
    [
        ("overheat", "hq-core1", "TemperatureHigh", 15),
        ("psu-fail", "anping-wan", "PowerSupplyFailed", 15),
        ("optics-degrade", "hq-wan-private", "OpticalPowerOutOfRange", 15),
        ("cpu-high", "hq-core2", "CpuHigh", 90),  # waits health_for (1 m): one burst is no fault
    ],
)
def test_a_health_fault_raises_exactly_its_alert(prom, lab, fault, device, alert, wait):
    """The vendor face reads the fault over SNMP, as a real Huawei or Cisco device would."""
    seen = episode(
        prom,
        lambda: lab.health_fault(device, fault),
        lambda: lab.health_restore(device, fault),
        named(alert, device=device),
        hold=wait,
    )
    MEASURED[f"{fault}_alert_s"] = seen.detected_s
    assert seen.detected_s is not None, seen.seen
    assert not seen.unrelated(named(alert, device=device)), seen.seen
    assert seen.cleared_s is not None, seen.seen


def test_a_stopped_ospfd_is_named_by_its_peers(prom, lab):
    """anping-wan's OSPF process stops: its HQ peers see the adjacency go over SNMP."""

    def related(labels: dict[str, str]) -> bool:
        # anping loses its routes: its own probe and link verdicts are about anping too
        return labels.get("site") == "anping" or labels.get("neighbor_device") == "anping-wan"

    seen = episode(
        prom,
        lambda: lab.daemon_stop("anping-wan", "ospfd"),
        lambda: lab.daemon_start("anping-wan", "ospfd"),
        named("OspfNeighborLost", neighbor_device="anping-wan"),
        hold=20,
    )
    MEASURED["ospf_lost_alert_s"] = seen.detected_s
    assert seen.detected_s is not None, seen.seen
    assert not seen.unrelated(related), seen.seen
    assert seen.cleared_s is not None, seen.seen


@pytest.mark.parametrize(
    ("device", "daemon", "wanted"),
    [
        ("hq-app1", "marketing", named("ServerServiceDown", device="hq-app1")),
        ("hq-cti1", "cti", named("ServiceGroupDown", service="cti")),
    ],
)
def test_a_stopped_server_service_is_named(prom, lab, device, daemon, wanted):
    seen = episode(
        prom,
        lambda: lab.daemon_stop(device, daemon),
        lambda: lab.daemon_start(device, daemon),
        wanted,
        hold=15,
    )
    MEASURED[f"{daemon}_stop_alert_s"] = seen.detected_s
    assert seen.detected_s is not None, seen.seen
    assert not seen.unrelated(wanted), seen.seen
    assert seen.cleared_s is not None, seen.seen
