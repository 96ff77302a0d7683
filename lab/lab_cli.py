"""`emops lab ...`: build, inspect, break and repair the digital twin."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emops.commandline import checked
from emops.errors import EmopsError
from emops.inventory_cli import add_inventory_arg
from emops.units import format_rate, parse_int
from lab.bringup import lab_down, lab_status, lab_up, require_root
from lab.faults import Lab, ground_truth
from lab.vendor_agent import FAULTS


def register(commands: argparse._SubParsersAction) -> None:
    lab = commands.add_parser("lab", help="the digital twin: namespaces, links, faults")
    sub = lab.add_subparsers(dest="action", required=True, metavar="ACTION")

    up = sub.add_parser("up", help="build the twin (idempotent)")
    add_inventory_arg(up, "inventory/lab")
    up.add_argument(
        "--sites",
        type=_sites,
        metavar="N",
        help="municipal companies to build (default 3; 12 is the full province)",
    )
    up.set_defaults(run=_up)

    down = sub.add_parser("down", help="remove everything the twin made")
    add_inventory_arg(down, "inventory/lab")
    down.set_defaults(run=_down)

    status = sub.add_parser("status", help="each device and link with its state")
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(run=_status)

    fault = sub.add_parser("fault", help="inject or repair a fault (logged as ground truth)")
    kinds = fault.add_subparsers(dest="fault", required=True, metavar="FAULT")
    for name, helptext in (
        ("link-down", "cut a link or one bundle member"),
        ("link-up", "repair a link or one bundle member"),
    ):
        p = kinds.add_parser(name, help=helptext)
        p.add_argument("link", help="inventory link name, e.g. anping-private")
        p.add_argument(
            "--member", type=checked(_member, "--member"), help="only this bundle member (from 0)"
        )
        p.set_defaults(run=_fault)
    for name, helptext in (
        ("device-down", "interfaces down, processes frozen"),
        ("device-up", "thaw processes, interfaces up"),
    ):
        p = kinds.add_parser(name, help=helptext)
        p.add_argument("device")
        p.set_defaults(run=_fault)
    for name, helptext in (
        ("daemon-stop", "stop a named daemon of a device"),
        ("daemon-start", "start it again from its recorded command"),
    ):
        p = kinds.add_parser(name, help=helptext)
        p.add_argument("device")
        p.add_argument("daemon", help="service name, e.g. sshd, haproxy")
        if name == "daemon-stop":
            p.add_argument("--kill", action="store_true", help="SIGKILL instead of SIGTERM")
        p.set_defaults(run=_fault)
    for name, helptext in (
        ("cpu-high", "vendor face: main board CPU at 97 %%"),
        ("overheat", "vendor face: main board above its temperature threshold"),
        ("optics-degrade", "vendor face: first optical port's rx power below its low threshold"),
        ("psu-fail", "vendor face: power supply 1 fails (the second keeps the device up)"),
    ):
        p = kinds.add_parser(name, help=helptext)
        p.add_argument("device", help="a twin device with emops_snmp_face, e.g. hq-core1")
        p.add_argument("--restore", action="store_true", help="repair it: nominal values again")
        p.set_defaults(run=_fault)

    log = sub.add_parser("ground-truth", help="print the faults and repairs so far (JSON lines)")
    log.set_defaults(run=_ground_truth)


def _member(text: str, field: str) -> int:
    return parse_int(text, field, 0, 1000, "0")


def _sites(text: str) -> int:
    try:
        value = parse_int(text, "--sites", -(10**9), 10**9)
    except EmopsError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more (municipal companies)")
    return value


def _up(args: argparse.Namespace) -> int:
    lab_up(args.inventory, args.sites)
    return 0


def _down(args: argparse.Namespace) -> int:
    require_root()
    if not Path(args.inventory).is_dir():  # a broken inventory may clean up; a typo may not
        raise EmopsError.of(
            "--inventory", f"{args.inventory} is not a directory", "give the twin's inventory"
        )
    lab_down(args.inventory)
    return 0


def _status(args: argparse.Namespace) -> int:
    status = lab_status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    if not status["up"]:
        print("the twin is down (start it with `emops lab up`)")
        return 0
    print(f"twin of {', '.join(status['sites'])} from {status['inventory']}")
    print(f"\n{'device':16} {'role':13} {'mgmt':15} {'state':8} services")
    for name, d in status["devices"].items():
        state = "up" if d["running"] else ("no-proc" if d["netns"] else "missing")
        services = " ".join(f"{k}{'' if v else '(stopped)'}" for k, v in d["services"].items())
        print(f"{name:16} {d['role']:13} {d['mgmt']:15} {state:8} {services}")
    print(f"\n{'link':18} {'m':>2} {'rate':>6}  ends")
    for link in status["links"]:
        if link["rate_bps"] is None and link["ends"][1]["netns"] == "emops-l2":
            continue  # segment ports: shown by their device
        ends = "  ".join(f"{e['netns']}:{e['ifname']}={e['state']}" for e in link["ends"])
        rate = format_rate(link["rate_bps"]) if link["rate_bps"] else "-"
        member = "" if link["member"] is None else str(link["member"])
        print(f"{link['link']:18} {member:>2} {rate:>6}  {ends}")
    return 0


def _fault(args: argparse.Namespace) -> int:
    require_root()
    lab = Lab.attach()
    actions = {
        "link-down": lambda: lab.link_down(args.link, args.member),
        "link-up": lambda: lab.link_up(args.link, args.member),
        "device-down": lambda: lab.device_down(args.device),
        "device-up": lambda: lab.device_up(args.device),
        "daemon-stop": lambda: lab.daemon_stop(args.device, args.daemon, args.kill),
        "daemon-start": lambda: lab.daemon_start(args.device, args.daemon),
    }
    if args.fault in FAULTS:  # health faults: one command, --restore repairs
        change = lab.health_restore if args.restore else lab.health_fault
        actions[args.fault] = lambda: change(args.device, args.fault)
    print(json.dumps(actions[args.fault]()))
    return 0


def _ground_truth(args: argparse.Namespace) -> int:
    for entry in ground_truth():
        print(json.dumps(entry))
    return 0
