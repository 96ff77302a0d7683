"""The emops application exporter: HTTP probes, VRRP state, PostgreSQL and business counters.

    python -m collectors.app_exporter --inventory inventory/lab --listen 127.0.0.1:9611 \\
        [--interval 5s] [--probe-from DEVICE|host|clients] [--collect-from self|host|DEVICE]

The pipeline, in order:
  inventory -> topology model -> plan (credentials decrypted) -> vantage points
  -> runner (one round per interval) -> store -> AppCollector -> HTTP /metrics
The process around it (print-config, HTTP server, signals, shutdown) is
collectors/serve.py, shared with the SNMP exporter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any

from prometheus_client import CollectorRegistry

from collectors import serve
from collectors.app.exposition import AppCollector
from collectors.app.runner import AppRunner
from collectors.app.store import Store
from collectors.app.targets import AppPlan, describe, plan_from
from collectors.app.vantage import HOST, LocalVantage, NamespaceVantage, Vantage
from collectors.app.vrrp import NetnsAddresses
from collectors.options import add_safety_options, exporter_parser
from emops.errors import EmopsError
from emops.secrets import Decryptor
from emops.topology import Topology
from emops.units import parse_time

log = logging.getLogger("collectors.app_exporter")
SELF = "self"  # --collect-from: each server from inside its own namespace
CLIENTS = "clients"  # --probe-from: every client device


def build_parser() -> argparse.ArgumentParser:
    p = exporter_parser(
        "python -m collectors.app_exporter", __doc__.split("\n\n")[0], "127.0.0.1:9611"
    )
    p.add_argument("--interval", default="5s", help="time between rounds (e.g. 5s)")
    p.add_argument("--timeout", default="2s", help="per-check timeout (at most 90%% of interval)")
    p.add_argument("--max-in-flight", type=int, default=32, help="checks running at once")
    p.add_argument(
        "--probe-from",
        action="append",
        metavar="WHERE",
        help="where VIP probes leave from: a twin device (its namespace), 'host' (this "
        "process) or 'clients' (every client device); repeat or comma-separate. Default: "
        "the first municipal client in the lab, host in production",
    )
    p.add_argument(
        "--collect-from",
        metavar="WHERE",
        help="where server probes, /stats and PostgreSQL are read from: 'self' (each "
        "server's own namespace), 'host' or a twin device. Default: self in the lab, host "
        "in production",
    )
    p.add_argument(
        "--vrrp",
        choices=("auto", "netns", "off"),
        default="auto",
        help="VRRP state source: netns (the twin's namespaces); auto = netns in the lab, "
        "off in production (VRRP-MIB not implemented)",
    )
    p.add_argument("--customer", type=int, default=1, help="the customer id probes read")
    add_safety_options(p, "database", "the plan")
    return p


class Vantages:
    """Builds each vantage point once, by name; `host` is this process."""

    def __init__(self, topo: Topology, production: bool) -> None:
        self.topo = topo
        self.production = production
        self.hq = next((s.name for s in topo.sites.values() if s.kind == "hq"), "")
        self._built: dict[str, Vantage] = {}

    def get(self, name: str, field: str) -> Vantage:
        if name not in self._built:
            if name == HOST:
                self._built[name] = LocalVantage(self.hq, self.production)
            else:
                self._built[name] = NamespaceVantage(name, self.site(name, field), self.production)
        return self._built[name]

    def site(self, device: str, field: str) -> str:
        if device not in self.topo.devices:
            raise EmopsError.of(field, f"unknown device {device!r}", "name an inventory host")
        if not self.topo.is_lab:
            raise EmopsError.of(
                field, f"{device}: device namespaces exist only in the twin", "use 'host'"
            )
        return self.topo.devices[device].site


def probe_sources(topo: Topology, values: list[str] | None) -> list[str]:
    """--probe-from as vantage names: devices, 'host', 'clients' expanded."""
    if not values:
        clients = [d for s in topo.municipal_sites() for d in topo.devices_at(s.name)]
        first = next((d.name for d in clients if d.role == "client"), None)
        return [first] if topo.is_lab and first else [HOST]
    names: list[str] = []
    for value in values:
        for name in filter(None, (v.strip() for v in value.split(","))):
            if name == CLIENTS:
                names += sorted(d.name for d in topo.devices_with_role("client"))
            else:
                names.append(name)
    return list(dict.fromkeys(names))


def build_runner(args: argparse.Namespace, topo: Topology, plan: AppPlan) -> AppRunner:
    """Vantage points and the runner, every CLI problem raised together."""
    interval = parse_time(args.interval, "--interval")
    timeout = min(parse_time(args.timeout, "--timeout"), interval * 0.9)
    vantages = Vantages(topo, args.production)
    probe_from = [vantages.get(n, "--probe-from") for n in probe_sources(topo, args.probe_from)]
    sites = [v.site for v in probe_from]
    if len(set(sites)) != len(sites):
        raise EmopsError.of(
            "--probe-from", f"two vantage points at one site ({sites})", "one per site"
        )
    collect_from = args.collect_from or (SELF if topo.is_lab else HOST)
    if collect_from == SELF:
        devices = [t.owner for t in (*plan.server_probes, *plan.stats)]
        for device in devices + [t.device for t in plan.postgres]:
            vantages.get(device, "--collect-from")  # validate now, not mid-round

        def direct(device: str) -> Vantage:
            return vantages.get(device, "--collect-from")
    else:
        shared = vantages.get(collect_from, "--collect-from")

        def direct(device: str) -> Vantage:
            return shared

    source = args.vrrp if args.vrrp != "auto" else ("netns" if topo.is_lab else "off")
    if source == "netns" and not topo.is_lab:
        raise EmopsError.of("--vrrp", "netns needs the lab inventory", "use --vrrp off")
    return AppRunner(
        plan,
        Store(),
        probe_from,
        direct,
        NetnsAddresses() if source == "netns" else None,
        timeout=timeout,
        customer_id=args.customer,
        max_in_flight=args.max_in_flight,
    )


class AppExporter:
    """Every application check, run from its vantage points, behind one registry."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.interval = parse_time(args.interval, "--interval")

    def plan(self, topo: Topology, decryptor: Decryptor) -> Any:
        """Model -> checks with credentials -> vantage points, checked now, not mid-round."""
        args = self.args
        self.checks = plan_from(topo, decryptor, args.customer)
        self.runner = build_runner(args, topo, self.checks)
        return describe(self.checks) | {
            "probe_from": probe_sources(topo, args.probe_from),
            "collect_from": args.collect_from or (SELF if topo.is_lab else HOST),
            "vrrp_source": "netns" if self.runner.addresses is not None else "off",
        }

    def start(self, registry: CollectorRegistry) -> str:
        registry.register(AppCollector(self.runner.store, self.checks.postgres, self.checks.vrrp))
        return ""

    async def run(self, stop: asyncio.Event) -> None:
        await self.runner.run(self.interval, stop)

    async def close(self) -> None:
        await self.runner.close()


def main(argv: list[str] | None = None) -> int:
    return serve.main(build_parser(), AppExporter, log, argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
