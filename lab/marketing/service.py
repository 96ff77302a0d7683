"""Run the stand-in marketing service.

`python -m lab.marketing.service --listen HOST:PORT --dsn DSN [--replica-dsn DSN]`

Listens only on loopback or a 198.18.0.0/15 lab address. Prints
`listening on http://HOST:PORT` on stdout once it accepts connections (with
the real port when asked for port 0), and exits cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from aiohttp import web

from emops.commandline import BAD_INPUT, report_problems
from emops.errors import EmopsError
from lab.marketing.app import Config, create_app
from lab.marketing.db import check_dsn
from lab.marketing.listen import parse_listen


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes in one line (exit 2), without the usage block."""

    def error(self, message: str) -> NoReturn:
        raise EmopsError.of("arguments", message, "see --help")


def parse_args(argv: Sequence[str] | None) -> tuple[str, int, Config, bool]:
    parser = _Parser(
        prog="python -m lab.marketing.service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--listen", required=True, help="HOST:PORT, loopback or 198.18.0.0/15")
    parser.add_argument("--dsn", required=True, help="primary: postgresql://user@host:port/db")
    parser.add_argument("--replica-dsn", help="standby for report exports (default: primary)")
    parser.add_argument("--pool-size", type=int, default=10, help="primary connections")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    host, port = parse_listen(args.listen)
    check_dsn(args.dsn, "--dsn")
    if args.replica_dsn is not None:
        check_dsn(args.replica_dsn, "--replica-dsn")
    if not 1 <= args.pool_size <= 500:
        raise EmopsError.of("--pool-size", f"{args.pool_size} must be from 1 to 500")
    return host, port, Config(args.dsn, args.replica_dsn, args.pool_size), args.access_log


async def serve(host: str, port: int, config: Config, access_log: bool) -> None:
    runner = web.AppRunner(
        create_app(config), access_log=logging.getLogger("aiohttp.access") if access_log else None
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        print(f"listening on http://{shown}:{bound_port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        host, port, config, access_log = parse_args(argv)
        asyncio.run(serve(host, port, config, access_log))
    except EmopsError as exc:
        return report_problems(exc, "marketing service: ")
    except OSError as exc:  # e.g. address in use, or not configured on this host
        print(f"marketing service: cannot listen: {exc.strerror or exc}", file=sys.stderr)
        return BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
