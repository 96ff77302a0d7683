"""The life of an exporter process, from argv to shutdown, shared by both exporters.

    argv -> --listen, then the exporter's own options -> inventory -> model
    -> (--production refused on a lab inventory) -> decryptor -> the exporter's plan
    -> --print-config and exit, or: registry -> HTTP /metrics -> rounds until
    SIGTERM/SIGINT -> HTTP server shut down -> the exporter closed

Each exporter (collectors/exporter.py, collectors/app_exporter.py) supplies its
parser, built on collectors/options.py, and an `Exporter`: what lies between the
model and the metrics. Bad input and a port already taken end with one line per
problem on stderr and exit code 2, never a traceback; both exporters behave
alike because this is the only copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, start_http_server

from collectors.safety import parse_listen
from emops.commandline import BAD_INPUT, report_problems
from emops.errors import EmopsError
from emops.secrets import Decryptor, decryptor_for
from emops.topology import Topology, load_topology


class Exporter(Protocol):
    """One exporter's part; constructed from the parsed options, which it checks
    (raising EmopsError) before the inventory is read."""

    def plan(self, topo: Topology, decryptor: Decryptor) -> Any:
        """Model -> targets with credentials; returns what --print-config prints."""
        ...

    def start(self, registry: CollectorRegistry) -> str:
        """Build what runs and register its collectors; returns what the
        "serving" log line adds (e.g. " for 12 targets")."""
        ...

    async def run(self, stop: asyncio.Event) -> None:
        """Collect every interval until `stop` is set."""
        ...

    async def close(self) -> None:
        """Release what `start` built (sockets, agents, files)."""
        ...


async def serve(
    args: argparse.Namespace,
    make: Callable[[argparse.Namespace], Exporter],
    log: logging.Logger,
) -> None:
    """Run one exporter until SIGTERM/SIGINT (or print its config and return)."""
    listen = parse_listen(args.listen)
    exporter = make(args)
    topo = load_topology(args.inventory, args.sites)  # inventory -> model
    if args.production and topo.is_lab:
        raise EmopsError.of("--production", "given with a lab inventory", "drop --production")
    decryptor = decryptor_for(args.inventory, args.vault_password_file, sealed=args.print_config)
    config = exporter.plan(topo, decryptor)
    if args.print_config:
        print(json.dumps(config, indent=2))
        return
    registry = CollectorRegistry()
    serving = exporter.start(registry)
    try:
        server, _ = start_http_server(listen[1], listen[0], registry=registry)
        log.info("serving http://%s:%d/metrics%s", *listen, serving)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await exporter.run(stop)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        await exporter.close()


def main(
    parser: argparse.ArgumentParser,
    make: Callable[[argparse.Namespace], Exporter],
    log: logging.Logger,
    argv: list[str] | None = None,
) -> int:
    """Parse argv, log to stderr, serve; exit code 0, or 2 for bad input."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(serve(args, make, log))
    except EmopsError as exc:
        return report_problems(exc, "error: ")
    except OSError as exc:  # a port already taken, a file that cannot be opened
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    return 0
