"""`emops inventory check|show`: validate the inventory and summarise the model."""

from __future__ import annotations

import argparse
from collections import Counter

from emops.topology import load_topology
from emops.units import format_rate


def add_inventory_arg(parser: argparse.ArgumentParser, default: str = "inventory/province") -> None:
    parser.add_argument(
        "-i", "--inventory", default=default, help=f"inventory directory (default: {default})"
    )


def register(commands: argparse._SubParsersAction) -> None:
    inv = commands.add_parser("inventory", help="validate and summarise an inventory")
    sub = inv.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="report every problem in the inventory at once")
    add_inventory_arg(check)
    check.set_defaults(run=_check)
    show = sub.add_parser("show", help="sites, devices and links as the model sees them")
    add_inventory_arg(show)
    show.set_defaults(run=_show)


def _check(args: argparse.Namespace) -> int:
    topo = load_topology(args.inventory)
    print(
        f"{args.inventory}: ok ({topo.network}: {len(topo.sites)} sites, "
        f"{len(topo.devices)} devices, {len(topo.links)} links, {len(topo.segments)} segments)"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    topo = load_topology(args.inventory)
    roles = Counter(d.role for d in topo.devices.values())
    print(f"{topo.network} network from {topo.source}")
    print("devices: " + ", ".join(f"{n} {r}" for r, n in sorted(roles.items())))
    for site in topo.sites.values():
        counties = f" ({len(site.counties)} counties)" if site.counties else ""
        print(f"\n{site.name} [{site.kind}]{counties} {site.description}")
        for link in topo.links:
            if link.role in ("primary", "backup") and topo.site_of_link(link) == site.name:
                bundle = (
                    f" = {len(link.members)} x {format_rate(link.rate_bps)}" if link.members else ""
                )
                print(f"  {link.role:8} {link.name:24} {format_rate(link.capacity_bps):>6}{bundle}")
    return 0
