"""Command-line options every collector exporter shares, defined once."""

from __future__ import annotations

import argparse


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
