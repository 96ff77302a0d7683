"""`emops monitor config|up|down|status`: the monitoring config and the servers that run it."""

from __future__ import annotations

import argparse
import json

from emops.cli import checked
from emops.inventory_cli import add_inventory_arg
from emops.monitoring.settings import parse_listen
from emops.netaddr import check_url
from emops.units import parse_int, parse_time

DEFAULT_INVENTORY = "inventory/lab"


def register(commands: argparse._SubParsersAction) -> None:
    mon = commands.add_parser("monitor", help="Prometheus and Alertmanager from the inventory")
    sub = mon.add_subparsers(dest="action", required=True, metavar="ACTION")

    config = sub.add_parser("config", help="write prometheus.yml, rules and alertmanager.yml")
    add_inventory_arg(config, DEFAULT_INVENTORY)
    config.add_argument(
        "--out", metavar="DIR", help="output directory (default: monitoring/generated/<network>)"
    )
    _add_scale_args(config)
    config.set_defaults(run=_config)

    up = sub.add_parser("up", help="start Prometheus and Alertmanager in the background")
    add_inventory_arg(up, DEFAULT_INVENTORY)
    _add_scale_args(up)
    up.add_argument(
        "--prometheus-listen",
        type=checked(parse_listen, "--prometheus-listen"),
        default="127.0.0.1:9090",
        metavar="HOST:PORT",
        help="Prometheus web address (default: 127.0.0.1:9090; loopback only)",
    )
    up.add_argument(
        "--alertmanager-listen",
        type=checked(parse_listen, "--alertmanager-listen"),
        default="127.0.0.1:9093",
        metavar="HOST:PORT",
        help="Alertmanager web address (default: 127.0.0.1:9093; loopback only)",
    )
    up.add_argument(
        "--timeout",
        type=checked(_timeout, "--timeout"),
        default=30.0,
        metavar="S",
        help="wait for ready, e.g. 30s (default 30)",
    )
    up.add_argument(
        "--no-collectors",
        dest="collectors",
        action="store_false",
        help="only Prometheus and Alertmanager (collectors and alert sink run elsewhere)",
    )
    up.add_argument(
        "--sites",
        type=checked(_positive, "--sites"),
        metavar="N",
        help="watch HQ and the first N municipal companies (default: the running twin's size)",
    )
    up.add_argument(
        "--production",
        action="store_true",
        help="let the collectors poll addresses outside the lab (production inventory only)",
    )
    up.set_defaults(run=_up)

    down = sub.add_parser("down", help="stop the Prometheus and Alertmanager that `up` started")
    down.set_defaults(run=_down)

    status = sub.add_parser("status", help="daemons and the health of every scrape target")
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(run=_status)


def _add_scale_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shards",
        type=checked(_positive, "--shards"),
        default=1,
        metavar="N",
        help="split SNMP collection over N collector processes (hashmod on device)",
    )
    parser.add_argument(
        "--remote-write",
        type=checked(_remote_write, "--remote-write"),
        metavar="URL",
        help="also send every sample to URL (e.g. VictoriaMetrics for long retention)",
    )


def _positive(text: str, field: str) -> int:
    return parse_int(text, field, 1, 1000, "4")


def _timeout(text: str, field: str) -> float:
    return parse_time(text, field, bounds=(0.1, 3600.0))


def _remote_write(text: str, field: str) -> str:
    return check_url(text, field, "http://127.0.0.1:8428/api/v1/write")


def _config(args: argparse.Namespace) -> int:
    from emops.monitoring.generate import generate

    out = generate(args.inventory, args.out, shards=args.shards, remote_write=args.remote_write)
    print(f"wrote {out}/prometheus.yml, {out}/rules/emops.rules.yml, {out}/alertmanager.yml")
    return 0


def _up(args: argparse.Namespace) -> int:
    from emops.monitoring import server

    for line in server.up(
        args.inventory,
        prometheus=args.prometheus_listen,
        alertmanager=args.alertmanager_listen,
        shards=args.shards,
        remote_write=args.remote_write,
        timeout=args.timeout,
        collectors=args.collectors,
        sites=args.sites,
        production=args.production,
    ):
        print(line)
    return 0


def _down(args: argparse.Namespace) -> int:
    from emops.monitoring import server

    for line in server.down():
        print(line)
    return 0


def _status(args: argparse.Namespace) -> int:
    from emops.monitoring import server

    healthy, lines, targets = server.status()
    if args.json:
        print(
            json.dumps(
                {"healthy": healthy, "daemons": lines, "targets": [t.__dict__ for t in targets]},
                indent=2,
            )
        )
        return 0 if healthy else 1
    for line in lines:
        print(line)
    for t in targets:
        error = f"  ({t.error})" if t.error else ""
        print(f"  {t.job:12} {t.instance:24} {t.health}{error}")
    return 0 if healthy else 1
