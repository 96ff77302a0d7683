"""Stage 2 of the topology pipeline: RawInventory -> typed Topology.

Every problem is collected with its file:line, host and field and a hint, and
all of them are raised together at the end, so a user fixes ten mistakes in one
pass rather than ten runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    ip_address,
    ip_interface,
    ip_network,
)
from typing import Any, TypeVar

from emops.errors import EmopsError, Problem
from emops.topology.loader import RawInventory, origin
from emops.topology.model import (
    LINK_ROLES,
    PLATFORMS,
    ROLE_GROUPS,
    BulkJob,
    BulkLoad,
    Circuit,
    Device,
    Endpoint,
    Link,
    Member,
    PingPongLoad,
    Planning,
    Segment,
    SegmentMember,
    Site,
    Topology,
    TrafficProfile,
    Transaction,
    Vip,
)
from emops.units import parse_rate, parse_size, parse_time

T = TypeVar("T")
_MISSING = object()


class Builder:
    """Collects problems while converting; `fail()` raises them all at once."""

    def __init__(self, raw: RawInventory) -> None:
        self.raw = raw
        self.problems: list[Problem] = []
        self.all_vars = raw.group_vars.get("all", {})
        self.locations: dict[str, str] = {}  # field -> file:line, for the cross-checks

    def problem(
        self, value: object, field: str, message: str, hint: str = "", host: str = ""
    ) -> None:
        self.problems.append(Problem(field, message, hint, where=origin(value), host=host))

    def convert(
        self,
        value: object,
        field: str,
        fn: Callable[..., T],
        hint: str = "",
        host: str = "",
        default: T | None = None,
    ) -> T | None:
        """fn(value) or, on failure, a recorded problem and `default`."""
        self.locations.setdefault(field, origin(value))
        try:
            return fn(value)
        except EmopsError as exc:
            for p in exc.problems:
                self.problems.append(
                    Problem(field, p.message, p.hint or hint, where=origin(value), host=host)
                )
        except (ValueError, TypeError) as exc:
            self.problem(value, field, f"{value!r}: {exc}", hint, host)
        return default

    def require(
        self, mapping: object, key: str, field: str, context: object, host: str = ""
    ) -> Any:
        if not isinstance(mapping, dict) or mapping.get(key, _MISSING) in (_MISSING, None):
            self.problem(context, field, "is missing", f"add `{key}:`", host)
            return None
        return mapping[key]

    def reference(self, item: dict, key: str, field: str, known: dict, section: str) -> Any:
        """`item[key]`, which must name an entry of `known` (defined under `section:`)."""
        name = self.require(item, key, f"{field}.{key}", item)
        if name is not None and name not in known:
            self.problem(
                name,
                f"{field}.{key}",
                f"unknown {key} {name!r}",
                f"define it under {section}: ({', '.join(sorted(known)) or 'none'} known)",
            )
        return name

    def mapping(self, value: object, field: str, context: object) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(context, field, f"must be a mapping, not {type(value).__name__}")
            return {}
        return value

    def sequence(self, value: object, field: str, context: object) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(context, field, f"must be a list, not {type(value).__name__}")
            return []
        return value


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be a whole number")
    number = int(value)
    if number < 0:
        raise ValueError("must be zero or more")
    return number


def _positive_count(value: object) -> int:
    number = _count(value)
    if number == 0:
        raise ValueError("must be more than zero")
    return number


def _fraction(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not 0 <= number < 10:
        raise ValueError("must be a fraction such as 0.3")
    return number


# --- settings -----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The `emops:` mapping of group_vars/all, converted."""

    network: str
    spaces: list[IPv4Network]
    rates: tuple[float, ...]
    circuits: tuple[Circuit, ...]
    planning: Planning
    management: IPv4Interface | None


