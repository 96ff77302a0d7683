"""What the application collectors check, derived from the topology model only.

- VIP probes: every segment VIP named after the service (target="vip");
- server probes: every web server at its data address (target=<device>);
- business counters: every app server's GET /stats;
- services: every app, stats, unified-interface and CTI server's own service
  (SERVICE_HEALTH_PATHS), checked from the server itself, so a stopped daemon is named
  by device even where a balancer hides it from users;
- PostgreSQL: every db server at its data address, port 5432;
- VRRP: segment gateways with a vrid (held by the segment's routers, instance =
  the segment) and service VIPs (held by their owners, instance = the VIP name).

Ports follow the structured config's (emops.structured.context.service_port),
and database credentials come from the vault, decrypted once at
start-up: `vault_db_monitor_user` / `vault_db_monitor_password` when the
inventory defines a monitoring account, else the marketing application account
(`marketing.db_user` / `marketing.db_password`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from collectors.targets import GLOBAL_FIELDS
from emops.errors import EmopsError, Problem
from emops.secrets import Decryptor, redact
from emops.structured.context import SERVICE_HEALTH_PATHS, service_port
from emops.topology.model import Device, Topology

SERVICE = "marketing"
VIP_TARGET = "vip"
ROUTING_ROLES = ("core_switch", "wan_router", "firewall")  # who runs a gateway's VRRP
MONITOR_USER, MONITOR_PASSWORD = "vault_db_monitor_user", "vault_db_monitor_password"


@dataclass(frozen=True)
class HttpTarget:
    """One HTTP endpoint: a VIP or a server, probed or read for /stats."""

    service: str
    target: str  # "vip" or the device's name
    host: str
    port: int
    path: str
    device: str | None = None  # the device it is (None for a VIP)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    @property
    def owner(self) -> str:
        """The device a direct check is about (its own name for a VIP)."""
        return self.device or self.target


@dataclass(frozen=True)
class PostgresTarget:
    device: str
    host: str
    port: int
    user: str
    database: str
    password: str | None = field(default=None, repr=False)

    def connect_args(self) -> dict[str, Any]:
        """Keyword arguments for `collectors.app.postgres.sample` (JSON-able)."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
        }


@dataclass(frozen=True)
class VrrpInstance:
    """A virtual address that exactly one of `devices` should hold."""

    instance: str
    segment: str
    address: str
    devices: tuple[str, ...]


@dataclass(frozen=True)
class AppPlan:
    vip_probes: tuple[HttpTarget, ...] = ()
    server_probes: tuple[HttpTarget, ...] = ()
    stats: tuple[HttpTarget, ...] = ()
    services: tuple[HttpTarget, ...] = ()
    postgres: tuple[PostgresTarget, ...] = ()
    vrrp: tuple[VrrpInstance, ...] = ()


def data_address(topo: Topology, device: str) -> str | None:
    """A host's data-plane address: its first segment address, else its first link end."""
    for segment in topo.segments:
        for member in segment.members:
            if member.device == device:
                return str(member.address.ip)
    for link in topo.links:
        for end in (link.a, link.b):
            if end.device == device and end.address is not None:
                return str(end.address.ip)
    return None


def customer_path(customer_id: int) -> str:
    return f"/customers/{customer_id}"


def _no_address(device: str) -> Problem:
    return Problem("segments", "no data address", "add the host to a segment", host=device)


def _servers(
    topo: Topology, role: str, path: str, problems: list[Problem], service: str = SERVICE
) -> list[HttpTarget]:
    targets = []
    for device in sorted(topo.devices_with_role(role), key=lambda d: d.name):
        host = data_address(topo, device.name)
        if host is None:
            problems.append(
                Problem("segments", "no data address", "add it to a segment", host=device.name)
            )
            continue
        targets.append(
            HttpTarget(service, device.name, host, service_port(device), path, device.name)
        )
    return targets


def service_checks(topo: Topology, problems: list[Problem]) -> list[HttpTarget]:
    """One check per server of every group in SERVICE_HEALTH_PATHS; `service` = its role."""
    return [
        target
        for role, path in SERVICE_HEALTH_PATHS.items()
        for target in _servers(topo, role, path, problems, service=role)
    ]


