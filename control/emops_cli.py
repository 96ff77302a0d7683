"""`emops`: one command line for every part of the suite.

Each part registers its own subcommand (`emops inventory`, `capacity`, `lab`,
`monitor`, `vendor`, `campaign`, `dashboard`). Bad input ends with one line per
problem on stderr and exit code 2, never a traceback. This module is the top of
the import graph (docs/architecture.md): it imports every part, none imports it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from capacity.capacity_cli import register as register_capacity
from control.monitor_cli import register as register_monitor
from dashboard.dashboard_cli import register as register_dashboard
from emops import __version__
from emops.commandline import report_problems
from emops.errors import EmopsError
from emops.inventory_cli import register as register_inventory
from emops.vendor.vendor_cli import register as register_vendor
from lab.lab_cli import register as register_lab
from loadtest.campaign_cli import register as register_campaign


class _Parser(argparse.ArgumentParser):
    """argparse, but its usage errors look like every other emops error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="emops", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"emops {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    register_inventory(commands)
    register_capacity(commands)
    register_lab(commands)
    register_monitor(commands)
    register_dashboard(commands)
    register_vendor(commands)
    register_campaign(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code is returned (usage errors and --help included)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's usage error (2) or --help/--version (0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.run(args) or 0)
    except EmopsError as exc:
        return report_problems(exc, "emops: error: ")
    except KeyboardInterrupt:
        print("emops: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `emops ... | head`: the reader left; not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