def _settings(b: Builder) -> Settings:
    emops = b.mapping(b.all_vars.get("emops"), "emops", b.all_vars)
    if not emops:
        b.problem(
            b.all_vars,
            "emops",
            "network settings are missing",
            "add group_vars/all/emops.yml with an `emops:` mapping (docs/inventory.md)",
        )
    network = emops.get("network", "province")
    if network not in ("province", "lab"):
        b.problem(
            network,
            "emops.network",
            f"{network!r} is not province or lab",
            "set network: lab or province",
        )
    spaces = [
        s
        for s in (
            b.convert(x, "emops.address_space", ip_network, "write a prefix like 10.0.0.0/8")
            for x in b.sequence(emops.get("address_space"), "emops.address_space", emops)
        )
        if s is not None
    ]
    rates = tuple(
        r
        for r in (
            b.convert(x, "emops.link_rates", parse_rate)
            for x in b.sequence(emops.get("link_rates"), "emops.link_rates", emops)
        )
        if r is not None
    )
    circuits = []
    for i, c in enumerate(b.sequence(emops.get("circuits"), "emops.circuits", emops)):
        c = b.mapping(c, f"emops.circuits[{i}]", emops)
        rate = b.convert(
            b.require(c, "rate", f"emops.circuits[{i}].rate", c),
            f"emops.circuits[{i}].rate",
            parse_rate,
        )
        members = b.convert(c.get("members", 1), f"emops.circuits[{i}].members", _positive_count)
        roles = tuple(
            str(r)
            for r in b.sequence(c.get("for", ["primary", "backup"]), f"emops.circuits[{i}].for", c)
        )
        for role in roles:
            if role not in ("primary", "backup"):
                b.problem(
                    role,
                    f"emops.circuits[{i}].for",
                    f"{role!r} is not primary or backup",
                    "list primary and/or backup",
                )
        if rate and members:
            circuits.append(
                Circuit(str(c.get("name", f"{members}x{rate:g}")), rate, members, roles)
            )
    circuits.sort(key=lambda c: c.capacity_bps)
    plan = b.mapping(emops.get("planning"), "emops.planning", emops)
    defaults = Planning()
    planning = Planning(
        headroom=b.convert(
            plan.get("headroom", defaults.headroom),
            "emops.planning.headroom",
            _fraction,
            default=defaults.headroom,
        ),
        overhead=b.convert(
            plan.get("overhead", defaults.overhead),
            "emops.planning.overhead",
            float,
            default=defaults.overhead,
        ),
        max_utilisation=b.convert(
            plan.get("max_utilisation", defaults.max_utilisation),
            "emops.planning.max_utilisation",
            _fraction,
            default=defaults.max_utilisation,
        ),
    )
    management = None
    if emops.get("management") is not None:
        management = b.convert(
            emops["management"], "emops.management", ip_interface, "write it like 198.19.255.1/24"
        )
    elif network == "lab":
        b.problem(emops, "emops.management", "is missing", "add management: 198.19.255.1/24")
    return Settings(network, spaces, rates, tuple(circuits), planning, management)


# --- traffic ------------------------------------------------------------------


def _catalogue(b: Builder) -> tuple[dict[str, Transaction], dict[str, BulkJob]]:
    transactions: dict[str, Transaction] = {}
    tx = b.mapping(b.all_vars.get("transactions"), "transactions", b.all_vars)
    for name, spec in tx.items():
        spec = b.mapping(spec, f"transactions.{name}", tx)
        f = f"transactions.{name}"
        packets = b.convert(
            b.require(spec, "packets", f + ".packets", spec), f + ".packets", _positive_count
        )
        size = b.convert(
            b.require(spec, "packet_size", f + ".packet_size", spec), f + ".packet_size", parse_size
        )
        if packets and size:
            transactions[name] = Transaction(name, packets, size, bool(spec.get("critical", False)))
    jobs: dict[str, BulkJob] = {}
    bj = b.mapping(b.all_vars.get("bulk_jobs"), "bulk_jobs", b.all_vars)
    for name, spec in bj.items():
        spec = b.mapping(spec, f"bulk_jobs.{name}", bj)
        f = f"bulk_jobs.{name}"
        size = b.convert(b.require(spec, "size", f + ".size", spec), f + ".size", parse_size)
        within = b.convert(
            b.require(spec, "required_time", f + ".required_time", spec),
            f + ".required_time",
            parse_time,
        )
        if size and within:
            jobs[name] = BulkJob(name, size, within, bool(spec.get("critical", False)))
    return transactions, jobs