def vip_probes(topo: Topology, customer_id: int, service: str = SERVICE) -> list[HttpTarget]:
    return [
        HttpTarget(
            service, VIP_TARGET, str(vip.address), vip.port or 80, customer_path(customer_id)
        )
        for segment in topo.segments
        for vip in segment.vips
        if vip.name == service
    ]


def vrrp_instances(topo: Topology) -> list[VrrpInstance]:
    """Gateways with a vrid (run by the segment's routers) and service VIPs (their owners)."""
    found = []
    for seg in topo.segments:
        if seg.vrid is not None and seg.gateway is not None:
            routers = sorted(
                m.device for m in seg.members if topo.devices[m.device].role in ROUTING_ROLES
            )
            found.append(VrrpInstance(seg.name, seg.name, str(seg.gateway), tuple(routers)))
        for vip in seg.vips:
            found.append(
                VrrpInstance(vip.name, seg.name, str(vip.address), tuple(sorted(vip.owners)))
            )
    return found


def _secret(device: Device, value: Any, decryptor: Decryptor) -> Any:
    """A variable's clear value: vault-decrypted, then templated (`{{ vault_x }}`)."""
    value = decryptor.plain(value)
    if isinstance(value, str) and "{{" in value:
        value = decryptor.render(value, device.vars)
    return value


def postgres_target(topo: Topology, device: Device, decryptor: Decryptor) -> PostgresTarget:
    """The DSN of one db server (raises EmopsError naming host and field)."""
    host = data_address(topo, device.name)
    if host is None:
        raise EmopsError(
            Problem("segments", "no data address", "add it to a segment", host=device.name)
        )
    marketing: Mapping[str, Any] = device.vars.get("marketing") or {}
    if MONITOR_USER in device.vars:
        user = _secret(device, device.vars[MONITOR_USER], decryptor)
        password = _secret(device, device.vars.get(MONITOR_PASSWORD), decryptor)
    else:
        user = _secret(device, marketing.get("db_user", "postgres"), decryptor)
        password = _secret(device, marketing.get("db_password"), decryptor)
    database = str(device.vars.get("db_monitor_database", marketing.get("database", "postgres")))
    return PostgresTarget(
        device.name,
        host,
        service_port(device),
        str(user),
        database,
        str(password) if password not in (None, "") else None,
    )


def plan_from(topo: Topology, decryptor: Decryptor, customer_id: int = 1) -> AppPlan:
    """Every target of the application collectors; all problems raised together."""
    problems: list[Problem] = []
    probes = _servers(topo, "web", customer_path(customer_id), problems)
    stats = _servers(topo, "app", "/stats", problems)
    services = service_checks(topo, problems)
    postgres = []
    for device in sorted(topo.devices_with_role("db"), key=lambda d: d.name):
        try:
            postgres.append(postgres_target(topo, device, decryptor))
        except EmopsError as exc:
            if any(p.field in GLOBAL_FIELDS for p in exc.problems):
                raise  # the same for every host: say it once
            problems.extend(exc.problems)
    if problems:
        raise EmopsError(problems)
    return AppPlan(
        vip_probes=tuple(vip_probes(topo, customer_id)),
        server_probes=tuple(probes),
        stats=tuple(stats),
        services=tuple(services),
        postgres=tuple(postgres),
        vrrp=tuple(vrrp_instances(topo)),
    )


def describe(plan: AppPlan) -> dict[str, Any]:
    """The plan as printable config, secrets redacted."""
    return redact(
        {
            "vip_probes": [t.url for t in plan.vip_probes],
            "server_probes": {t.target: t.url for t in plan.server_probes},
            "stats": {t.target: t.url for t in plan.stats},
            "services": {t.target: t.url for t in plan.services},
            "postgres": {t.device: t.connect_args() for t in plan.postgres},
            "vrrp": [
                {"instance": v.instance, "segment": v.segment, "address": v.address,
                 "devices": list(v.devices)}
                for v in plan.vrrp
            ],
        }
    )  # fmt: skip
