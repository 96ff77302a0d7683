"""Command-line options every collector exporter shares, defined once."""

from __future__ import annotations

import argparse

from collectors.snmp.walk import WalkLimits
from emops.errors import EmopsError
from emops.units import parse_size


def exporter_parser(prog: str, description: str, listen: str) -> argparse.ArgumentParser:
    """A parser with --inventory and --listen; add the exporter's own options next."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--inventory", "-i", default="inventory/lab", help="inventory directory")
    p.add_argument("--listen", default=listen, help="HTTP HOST:PORT for /metrics")
    p.add_argument(
        "--sites",
        type=int,
        metavar="N",
        help="only HQ and the first N municipal companies (the size of a running twin)",
    )
    return p


def add_safety_options(p: argparse.ArgumentParser, secrets: str, printed: str) -> None:
    """--vault-password-file, --production and --print-config, worded for this exporter."""
    p.add_argument("--vault-password-file", help=f"decrypts the inventory's {secrets} secrets")
    p.add_argument(
        "--production",
        action="store_true",
        help="allow addresses outside loopback and the lab (production inventory only)",
    )
    p.add_argument(
        "--print-config", action="store_true", help=f"print {printed} (secrets redacted) and exit"
    )


def add_walk_options(p: argparse.ArgumentParser) -> None:
    """--max-rows, --max-requests, --max-walk-bytes: what one agent may cost per table walk."""
    d = WalkLimits()
    p.add_argument(
        "--max-rows",
        default=str(d.max_rows),
        help=f"rows per table walk; more ends the poll as too_large (default {d.max_rows})",
    )
    p.add_argument(
        "--max-requests",
        default=str(d.max_rounds),
        help=f"GETBULK requests per table walk (default {d.max_rounds})",
    )
    p.add_argument(
        "--max-walk-bytes",
        default="1MiB",
        help="OID and value bytes kept per table walk (default 1MiB)",
    )


def walk_limits(args: argparse.Namespace) -> WalkLimits:
    """The walk caps of `add_walk_options`, or EmopsError naming the option."""
    size = parse_size(args.max_walk_bytes, "--max-walk-bytes")
    if size < 1:
        raise EmopsError.of(
            "--max-walk-bytes", f"{args.max_walk_bytes} is below one byte", "e.g. 1MiB"
        )
    return WalkLimits(
        max_rows=_whole(args.max_rows, "--max-rows"),
        max_rounds=_whole(args.max_requests, "--max-requests"),
        max_bytes=int(size),
    )


def _whole(text: str, option: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise EmopsError.of(option, f"{text!r} is not a whole number above 0", "e.g. 2000")
    return int(text)