def _traffic(b: Builder, spec: object, field: str, catalogue: tuple[dict, dict]) -> TrafficProfile:
    transactions, jobs = catalogue
    spec = b.mapping(spec, field, spec)
    pingpong = []
    for i, item in enumerate(b.sequence(spec.get("pingpong"), f"{field}.pingpong", spec)):
        f = f"{field}.pingpong[{i}]"
        item = b.mapping(item, f, spec)
        name = b.reference(item, "transaction", f, transactions, "transactions")
        users = b.convert(b.require(item, "users", f + ".users", item), f + ".users", _count)
        think = b.convert(
            b.require(item, "think_time", f + ".think_time", item), f + ".think_time", parse_time
        )
        if name in transactions and users is not None and think:
            pingpong.append(PingPongLoad(transactions[name], users, think))
    bulk = []
    for i, item in enumerate(b.sequence(spec.get("bulk"), f"{field}.bulk", spec)):
        f = f"{field}.bulk[{i}]"
        item = b.mapping(item, f, spec)
        name = b.reference(item, "job", f, jobs, "bulk_jobs")
        concurrent = b.convert(item.get("concurrent", 1), f + ".concurrent", _positive_count)
        if name in jobs and concurrent:
            bulk.append(BulkLoad(jobs[name], concurrent))
    return TrafficProfile(tuple(pingpong), tuple(bulk))


# --- sites and devices --------------------------------------------------------


def _sites(b: Builder, catalogue: tuple[dict, dict]) -> dict[str, Site]:
    sites: dict[str, Site] = {}
    for group, gvars in b.raw.group_vars.items():
        if "site" not in gvars or group == "all":
            continue
        spec = b.mapping(gvars["site"], f"{group}: site", gvars)
        kind = spec.get("kind")
        if kind not in ("hq", "municipal"):
            b.problem(
                spec,
                f"{group}: site.kind",
                f"{kind!r} is not hq or municipal",
                "set kind: hq or kind: municipal",
            )
            continue
        prefix = (
            b.convert(spec.get("lan_prefix"), f"{group}: site.lan_prefix", ip_network)
            if spec.get("lan_prefix")
            else None
        )
        counties = []
        for i, c in enumerate(b.sequence(spec.get("counties"), f"{group}: site.counties", spec)):
            c = b.mapping(c, f"{group}: site.counties[{i}]", spec)
            cname = b.require(c, "name", f"{group}: site.counties[{i}].name", c)
            if cname is None:
                continue
            if (
                cname in sites
                or cname in b.raw.group_vars
                or any(x.name == cname for x in counties)
            ):
                b.problem(
                    cname,
                    f"{group}: site.counties[{i}].name",
                    f"county {cname!r} is named twice",
                    "give every site a unique name",
                )
            counties.append(
                Site(
                    name=str(cname),
                    kind="county",
                    parent=group,
                    description=str(c.get("description", "")),
                    traffic=_traffic(
                        b, c.get("traffic"), f"{group}: site.counties[{i}].traffic", catalogue
                    ),
                )
            )
        sites[group] = Site(
            name=group,
            kind=kind,
            description=str(spec.get("description", "")),
            parent=None if kind == "hq" else _hq_name(b),
            lan_prefix=prefix,
            traffic=_traffic(b, spec.get("traffic"), f"{group}: site.traffic", catalogue),
            counties=tuple(counties),
        )
    hqs = [s for s in sites.values() if s.kind == "hq"]
    if len(hqs) != 1:
        b.problem(
            b.all_vars,
            "site.kind",
            f"{len(hqs)} sites have kind hq",
            "exactly one site group must be the HQ",
        )
    # keep municipal companies in inventory order (hosts.yml), HQ first
    order = {g: i for i, g in enumerate(b.raw.group_vars)}
    return dict(sorted(sites.items(), key=lambda kv: (kv[1].kind != "hq", order[kv[0]])))


def _hq_name(b: Builder) -> str:
    for group, gvars in b.raw.group_vars.items():
        if isinstance(gvars.get("site"), dict) and gvars["site"].get("kind") == "hq":
            return group
    return "hq"


