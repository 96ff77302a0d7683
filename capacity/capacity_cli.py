"""`emops capacity pingpong|bulk|plan`: one calculation, or a whole province."""

from __future__ import annotations

import argparse
import json

from capacity.chart import plan_chart
from capacity.formulas import bulk_bps, pingpong_bps, pingpong_refined_bps
from capacity.plan import plan_links
from capacity.report import to_csv, to_json, to_table
from emops.errors import EmopsError
from emops.files import check_output_file, write_all
from emops.inventory_cli import add_inventory_arg
from emops.topology import load_topology
from emops.units import (
    MAX_RATE_BPS,
    format_rate,
    parse_int,
    parse_number,
    parse_rate,
    parse_size,
    parse_time,
)

MAX_USERS = 10_000_000  # more than every customer of the province at once
MAX_PACKETS = 1_000_000  # per direction of one exchange
MAX_PACKET_BYTES = 65_535  # the largest IP packet


def _sane(bps: float, inputs: str) -> float:
    """A computed rate the planner can use: above 1 Tbit/s the inputs hold a typo."""
    if bps > MAX_RATE_BPS:
        raise EmopsError.of(
            inputs, f"the result, {format_rate(bps)}bit/s, is above 1 Tbit/s", "check these inputs"
        )
    return bps


def register(commands: argparse._SubParsersAction) -> None:
    cap = commands.add_parser("capacity", help="bandwidth formulas and WAN link sizing")
    sub = cap.add_subparsers(dest="action", required=True, metavar="ACTION")

    pp = sub.add_parser(
        "pingpong",
        help="bandwidth of N users in ping-pong exchanges",
        description="B = 8*N*K*M / (T + K*P) per direction (the paper's formula), "
        "and the refined strict ping-pong form beside it.",
    )
    pp.add_argument("--users", required=True, metavar="N", help="active users")
    pp.add_argument("--think-time", required=True, metavar="T", help="user think time, e.g. 30s")
    pp.add_argument("--packets", required=True, metavar="K", help="packets per direction")
    pp.add_argument("--packet-size", required=True, metavar="M", help="bytes per packet, e.g. 900B")
    pp.add_argument(
        "--delay", default="0", metavar="P", help="one-way delay, e.g. 10ms (default 0)"
    )
    pp.add_argument("--link-rate", metavar="C", help="link rate for the refined form, e.g. 2M")
    pp.add_argument("--format", choices=("text", "json"), default="text")
    pp.set_defaults(run=_pingpong)

    bulk = sub.add_parser(
        "bulk", help="bandwidth to move F bytes within R seconds", description="B = 8*F*O / R"
    )
    bulk.add_argument("--size", required=True, metavar="F", help="bytes to move, e.g. 20MB")
    bulk.add_argument("--required-time", required=True, metavar="R", help="e.g. 120s")
    bulk.add_argument(
        "--overhead", default="1.05", metavar="O", help="protocol overhead factor (default 1.05)"
    )
    bulk.add_argument("--format", choices=("text", "json"), default="text")
    bulk.set_defaults(run=_bulk)

    plan = sub.add_parser("plan", help="size every WAN link of an inventory")
    add_inventory_arg(plan)
    plan.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="what to print (default table)",
    )
    plan.add_argument("--headroom", metavar="H", help="fraction kept free (default from inventory)")
    plan.add_argument("--csv", metavar="FILE", help="also write the plan as CSV")
    plan.add_argument("--json", metavar="FILE", help="also write the plan as JSON")
    plan.add_argument(
        "--chart", metavar="FILE", help="also write an HTML chart of demand vs capacity"
    )
    plan.set_defaults(run=_plan)


def _emit(result: dict[str, object], fmt: str, text: str) -> int:
    print(json.dumps(result, indent=2) if fmt == "json" else text)
    return 0


def _pingpong(args: argparse.Namespace) -> int:
    users = parse_int(args.users, "--users", 0, MAX_USERS)
    think = parse_time(args.think_time, "--think-time")
    packets = parse_int(args.packets, "--packets", 1, MAX_PACKETS, "8")
    size = parse_size(args.packet_size, "--packet-size", bounds=(1, MAX_PACKET_BYTES))
    delay = parse_time(args.delay, "--delay", allow_zero=True)
    link = parse_rate(args.link_rate, "--link-rate") if args.link_rate is not None else None
    inputs = "--users/--packets/--packet-size/--think-time"
    published = _sane(pingpong_bps(users, think, packets, size, delay), inputs)
    refined = pingpong_refined_bps(users, think, packets, size, delay, link)
    result = {
        "published_bps": published,
        "refined_bps": refined,
        "users": users,
        "think_time_s": think,
        "packets": packets,
        "packet_bytes": size,
        "delay_s": delay,
        "link_bps": link,
    }
    text = (
        f"ping-pong, per direction: {format_rate(published)}bit/s (paper's formula), "
        f"{format_rate(refined)}bit/s (refined{', at ' + format_rate(link) if link else ''})"
    )
    return _emit(result, args.format, text)


def _bulk(args: argparse.Namespace) -> int:
    size = parse_size(args.size, "--size")
    within = parse_time(args.required_time, "--required-time")
    overhead = parse_number(args.overhead, "--overhead", 1, 10, "1.05")
    bps = _sane(bulk_bps(size, within, overhead), "--size/--required-time")
    result = {"bulk_bps": bps, "size_bytes": size, "required_time_s": within, "overhead": overhead}
    return _emit(result, args.format, f"bulk: {format_rate(bps)}bit/s")


def _plan(args: argparse.Namespace) -> int:
    headroom = None
    if args.headroom is not None:
        headroom = parse_number(args.headroom, "--headroom", 0, 10, "0.3")
    requested = [(args.csv, "--csv"), (args.json, "--json"), (args.chart, "--chart")]
    for path, field in requested:  # a typo in a path fails before any work
        if path is not None:
            check_output_file(path, field)
    topo = load_topology(args.inventory)
    rows = plan_links(topo, headroom)
    meta = {
        "inventory": topo.source,
        "network": topo.network,
        "headroom": topo.planning.headroom if headroom is None else headroom,
        "max_utilisation": topo.planning.max_utilisation,
        "overhead": topo.planning.overhead,
    }
    outputs = {
        "table": lambda: to_table(rows),
        "csv": lambda: to_csv(rows),
        "json": lambda: to_json(rows, meta),
    }
    # Render everything before writing anything: a failure leaves no partial files.
    files: list[tuple[str, str, str]] = []
    if args.csv is not None:
        files.append((args.csv, "--csv", to_csv(rows)))
    if args.json is not None:
        files.append((args.json, "--json", to_json(rows, meta)))
    if args.chart is not None:
        files.append(
            (
                args.chart,
                "--chart",
                plan_chart(rows, f"WAN capacity plan: {topo.network} ({topo.source})"),
            )
        )
    write_all(files)
    print(outputs[args.format](), end="")
    return 0
