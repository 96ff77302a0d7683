"""Print structured configs: `python -m emops.structured [-i INVENTORY] [HOST...]`."""

from __future__ import annotations

import argparse
import sys

import yaml

from emops.commandline import report_problems
from emops.errors import EmopsError
from emops.structured.pipeline import structured_configs
from emops.structured.plain import plain
from emops.topology import load_topology


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emops.structured", description=__doc__)
    parser.add_argument("-i", "--inventory", default="inventory/lab")
    parser.add_argument("hosts", nargs="*", help="hosts to print (default: all)")
    args = parser.parse_args(argv)
    try:
        configs = structured_configs(load_topology(args.inventory))
        unknown = [h for h in args.hosts if h not in configs]
        if unknown:
            raise EmopsError.of("host", f"unknown host {unknown[0]!r}", "name a host of hosts.yml")
    except EmopsError as exc:
        return report_problems(exc)
    chosen = {h: configs[h] for h in args.hosts} if args.hosts else configs
    yaml.safe_dump(plain(chosen), sys.stdout, sort_keys=False, default_flow_style=None, width=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