def _devices(b: Builder, sites: dict[str, Site]) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    for host, hvars in b.raw.host_vars.items():
        groups = b.raw.host_groups[host]
        roles = [ROLE_GROUPS[g] for g in groups if g in ROLE_GROUPS]
        in_sites = [g for g in groups if g in sites]
        where = hvars.get("ansible_host", host)
        if len(roles) != 1:
            b.problem(
                where,
                "groups",
                f"is in {len(roles)} role groups",
                f"put it in exactly one of {', '.join(ROLE_GROUPS)}",
                host,
            )
        if len(in_sites) != 1:
            b.problem(
                where,
                "groups",
                f"is in {len(in_sites)} site groups",
                f"put it in exactly one of {', '.join(sites)}",
                host,
            )
        platform = hvars.get("emops_platform")
        if platform not in PLATFORMS:
            b.problem(
                where,
                "emops_platform",
                f"{platform!r} is not a known platform",
                f"use one of {', '.join(PLATFORMS)}",
                host,
            )
        address = b.convert(
            hvars.get("ansible_host"),
            "ansible_host",
            ip_address,
            "give the management IPv4 address",
            host,
        )
        if roles and in_sites and platform in PLATFORMS and address is not None:
            devices[host] = Device(
                name=host,
                site=in_sites[0],
                role=roles[0],
                platform=platform,
                mgmt_address=address,
                model=str(hvars.get("model", "")),
                groups=tuple(groups),
                vars=hvars,
            )
    return devices


# --- links and segments -------------------------------------------------------


def _endpoint(
    b: Builder, spec: object, field: str, devices: dict, device: str | None = None
) -> Endpoint | None:
    spec = b.mapping(spec, field, spec)
    name = device if device is not None else b.require(spec, "device", f"{field}.device", spec)
    if name is None:
        return None
    if name not in devices:
        if name not in b.raw.host_vars:  # a known host that failed has its own problem
            b.problem(
                spec if device else name,
                f"{field}.device",
                f"unknown device {name!r}",
                "name a host of hosts.yml",
            )
        return None
    address = None
    if spec.get("address") is not None:
        address = b.convert(
            spec["address"], f"{field}.address", ip_interface, "write it like 10.0.0.1/30"
        )
    iface = spec.get("interface")
    return Endpoint(str(name), str(iface) if iface is not None else None, address)


def _links(b: Builder, devices: dict, rates: tuple[float, ...]) -> tuple[Link, ...]:
    links: list[Link] = []
    names: set[str] = set()
    for i, spec in enumerate(b.sequence(b.all_vars.get("links"), "links", b.all_vars)):
        spec = b.mapping(spec, f"links[{i}]", b.all_vars)
        name = str(spec.get("name", f"links[{i}]"))
        f = f"links.{name}"
        if name in names:
            b.problem(
                spec.get("name"),
                f + ".name",
                "link name used twice",
                "give every link a unique name",
            )
        names.add(name)
        role = spec.get("role")
        if role not in LINK_ROLES:
            b.problem(
                spec,
                f + ".role",
                f"{role!r} is not a link role",
                f"use one of {', '.join(LINK_ROLES)}",
            )
        rate = b.convert(b.require(spec, "rate", f + ".rate", spec), f + ".rate", parse_rate)
        if rate is not None and rates and rate not in rates:
            b.problem(
                spec["rate"],
                f + ".rate",
                f"unknown rate {spec['rate']!r}",
                "use one of emops.link_rates or add the rate there",
            )
        delay = b.convert(
            spec.get("delay", 0),
            f + ".delay",
            lambda v: parse_time(v, allow_zero=True),
            default=0.0,
        )
        a = _endpoint(b, b.require(spec, "a", f + ".a", spec), f + ".a", devices)
        z = _endpoint(b, b.require(spec, "b", f + ".b", spec), f + ".b", devices)
        members = []
        for j, m in enumerate(b.sequence(spec.get("members"), f + ".members", spec)):
            m = b.mapping(m, f"{f}.members[{j}]", spec)
            ma = (
                _endpoint(b, m.get("a"), f"{f}.members[{j}].a", devices, a.device if a else None)
                if a
                else None
            )
            mb = (
                _endpoint(b, m.get("b"), f"{f}.members[{j}].b", devices, z.device if z else None)
                if z
                else None
            )
            if ma and mb:
                members.append(Member(ma, mb))
        if role == "backup" and not 1 <= len(members) <= 4:
            b.problem(
                spec,
                f + ".members",
                f"a backup bundle has {len(members)} members",
                "give 1 to 4 members of 2M (paper 3.3.1)",
            )
        if role == "lag" and len(members) < 2:
            b.problem(
                spec,
                f + ".members",
                "a LAG needs two or more members",
                "list each member's interfaces",
            )
        if a and z and rate and role in LINK_ROLES:
            links.append(Link(name, role, rate, a, z, tuple(members), delay or 0.0))
    return tuple(links)


