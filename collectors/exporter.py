"""The emops SNMP exporter: one process polls every device and receives traps.

    python -m collectors.exporter --inventory inventory/lab --listen 127.0.0.1:9610 \\
        [--interval 5s] [--traps 127.0.0.1:9162] [--events FILE|-]

The pipeline, in order:
  inventory -> topology model -> targets (credentials decrypted) -> poller
  -> collectors (SNMP + traps) -> one registry -> HTTP /metrics
The process around it (print-config, HTTP server, signals, shutdown) is
collectors/serve.py, shared with the application exporter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from prometheus_client import CollectorRegistry

from collectors import serve
from collectors.exposition import SnmpCollector
from collectors.links import interface_links, link_capacities
from collectors.options import add_safety_options, add_walk_options, exporter_parser, walk_limits
from collectors.safety import connected_networks, parse_listen, unsafe_reason
from collectors.snmp.poller import Poller, Target
from collectors.targets import describe, targets_from, trap_communities, trap_settings
from collectors.traps import TrapReceiver, TrapState
from emops.monitoring.hashmod import devices_of_shard
from emops.secrets import Decryptor
from emops.topology import Topology
from emops.units import parse_time

log = logging.getLogger("collectors.exporter")
DEFAULT_TRAP_PORT = 9162  # not 162: no root needed; the lab's snmpd sends here


def build_parser() -> argparse.ArgumentParser:
    p = exporter_parser("python -m collectors.exporter", __doc__.split("\n\n")[0], "127.0.0.1:9610")
    p.add_argument("--interval", default="5s", help="time between polls (e.g. 5s)")
    p.add_argument("--timeout", default="1s", help="per-request timeout")
    p.add_argument("--retries", type=int, default=2, help="resends per request")
    p.add_argument("--max-in-flight", type=int, default=64, help="targets polled at once")
    p.add_argument(
        "--traps",
        default=f"127.0.0.1:{DEFAULT_TRAP_PORT}",
        help="trap receiver HOST:PORT ('off' to disable)",
    )
    p.add_argument("--events", default="-", help="trap event log (JSON lines), '-' = stdout")
    p.add_argument(
        "--shard",
        type=parse_shard,
        default=(0, 1),
        metavar="K/N",
        help="poll only the devices Prometheus' hashmod gives shard K of N (default 0/1: all)",
    )
    add_walk_options(p)
    add_safety_options(p, "SNMP", "targets")
    return p


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' -> (K, N) with 0 <= K < N, the way `emops monitor config --shards N` numbers them."""
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N with 0 <= K < N (e.g. 0/2)")
    return int(k), int(n)


def make_guard(production: bool) -> Callable[[Target], str | None]:
    """Per-target send check; the route table is re-read at most once a second."""
    cache: dict[str, object] = {"at": 0.0, "nets": []}

    def guard(target: Target) -> str | None:
        now = time.monotonic()
        if now - float(cache["at"]) > 1.0:  # type: ignore[arg-type]
            cache.update(at=now, nets=connected_networks())
        return unsafe_reason(target.host, production, cache["nets"])  # type: ignore[arg-type]

    return guard


class SnmpExporter:
    """Every target polled over SNMP, and the trap receiver, behind one registry."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.traps_at = None if args.traps == "off" else parse_listen(args.traps, "--traps")
        self.interval = parse_time(args.interval, "--interval")
        self.timeout = parse_time(args.timeout, "--timeout")
        self.limits = walk_limits(args)
        self.receiver: TrapReceiver | None = None
        self.sink: IO[str] = sys.stdout

    def plan(self, topo: Topology, decryptor: Decryptor) -> Any:
        """Model -> targets with credentials; this shard's share is polled."""
        self.topo, self.decryptor = topo, decryptor
        self.targets = targets_from(topo, decryptor)
        shard, shards = self.args.shard
        mine = set(devices_of_shard([t.device for t in self.targets], shard, shards))
        self.polled = [t for t in self.targets if t.device in mine]  # traps: from any device
        return describe(self.polled)

    def start(self, registry: CollectorRegistry) -> str:
        topo, args = self.topo, self.args
        links = interface_links(topo)  # ifname -> link labels
        self.poller = poller = Poller(
            self.polled,
            timeout=self.timeout,
            retries=args.retries,
            deadline=max(self.timeout, self.interval * 0.9),
            max_in_flight=args.max_in_flight,
            guard=make_guard(args.production),
            limits=self.limits,
        )
        registry.register(SnmpCollector(lambda: poller.results, links, link_capacities(topo)))
        trap_state = TrapState(self.targets)
        registry.register(trap_state)
        self.sink = sys.stdout if args.events == "-" else open(args.events, "a")  # noqa: SIM115
        if self.traps_at is not None:
            self.receiver = TrapReceiver(
                *self.traps_at,
                trap_state,
                communities=trap_communities(topo, self.decryptor),
                users={t.usm for t in self.targets if t.usm is not None},
                targets=self.targets,
                links=links,
                settings=trap_settings(topo),
                polled=lambda: poller.results,
                sink=self.sink,
            )
            self.receiver.start()
        return f" for {len(self.polled)} targets"

    async def run(self, stop: asyncio.Event) -> None:
        await self.poller.run(self.interval, stop)

    async def close(self) -> None:
        if self.receiver is not None:
            self.receiver.close()
        self.poller.close()
        if self.sink is not sys.stdout:
            self.sink.close()


def main(argv: list[str] | None = None) -> int:
    return serve.main(build_parser(), SnmpExporter, log, argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
