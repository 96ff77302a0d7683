"""Fault injection on the running twin, with ground truth.

Every fault and repair is applied to the kernel (or the device's processes) and
appended to `ground-truth.jsonl` with its timestamp; load campaigns score the
monitoring's alerts against that log. The same operations back `emops lab fault`.

What each fault does, and why:
- link down/up: both ends of the veth pair (or of one bundle member) go down, as
  when a circuit is cut: each side's ifOperStatus drops; routing must move
  traffic to the surviving members or the backup bundle.
- device down/up: every interface of the device goes down and every process in
  it is frozen (SIGSTOP), as a switch that loses power stops answering at once;
  `up` thaws them, so daemons resume with their state instead of being
  re-provisioned.
- daemon stop/start: one named service of the device's registry is stopped
  (SIGTERM, or SIGKILL with kill=True) and started again from its recorded
  command line; an FRR daemon, which starts bare, then gets the integrated
  configuration (`vtysh -b -d NAME`), as FRR's own init does on a router.
- health faults (cpu-high, overheat, optics-degrade, psu-fail) and their restore:
  on a device with a vendor face (inventory `emops_snmp_face`), one key of the
  device's vendor state file is set / removed (lab.vendor_agent.FAULTS), which its
  snmpd's vendor agent serves from the next request on: main board CPU 97 %,
  main board above its temperature threshold, the first optical port's rx power
  below its low threshold, power supply 1 failed. Only what the MIBs show
  changes, as only the monitoring sees a real chassis's sensors.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from emops.errors import EmopsError
from emops.topology.model import LAB_MGMT_IFNAME, Topology
from lab import kernel
from lab.bringup import load_lab, read_state
from lab.device import freeze_device, thaw_device
from lab.paths import device_dir, ground_truth_file
from lab.plan import LabPlan, Port
from lab.processes import exec_in_device
from lab.services import kill_service, start_registered, stop_service
from lab.vendor_agent import FACE_FAULTS, FAULTS, STATE_NAME, write_state

FRR_DAEMONS = frozenset({"zebra", "ospfd", "staticd", "bgpd", "bfdd", "vrrpd"})


@dataclass
class Lab:
    """The running twin, for campaigns and the CLI."""

    topo: Topology
    plan: LabPlan

    @classmethod
    def attach(cls) -> Lab:
        state = read_state()
        if state is None:
            raise EmopsError.of("lab", "no twin is up", "start one with `emops lab up`")
        topo, plan = load_lab(state["inventory"], len(state["sites"]) - 1)
        return cls(topo, plan)

    # --- links ----------------------------------------------------------------

    def _link_ports(self, link: str, member: int | None) -> list[Port]:
        veths = self.plan.veths_of(link)
        if not veths or link in ("management",):
            known = sorted({v.link for v in self.plan.veths if v.bridge is None})
            raise EmopsError.of(
                "link", f"no link {link!r} in the twin", f"use one of: {', '.join(known[:8])}, ..."
            )
        if member is not None:
            veths = [v for v in veths if v.member == member]
            if not veths:
                raise EmopsError.of(
                    "--member", f"{link} has no member {member}", "members count from 0"
                )
        if veths[0].bridge is not None:
            raise EmopsError.of(
                "link", f"{link} is a LAN segment, not a link", "take a device down instead"
            )
        return [p for v in veths for p in (v.a, v.b)]

    def link_down(self, link: str, member: int | None = None) -> dict:
        ports = self._link_ports(link, member)
        self._set(ports, "down")
        return record("fault", "link", link, member=member, ports=_names(ports))

    def link_up(self, link: str, member: int | None = None) -> dict:
        ports = self._link_ports(link, member)
        self._set(ports, "up")
        return record("repair", "link", link, member=member, ports=_names(ports))

    @staticmethod
    def _set(ports: list[Port], state: str) -> None:
        per_ns: dict[str | None, list[str]] = {}
        for p in ports:
            per_ns.setdefault(p.netns, []).append(f"link set dev {p.ifname} {state}")
        for ns, lines in per_ns.items():
            kernel.ip_batch(lines, netns=ns)

    # --- devices --------------------------------------------------------------

    def _device(self, device: str) -> str:
        if device not in self.plan.namespaces:
            raise EmopsError.of(
                "device",
                f"no device {device!r} in the twin",
                "see `emops lab status` for the devices",
            )
        return device

    def device_down(self, device: str) -> dict:
        ns = self._device(device)
        ifaces = [n for n in kernel.links(ns) if n != "lo"]
        kernel.ip_batch((f"link set dev {n} down" for n in ifaces), netns=ns)
        freeze_device(ns)
        return record("fault", "device", device, ports=ifaces)

    def device_up(self, device: str) -> dict:
        ns = self._device(device)
        ifaces = [n for n in kernel.links(ns) if n != "lo"]
        ifaces.sort(key=lambda n: n == LAB_MGMT_IFNAME)  # data ports first, management last
        thaw_device(ns)
        kernel.ip_batch((f"link set dev {n} up" for n in ifaces), netns=ns)
        peers = [v.b for v in self.plan.veths if v.a.netns == ns and v.b.netns != ns]
        peers += [v.a for v in self.plan.veths if v.b.netns == ns and v.a.netns != ns]
        self._set(peers, "up")  # a link cut towards this device comes back with it
        return record("repair", "device", device, ports=ifaces)

    # --- daemons --------------------------------------------------------------

    def daemon_stop(self, device: str, daemon: str, kill: bool = False) -> dict:
        self._device(device)
        (kill_service if kill else stop_service)(device, daemon)
        return record("fault", "daemon", device, daemon=daemon, signal="KILL" if kill else "TERM")

    def daemon_start(self, device: str, daemon: str) -> dict:
        self._device(device)
        start_registered(device, daemon)
        if daemon in FRR_DAEMONS:
            exec_in_device(device, ["vtysh", "-b", "-d", daemon], capture_output=True)
        return record("repair", "daemon", device, daemon=daemon)

    # --- health (the device's vendor face over SNMP) ----------------------------

    def _face(self, device: str, fault: str) -> str:
        self._device(device)
        face = self.topo.devices[device].snmp_face
        if face is None:
            devices = self.topo.devices.items()
            faced = sorted(n for n, d in devices if d.snmp_face and n in self.plan.namespaces)
            raise EmopsError.of(
                "device",
                f"{device} has no vendor face (emops_snmp_face), so no {fault}",
                f"use one of: {', '.join(faced) or 'none in this twin'}",
            )
        if fault not in FACE_FAULTS[face]:
            raise EmopsError.of(
                "fault",
                f"the {face} face of {device} serves nothing {fault} could change",
                f"its faults: {', '.join(FACE_FAULTS[face])}",
            )
        return face

    def _set_health(self, device: str, changes: dict[str, object]) -> None:
        path = device_dir(device) / STATE_NAME
        try:
            write_state(path, changes)
        except ValueError as exc:  # a broken file: never merge into it blindly
            raise EmopsError.of(
                "state file", f"{path}: {exc}", "delete it (the device then shows nominal values)"
            ) from None

    def health_fault(self, device: str, fault: str) -> dict:
        face = self._face(device, fault)
        f = FAULTS[fault]
        self._set_health(device, {f.key: f.value})
        return record("fault", f.kind, device, fault=fault, face=face, **{f.key: f.value})

    def health_restore(self, device: str, fault: str) -> dict:
        face = self._face(device, fault)
        f = FAULTS[fault]
        self._set_health(device, {f.key: None})
        return record("repair", f.kind, device, fault=fault, face=face)


def _names(ports: list[Port]) -> list[str]:
    return [f"{p.netns or 'host'}:{p.ifname}" for p in ports]


def record(event: str, kind: str, target: str, **detail: object) -> dict:
    """Append one ground-truth line, flushed to disk before returning."""
    now = time.time()
    entry = {
        "time": now,
        "iso": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
        "event": event,  # fault | repair
        "kind": kind,  # link | device | daemon | cpu | temperature | optics | power
        "target": target,
        **{k: v for k, v in detail.items() if v is not None},
    }
    path = ground_truth_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
        log.flush()
        os.fsync(log.fileno())
    return entry


def ground_truth() -> list[dict]:
    """Every fault and repair so far, oldest first."""
    path = ground_truth_file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