def _segments(b: Builder, devices: dict, sites: dict) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for i, spec in enumerate(b.sequence(b.all_vars.get("segments"), "segments", b.all_vars)):
        spec = b.mapping(spec, f"segments[{i}]", b.all_vars)
        name = str(spec.get("name", f"segments[{i}]"))
        f = f"segments.{name}"
        site = b.require(spec, "site", f + ".site", spec)
        if site is not None and site not in sites:
            b.problem(site, f + ".site", f"unknown site {site!r}", f"use one of {', '.join(sites)}")
        prefix = b.convert(
            b.require(spec, "prefix", f + ".prefix", spec), f + ".prefix", ip_network
        )
        members = []
        for j, m in enumerate(b.sequence(spec.get("members"), f + ".members", spec)):
            ep = _endpoint(b, m, f"{f}.members[{j}]", devices)
            if ep is None:
                continue
            if ep.address is None or ep.interface is None:
                b.problem(
                    m,
                    f"{f}.members[{j}]",
                    "needs interface and address",
                    "add interface: and address:",
                )
                continue
            if prefix and ep.address not in prefix and ep.address.network != prefix:
                b.problem(
                    m.get("address"),
                    f"{f}.members[{j}].address",
                    f"{ep.address} is outside {prefix}",
                    "use an address of the segment's prefix",
                )
            members.append(SegmentMember(ep.device, ep.interface, ep.address))
        gateway = (
            b.convert(spec["gateway"], f + ".gateway", IPv4Address) if spec.get("gateway") else None
        )
        if gateway and prefix and gateway not in prefix:
            b.problem(
                spec["gateway"],
                f + ".gateway",
                f"{gateway} is outside {prefix}",
                "use an address of the prefix",
            )
        vips = []
        for j, v in enumerate(b.sequence(spec.get("vips"), f + ".vips", spec)):
            v = b.mapping(v, f"{f}.vips[{j}]", spec)
            addr = b.convert(
                b.require(v, "address", f"{f}.vips[{j}].address", v),
                f"{f}.vips[{j}].address",
                IPv4Address,
            )
            owners = tuple(str(o) for o in b.sequence(v.get("owners"), f"{f}.vips[{j}].owners", v))
            for o in owners:
                if o not in b.raw.host_vars:
                    b.problem(
                        v,
                        f"{f}.vips[{j}].owners",
                        f"unknown device {o!r}",
                        "name a host of hosts.yml",
                    )
            vrid = b.convert(
                b.require(v, "vrid", f"{f}.vips[{j}].vrid", v),
                f"{f}.vips[{j}].vrid",
                _positive_count,
            )
            port = (
                b.convert(v["port"], f"{f}.vips[{j}].port", _positive_count)
                if v.get("port")
                else None
            )
            if addr and vrid:
                vips.append(Vip(str(v.get("name", f"vip{j}")), addr, owners, vrid, port))
        vrid = b.convert(spec["vrid"], f + ".vrid", _positive_count) if spec.get("vrid") else None
        vlan = b.convert(spec["vlan"], f + ".vlan", _positive_count) if spec.get("vlan") else None
        if site in sites and prefix:
            segments.append(
                Segment(name, str(site), prefix, tuple(members), vlan, gateway, vrid, tuple(vips))
            )
    return tuple(segments)


# --- the pipeline -------------------------------------------------------------


def build_topology(raw: RawInventory) -> Topology:
    """RawInventory -> Topology, or EmopsError listing every problem."""
    from emops.topology.checks import check_topology

    b = Builder(raw)
    settings = _settings(b)  # emops: network-wide settings
    catalogue = _catalogue(b)  # transaction shapes and bulk jobs
    sites = _sites(b, catalogue)  # site groups, their counties and traffic
    devices = _devices(b, sites)  # hosts with role, site, platform, address
    links = _links(b, devices, settings.rates)  # point-to-point links and bundles
    segments = _segments(b, devices, sites)  # LAN segments / VLANs
    topology = Topology(
        network=settings.network,
        source=str(raw.path),
        sites=sites,
        devices=devices,
        links=links,
        segments=segments,
        circuits=settings.circuits,
        link_rates=settings.rates,
        planning=settings.planning,
        management=settings.management,
    )
    b.problems += check_topology(
        topology, settings.spaces, b.locations
    )  # cross-checks on the whole model
    if b.problems:
        raise EmopsError(b.problems)
    return topology
