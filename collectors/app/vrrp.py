"""VRRP state from what each device holds: the master is whoever has the virtual address.

Reading the address rather than asking keepalived or FRR covers both (segment
gateways on the cores, service VIPs on the load balancers) and is what clients
experience: the holder answers ARP for it. Two holders at once is split brain,
nobody is an outage; the rules look for both.

Twin: `ip -j -n DEVICE addr` from the machine (the device's namespace has its
name); cheap, and it needs nothing running inside the device. Production: the
hook is `SnmpVrrpAddresses` (VRRP-MIB over the SNMP exporter's sessions), not
implemented yet; the exporter then runs with `--vrrp off`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from collectors.app.targets import VrrpInstance

NETNS_DIR = Path("/run/netns")


class VrrpReadError(Exception):
    """A device's addresses could not be read; `reason` is the error label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


class AddressSource(Protocol):
    async def held(self, device: str, timeout: float) -> frozenset[str]:
        """The IPv4 addresses `device` holds now; raises VrrpReadError."""
        ...


class NetnsAddresses:
    """The twin: a device's addresses read from its network namespace by the kernel."""

    def __init__(self, netns_of: Callable[[str], str] = lambda device: device) -> None:
        self.netns_of = netns_of

    async def held(self, device: str, timeout: float) -> frozenset[str]:
        netns = self.netns_of(device)
        if not (NETNS_DIR / netns).exists():
            raise VrrpReadError("no_netns", f"no network namespace {netns!r}")
        proc = await asyncio.create_subprocess_exec(
            "ip", "-j", "-n", netns, "addr", "show",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()  # our own child
            await proc.wait()
            raise VrrpReadError("timeout", f"ip -n {netns} addr took over {timeout:g} s") from None
        if proc.returncode != 0:
            raise VrrpReadError("command", err.decode(errors="replace").strip()[:200])
        try:
            return parse_ip_addr(out)
        except (ValueError, TypeError, AttributeError) as exc:
            raise VrrpReadError("malformed", str(exc)) from None


def parse_ip_addr(output: bytes | str) -> frozenset[str]:
    """IPv4 addresses on links that carry traffic (`ip -j addr` output).

    An address on a link that is down or has no carrier answers no ARP, so
    holding it is not being master: a device taken down keeps its addresses
    in the kernel but must not count as a second master.
    """
    return frozenset(
        str(info["local"])
        for link in json.loads(output or "[]")
        if "LOWER_UP" in link.get("flags", ())
        for info in link.get("addr_info", [])
        if info.get("family") == "inet" and "local" in info
    )


class SnmpVrrpAddresses:
    """Production hook, not implemented: VRRP state over SNMP.

    The plan: walk VRRP-MIB (RFC 2787) vrrpOperState (1.3.6.1.2.1.68.1.3.1.3,
    indexed by ifIndex.vrid; master = 3), or VRRPV3-MIB (RFC 6527)
    vrrpv3OperationsStatus (1.3.6.1.2.1.207.1.1.1.1.3) where the platform has
    it, with the SNMP exporter's session for the device, and return the
    addresses of the instances whose vrid the device is master of (Huawei VRP
    and Cisco IOS answer both tables). Until then production runs `--vrrp off`.
    """

    def __init__(self, instances: tuple[VrrpInstance, ...]) -> None:
        self.instances = instances

    async def held(self, device: str, timeout: float) -> frozenset[str]:
        raise NotImplementedError("VRRP over SNMP (VRRP-MIB) is not implemented yet")


def masters(
    instances: tuple[VrrpInstance, ...], held: Mapping[str, frozenset[str]]
) -> Iterator[tuple[str, str, str, float]]:
    """(device, instance, segment, 1/0) for every device whose addresses are known."""
    for vrrp in instances:
        for device in vrrp.devices:
            addresses = held.get(device)
            if addresses is not None:
                yield device, vrrp.instance, vrrp.segment, 1.0 if vrrp.address in addresses else 0.0
