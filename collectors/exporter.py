"""The emops SNMP exporter: one process polls every device and receives traps.

    python -m collectors.exporter --inventory inventory/lab --listen 127.0.0.1:9610 \\
        [--interval 5s] [--traps 127.0.0.1:9162] [--events FILE|-]

The pipeline, in order:
  inventory -> topology model -> targets (credentials decrypted) -> poller
  -> collectors (SNMP + traps) -> one registry -> HTTP /metrics
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import IO

from prometheus_client import CollectorRegistry, start_http_server

from collectors.exposition import SnmpCollector
from collectors.links import interface_links, link_capacities
from collectors.options import add_safety_options, add_walk_options, exporter_parser, walk_limits
from collectors.safety import connected_networks, parse_listen, unsafe_reason
from collectors.snmp.poller import Poller, Target
from collectors.targets import describe, targets_from, trap_communities, trap_settings
from collectors.traps import TrapReceiver, TrapState
from emops.errors import EmopsError
from emops.monitoring.hashmod import devices_of_shard
from emops.secrets import decryptor_for
from emops.topology import load_topology
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


async def serve(args: argparse.Namespace) -> None:
    listen = parse_listen(args.listen)
    traps_at = None if args.traps == "off" else parse_listen(args.traps, "--traps")
    interval = parse_time(args.interval, "--interval")
    timeout = parse_time(args.timeout, "--timeout")
    limits = walk_limits(args)
    topo = load_topology(args.inventory, args.sites)  # inventory -> model
    if args.production and topo.is_lab:
        raise EmopsError.of("--production", "given with a lab inventory", "drop --production")
    decryptor = decryptor_for(args.inventory, args.vault_password_file, sealed=args.print_config)
    targets = targets_from(topo, decryptor)  # model -> targets with credentials
    shard, shards = args.shard
    mine = set(devices_of_shard([t.device for t in targets], shard, shards))
    polled = [t for t in targets if t.device in mine]  # traps: any device may send to any shard
    if args.print_config:
        print(json.dumps(describe(polled), indent=2))
        return
    links = interface_links(topo)  # ifname -> link labels
    poller = Poller(
        polled,
        timeout=timeout,
        retries=args.retries,
        deadline=max(timeout, interval * 0.9),
        max_in_flight=args.max_in_flight,
        guard=make_guard(args.production),
        limits=limits,
    )
    registry = CollectorRegistry()
    registry.register(SnmpCollector(lambda: poller.results, links, link_capacities(topo)))
    trap_state = TrapState(targets)
    registry.register(trap_state)
    receiver = None
    sink: IO[str] = sys.stdout if args.events == "-" else open(args.events, "a")  # noqa: SIM115
    if traps_at is not None:
        receiver = TrapReceiver(
            *traps_at,
            trap_state,
            communities=trap_communities(topo, decryptor),
            users={t.usm for t in targets if t.usm is not None},
            targets=targets,
            links=links,
            settings=trap_settings(topo),
            polled=lambda: poller.results,
            sink=sink,
        )
        receiver.start()
    server, _ = start_http_server(listen[1], listen[0], registry=registry)
    log.info("serving http://%s:%d/metrics for %d targets", *listen, len(polled))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await poller.run(interval, stop)
    finally:
        server.shutdown()
        server.server_close()
        if receiver is not None:
            receiver.close()
        poller.close()
        if sink is not sys.stdout:
            sink.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(serve(args))
    except EmopsError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except OSError as exc:  # a port already taken, a file that cannot be opened
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
