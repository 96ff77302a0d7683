"""`emops dashboard`: start the read-only ops KPI dashboard (a Streamlit app).

Options are checked here, before Streamlit starts, so a typo ends with one
emops error line instead of a web page that fails later; the checked values
reach the app through environment variables (dashboard.settings).
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

from dashboard.settings import (
    DEFAULT_ADDRESS,
    DEFAULT_CAMPAIGNS,
    DEFAULT_INVENTORY,
    DEFAULT_PORT,
    DEFAULT_PROMETHEUS,
    DashboardSettings,
    check_address,
    check_port,
    check_url,
)
from emops.commandline import checked
from emops.errors import EmopsError
from emops.netaddr import parse_port
from emops.topology import load_topology
from emops.units import parse_int
from lab.bringup import running_sites

APP = Path(__file__).resolve().parent / "app.py"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="the ops KPI dashboard (Streamlit, read-only)",
        description="Serve the KPI dashboard: availability, delay, downtime, precision and "
        "false alarms; topology, WAN capacity, server groups, alerts and campaigns.",
    )
    parser.add_argument(
        "-i", "--inventory", default=DEFAULT_INVENTORY, help=f"default: {DEFAULT_INVENTORY}"
    )
    parser.add_argument(
        "--prometheus", default=DEFAULT_PROMETHEUS, help=f"default: {DEFAULT_PROMETHEUS}"
    )
    parser.add_argument("--alertmanager", default="", help="also list its alerts (optional)")
    parser.add_argument(
        "--campaigns",
        default=DEFAULT_CAMPAIGNS,
        metavar="DIR",
        help=f"load-campaign results (default: {DEFAULT_CAMPAIGNS})",
    )
    parser.add_argument(
        "--sites",
        type=checked(_sites, "--sites"),
        metavar="N",
        help="show HQ and the first N municipal companies (default: the running twin's size "
        "for the lab inventory, else all)",
    )
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="default: 127.0.0.1")
    parser.add_argument(
        "--port",
        type=checked(partial(parse_port, example=str(DEFAULT_PORT)), "--port"),
        default=DEFAULT_PORT,
        help=f"default: {DEFAULT_PORT}",
    )
    parser.add_argument(
        "--allow-any-address",
        action="store_true",
        help="listen outside loopback and the lab range (the dashboard has no login)",
    )
    parser.set_defaults(run=_run)


def _sites(text: str, field: str) -> int:
    return parse_int(text, field, 1, 1000, "3")


def settings_from_args(args: argparse.Namespace) -> DashboardSettings:
    """Validated settings; the inventory must load (its errors are the user's to fix)."""
    sites = args.sites
    if sites is None and load_topology(args.inventory).is_lab:
        sites = running_sites(args.inventory)
    load_topology(args.inventory, sites)  # --sites in range
    if Path(args.campaigns).exists() and not Path(args.campaigns).is_dir():  # none yet is fine
        raise EmopsError.of("--campaigns", f"{args.campaigns} is not a directory", "give a folder")
    return DashboardSettings(
        inventory=str(Path(args.inventory).resolve()),
        prometheus=check_url(args.prometheus, "--prometheus"),
        campaigns=str(Path(args.campaigns).resolve()),
        alertmanager=check_url(args.alertmanager, "--alertmanager") if args.alertmanager else "",
        sites=str(sites) if sites is not None else "",
    )


def streamlit_command(address: str, port: int) -> list[str]:
    """`streamlit run` with everything that phones home or reloads code turned off."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.address={address}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.runOnSave=false",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
    ]


def _run(args: argparse.Namespace) -> int:  # returns only on bad options
    address = check_address(args.address, args.allow_any_address)
    port = check_port(args.port)
    settings = settings_from_args(args)
    print(f"emops dashboard: http://{address}:{port}/ (Prometheus {settings.prometheus})")
    sys.stdout.flush()
    command = streamlit_command(address, port)
    # exec, not a child: Ctrl-C and a supervisor's signals reach Streamlit, and its PID is ours
    os.execve(command[0], command, os.environ | settings.to_env())
