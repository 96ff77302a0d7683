"""Contributors for the server tiers: load balancer, web, app, database, stats, CTI, interface.

The marketing system's settings (database name, users, secrets by reference,
generated data size) come from the inventory's `marketing:` mapping
(group_vars/all/marketing.yml); addresses and ports from the topology.
"""

from __future__ import annotations

from typing import Any

from emops.structured.context import Context, Data

HEALTH_CHECK = {"path": "/healthz", "inter_ms": 1000, "fastinter_ms": 500, "fall": 2, "rise": 2}
LB_TIMEOUTS_MS = {"connect": 1000, "client": 30000, "server": 30000, "queue": 2000}
LB_RETRIES = 3
METRICS_PORT = 8404
MARKETING_DEFAULTS: dict[str, Any] = {
    "database": "marketing",
    "db_user": "marketing",
    "db_password": None,
    "replication_user": "replicator",
    "replication_password": None,
    "customers": 100_000,
    "seed": 1,
    "pool_size": 10,
}


def _marketing(ctx: Context) -> dict[str, Any]:
    return MARKETING_DEFAULTS | dict(ctx.vars.get("marketing") or {})


def _listen(ctx: Context) -> Data:
    return {
        "address": ctx.facts.service_address(ctx.name),
        "port": ctx.facts.service_port(ctx.device),
    }


def _endpoint(ctx: Context, device: str) -> Data:
    return {
        "device": device,
        "address": ctx.facts.service_address(device),
        "port": ctx.facts.service_port(ctx.topo.devices[device]),
    }


def _databases(ctx: Context) -> tuple[str | None, list[str]]:
    """(primary, standbys) among the db servers, by their `db_role` host variable."""
    primary, standbys = None, []
    for dev in ctx.facts.devices_with_role("db"):
        if dev.vars.get("db_role", "primary") == "primary" and primary is None:
            primary = dev.name
        else:
            standbys.append(dev.name)
    return primary, standbys


def _db_client(ctx: Context, device: str | None) -> Data | None:
    if device is None:
        return None
    m = _marketing(ctx)
    return _endpoint(ctx, device) | {
        "name": m["database"],
        "user": m["db_user"],
        "password": m["db_password"],
    }


BACKEND_SUFFIX = "_web"


def backend_name(service: str) -> str:
    """The HAProxy backend of a service VIP: what its exporter labels `proxy`."""
    return f"{service}{BACKEND_SUFFIX}"


def load_balancer(ctx: Context) -> Data:
    """The service VIPs this balancer shares (keepalived VRRP) and the web backends."""
    if ctx.role != "load_balancer":
        return {"load_balancer": None}
    priority = int(ctx.vars.get("emops_priority", 100))
    vips = []
    for seg, member in ctx.memberships:
        for vip in seg.vips:
            if ctx.name not in vip.owners:
                continue
            prios = [int(ctx.topo.devices[o].vars.get("emops_priority", 100)) for o in vip.owners]
            peers = [m for m in seg.members if m.device in vip.owners and m.device != ctx.name]
            vips.append(
                {
                    "name": vip.name,
                    "backend": backend_name(vip.name),
                    "address": str(vip.address),
                    "prefixlen": seg.prefix.prefixlen,
                    "interface": member.interface,
                    "vrid": vip.vrid,
                    "priority": priority,
                    "state": "MASTER" if priority == max(prios) else "BACKUP",
                    "preempt": True,
                    "advert_interval_ms": int(ctx.vars.get("vrrp_advert_interval_ms", 200)),
                    "peers": [str(m.address.ip) for m in peers],
                    "port": vip.port or 80,
                }
            )
    backends = [_endpoint(ctx, d.name) for d in ctx.facts.devices_with_role("web", ctx.device.site)]
    return {
        "load_balancer": {
            "vips": vips,
            "backends": backends,
            "balance": "roundrobin",
            "health_check": dict(HEALTH_CHECK),
            "retries": LB_RETRIES,
            "redispatch": True,
            "timeouts_ms": dict(LB_TIMEOUTS_MS),
            "metrics": {"address": str(ctx.device.mgmt_address), "port": METRICS_PORT},
        }
    }


def web(ctx: Context) -> Data:
    """A reverse proxy in front of the app tier."""
    if ctx.role != "web":
        return {"web": None}
    apps = [_endpoint(ctx, d.name) for d in ctx.facts.devices_with_role("app", ctx.device.site)]
    return {
        "web": {
            "listen": _listen(ctx),
            "upstreams": apps,
            "health_path": HEALTH_CHECK["path"],
            "timeouts_ms": {"connect": 1000, "read": 30000},
        }
    }


def app(ctx: Context) -> Data:
    """The marketing service: writes to the primary, report exports from the standby."""
    if ctx.role != "app":
        return {"app": None}
    primary, standbys = _databases(ctx)
    return {
        "app": {
            "service": "marketing",
            "listen": _listen(ctx),
            "database": _db_client(ctx, primary),
            "replica": _db_client(ctx, standbys[0] if standbys else None),
            "pool_size": int(_marketing(ctx)["pool_size"]),
        }
    }


def database(ctx: Context) -> Data:
    """PostgreSQL: the primary (with the generated customer base) or a streaming standby."""
    if ctx.role != "db":
        return {"database": None}
    m = _marketing(ctx)
    primary, standbys = _databases(ctx)
    role = "primary" if ctx.name == primary else "standby"
    clients = [
        {"device": d.name, "address": ctx.facts.service_address(d.name), "role": d.role}
        for r in ("app", "stats")
        for d in ctx.facts.devices_with_role(r)
    ]
    # the application collector reads the server from its own namespace, so it
    # arrives from the server's own data address
    clients.append(
        {"device": ctx.name, "address": ctx.facts.service_address(ctx.name), "role": "monitoring"}
    )
    return {
        "database": {
            "role": role,
            "listen": _listen(ctx),
            "name": m["database"],
            "owner": {"name": m["db_user"], "password": m["db_password"]},
            "replication": {
                "user": m["replication_user"],
                "password": m["replication_password"],
                "primary": _endpoint(ctx, primary) if primary else None,
                "standbys": [_endpoint(ctx, s) for s in standbys],
            },
            "clients": clients,
            "datagen": (
                {"customers": int(m["customers"]), "seed": int(m["seed"])}
                if role == "primary"
                else None
            ),
        }
    }


def stats(ctx: Context) -> Data:
    """Statistical analysis: reports read from the standby, never the primary."""
    if ctx.role != "stats":
        return {"stats": None}
    primary, standbys = _databases(ctx)
    source = standbys[0] if standbys else primary
    return {"stats": {"listen": _listen(ctx), "database": _db_client(ctx, source)}}


def cti(ctx: Context) -> Data:
    """The 95598 call centre's CTI server (the twin runs a stand-in answering on its port)."""
    if ctx.role != "cti":
        return {"cti": None}
    return {"cti": {"listen": _listen(ctx)}}


def unified_interface(ctx: Context) -> Data:
    """The unified interface server (protocol conversion to external systems)."""
    if ctx.role != "interface":
        return {"unified_interface": None}
    return {"unified_interface": {"listen": _listen(ctx)}}
