"""Where the Locust master and workers run, and where they send load: from the twin's state.

In the twin a worker runs inside each municipal `<city>-client` namespace that
is up, so its requests cross that city's shaped WAN link, the HQ firewall and
the load balancer, as a clerk's would; the master runs in the host's namespace
bound to the management address (the only host address the client namespaces
reach), and the load goes to the service's virtual address from the
inventory. With `--local` everything is on loopback. Pure functions of the
topology and the lab state, so placement is tested without root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emops.errors import EmopsError
from emops.topology.model import Topology
from loadtest.campaign import Workers

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class WorkerSpot:
    """One Locust worker: its label in the records and the namespace it runs in."""

    label: str
    netns: str | None = None  # None: the host's namespace
    site: str | None = None


def local_workers(workers: Workers) -> list[WorkerSpot]:
    """`--local`: n workers on loopback (0: one process, no master/worker split)."""
    return [WorkerSpot(f"local{i + 1}") for i in range(workers.local)]


def twin_workers(workers: Workers, topo: Topology, state: Mapping[str, Any]) -> list[WorkerSpot]:
    """One worker (or `per_client`) in every client namespace the running twin has."""
    up = set(state.get("namespaces", ()))
    clients = [d for d in topo.devices_with_role("client") if d.name in up]
    if not clients:
        raise EmopsError.of(
            "workers.placement",
            "the twin has no <city>-client namespace up",
            "bring the twin up with `emops lab up` (or run with --local)",
        )
    return [
        WorkerSpot(d.site if workers.per_client == 1 else f"{d.site}-{k + 1}", d.name, d.site)
        for d in clients
        for k in range(workers.per_client)
    ]


def master_host(topo: Topology | None) -> str:
    """The address the master binds: loopback, or the management address the clients reach."""
    if topo is None:
        return LOOPBACK
    if topo.management is None:
        raise EmopsError.of("emops.management", "the lab inventory has no management address")
    return str(topo.management.ip)


def service_url(topo: Topology, service: str) -> str:
    """http://VIP:port of `service`, the virtual address the load balancers hold."""
    for segment in topo.segments:
        for vip in segment.vips:
            if vip.name == service:
                return f"http://{vip.address}:{vip.port or 80}"
    known = sorted(v.name for s in topo.segments for v in s.vips)
    raise EmopsError.of("target", f"no service {service!r} in the inventory", f"known: {known}")


def worker_command(spot: WorkerSpot, base: list[str]) -> list[str]:
    """The worker's argv, inside its namespace when it has one."""
    return ["ip", "netns", "exec", spot.netns, *base] if spot.netns else base
