"""Stage 2 of the topology pipeline: every field of the RawInventory read into the
typed Topology (then stage 3, `checks.py`, checks the whole model).

Every problem is collected with its file:line, host and field and a hint (the
shared emops.yamlread Reader), and all of them are raised together at the
checkpoint, so a user fixes ten mistakes in one pass rather than ten runs.
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
from typing import TypeVar

from emops.topology.checks import check_topology
from emops.topology.loader import AnsiblePositions, RawInventory
from emops.topology.model import (
    LINK_ROLES,
    PLATFORMS,
    ROLE_GROUPS,
    SNMP_FACES,
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
from emops.yamlread import Category, Reader

T = TypeVar("T")

# The keys each mapping of the inventory format may have (docs/inventory.md); any other
# key is reported with a did-you-mean hint instead of being silently ignored.
KEYS: dict[str, tuple[str, ...]] = {
    "emops": ("network", "address_space", "link_rates", "circuits", "planning", "management"),
    "circuit": ("name", "rate", "members", "for"),
    "planning": ("headroom", "overhead", "max_utilisation"),
    "transaction": ("packets", "packet_size", "critical"),
    "bulk_job": ("size", "required_time", "critical"),
    "traffic": ("pingpong", "bulk"),
    "pingpong": ("transaction", "users", "think_time"),
    "bulk": ("job", "concurrent"),
    "site": ("kind", "description", "lan_prefix", "traffic", "counties"),
    "county": ("name", "description", "traffic"),
    "link": ("name", "role", "rate", "delay", "a", "b", "members"),
    "endpoint": ("device", "interface", "address"),
    "member": ("a", "b"),
    "member_end": ("interface", "address"),  # the device is the link end's
    "segment": ("name", "site", "vlan", "prefix", "gateway", "vrid", "members", "vips"),
    "vip": ("name", "address", "owners", "vrid", "port"),
}


class Builder(Reader):
    """The inventory's Reader (positions from Ansible's origin tags), with the raw
    inventory at hand."""

    def __init__(self, raw: RawInventory) -> None:
        super().__init__(str(raw.path), AnsiblePositions())
        self.raw = raw
        self.all_vars = raw.group_vars.get("all", {})


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
    emops = b.mapping(b.all_vars.get("emops"), "emops", known=KEYS["emops"], at=b.all_vars)
    if not emops:
        b.problem(
            "emops",
            "network settings are missing",
            "add group_vars/all/emops.yml with an `emops:` mapping (docs/inventory.md)",
            at=b.all_vars,
            category=Category.MISSING,
        )
    network = emops.get("network", "province")
    if network not in ("province", "lab"):
        b.problem(
            "emops.network",
            f"{network!r} is not province or lab",
            "set network: lab or province",
            at=network,
        )
    spaces = [
        s
        for s in (
            b.convert(x, "emops.address_space", ip_network, "write a prefix like 10.0.0.0/8")
            for x in b.sequence(emops.get("address_space"), "emops.address_space", at=emops)
        )
        if s is not None
    ]
    rates = tuple(
        r
        for r in (
            b.convert(x, "emops.link_rates", parse_rate)
            for x in b.sequence(emops.get("link_rates"), "emops.link_rates", at=emops)
        )
        if r is not None
    )
    circuits = [
        c
        for i, spec in enumerate(b.sequence(emops.get("circuits"), "emops.circuits", at=emops))
        if (c := _circuit(b, spec, f"emops.circuits[{i}]", emops)) is not None
    ]
    circuits.sort(key=lambda c: c.capacity_bps)
    management = None
    if emops.get("management") is not None:
        management = b.convert(
            emops["management"], "emops.management", ip_interface, "write it like 198.19.255.1/24"
        )
    elif network == "lab":
        b.problem(
            "emops.management",
            "is missing",
            "add management: 198.19.255.1/24",
            at=emops,
            category=Category.MISSING,
        )
    return Settings(network, spaces, rates, tuple(circuits), _planning(b, emops), management)


def _circuit(b: Builder, spec: object, f: str, emops: dict) -> Circuit | None:
    """One standard circuit: n members of a rate, for primary and/or backup links."""
    c = b.mapping(spec, f, known=KEYS["circuit"], at=emops)
    rate = b.convert(b.require(c, "rate", f"{f}.rate"), f"{f}.rate", parse_rate)
    members = b.convert(c.get("members", 1), f"{f}.members", _positive_count)
    roles = tuple(str(r) for r in b.sequence(c.get("for", ["primary", "backup"]), f"{f}.for", at=c))
    for role in roles:
        if role not in ("primary", "backup"):
            b.problem(
                f"{f}.for", f"{role!r} is not primary or backup", "list primary and/or backup"
            )
    if not (rate and members):
        return None
    return Circuit(str(c.get("name", f"{members}x{rate:g}")), rate, members, roles)


def _planning(b: Builder, emops: dict) -> Planning:
    plan = b.mapping(emops.get("planning"), "emops.planning", known=KEYS["planning"], at=emops)
    defaults = Planning()

    def number(key: str, fn: Callable[[object], float]) -> float:
        default = getattr(defaults, key)
        return b.convert(plan.get(key, default), f"emops.planning.{key}", fn, default=default)

    return Planning(
        headroom=number("headroom", _fraction),
        overhead=number("overhead", float),
        max_utilisation=number("max_utilisation", _fraction),
    )


# --- traffic ------------------------------------------------------------------


def _catalogue(b: Builder) -> tuple[dict[str, Transaction], dict[str, BulkJob]]:
    transactions: dict[str, Transaction] = {}
    tx = b.mapping(b.all_vars.get("transactions"), "transactions", at=b.all_vars)
    for name, spec in tx.items():
        f = f"transactions.{name}"
        spec = b.mapping(spec, f, known=KEYS["transaction"], at=tx)
        packets = b.convert(
            b.require(spec, "packets", f + ".packets"), f + ".packets", _positive_count
        )
        size = b.convert(
            b.require(spec, "packet_size", f + ".packet_size"), f + ".packet_size", parse_size
        )
        if packets and size:
            transactions[name] = Transaction(name, packets, size, bool(spec.get("critical", False)))
    jobs: dict[str, BulkJob] = {}
    bj = b.mapping(b.all_vars.get("bulk_jobs"), "bulk_jobs", at=b.all_vars)
    for name, spec in bj.items():
        f = f"bulk_jobs.{name}"
        spec = b.mapping(spec, f, known=KEYS["bulk_job"], at=bj)
        size = b.convert(b.require(spec, "size", f + ".size"), f + ".size", parse_size)
        within = b.convert(
            b.require(spec, "required_time", f + ".required_time"),
            f + ".required_time",
            parse_time,
        )
        if size and within:
            jobs[name] = BulkJob(name, size, within, bool(spec.get("critical", False)))
    return transactions, jobs


def _traffic(b: Builder, spec: object, field: str, catalogue: tuple[dict, dict]) -> TrafficProfile:
    transactions, jobs = catalogue
    spec = b.mapping(spec, field, known=KEYS["traffic"], at=spec)
    pingpong = []
    for i, item in enumerate(b.sequence(spec.get("pingpong"), f"{field}.pingpong", at=spec)):
        f = f"{field}.pingpong[{i}]"
        item = b.mapping(item, f, known=KEYS["pingpong"], at=spec)
        name = b.reference(item, "transaction", f, transactions, "transactions")
        users = b.convert(b.require(item, "users", f + ".users"), f + ".users", _count)
        think = b.convert(
            b.require(item, "think_time", f + ".think_time"), f + ".think_time", parse_time
        )
        if name in transactions and users is not None and think:
            pingpong.append(PingPongLoad(transactions[name], users, think))
    bulk = []
    for i, item in enumerate(b.sequence(spec.get("bulk"), f"{field}.bulk", at=spec)):
        f = f"{field}.bulk[{i}]"
        item = b.mapping(item, f, known=KEYS["bulk"], at=spec)
        name = b.reference(item, "job", f, jobs, "bulk_jobs")
        concurrent = b.convert(item.get("concurrent", 1), f + ".concurrent", _positive_count)
        if name in jobs and concurrent:
            bulk.append(BulkLoad(jobs[name], concurrent))
    return TrafficProfile(tuple(pingpong), tuple(bulk))


# --- sites and devices --------------------------------------------------------


def _site_groups(b: Builder) -> list[str]:
    """The groups whose vars hold a `site:` mapping, in inventory order."""
    return [g for g, gvars in b.raw.group_vars.items() if "site" in gvars and g != "all"]


def _sites(b: Builder, catalogue: tuple[dict, dict]) -> dict[str, Site]:
    sites: dict[str, Site] = {}
    kinds_ok = True
    for group in _site_groups(b):
        gvars = b.raw.group_vars[group]
        spec = b.mapping(gvars["site"], f"{group}: site", known=KEYS["site"], at=gvars)
        kind = spec.get("kind")
        if kind not in ("hq", "municipal"):
            b.problem(
                f"{group}: site.kind",
                f"{kind!r} is not hq or municipal",
                "set kind: hq or kind: municipal",
                at=spec,
            )
            kinds_ok = False
            continue
        prefix = (
            b.convert(spec.get("lan_prefix"), f"{group}: site.lan_prefix", ip_network)
            if spec.get("lan_prefix")
            else None
        )
        counties = _counties(b, group, spec, sites, catalogue)
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
    if len(hqs) != 1 and kinds_ok:  # a site whose kind failed has its own problem
        b.problem(
            "site.kind",
            f"{len(hqs)} sites have kind hq",
            "exactly one site group must be the HQ",
            at=b.all_vars,
            category=Category.CONSISTENCY,
        )
    # keep municipal companies in inventory order (hosts.yml), HQ first
    order = {g: i for i, g in enumerate(b.raw.group_vars)}
    return dict(sorted(sites.items(), key=lambda kv: (kv[1].kind != "hq", order[kv[0]])))


def _counties(
    b: Builder, group: str, spec: dict, sites: dict[str, Site], catalogue: tuple[dict, dict]
) -> list[Site]:
    """The county companies below municipal company `group`."""
    counties: list[Site] = []
    field = f"{group}: site.counties"
    for i, c in enumerate(b.sequence(spec.get("counties"), field, at=spec)):
        c = b.mapping(c, f"{field}[{i}]", known=KEYS["county"], at=spec)
        cname = b.require(c, "name", f"{field}[{i}].name")
        if cname is None:
            continue
        if cname in sites or cname in b.raw.group_vars or any(x.name == cname for x in counties):
            b.problem(
                f"{field}[{i}].name",
                f"county {cname!r} is named twice",
                "give every site a unique name",
                at=cname,
                category=Category.CONSISTENCY,
            )
        counties.append(
            Site(
                name=str(cname),
                kind="county",
                parent=group,
                description=str(c.get("description", "")),
                traffic=_traffic(b, c.get("traffic"), f"{field}[{i}].traffic", catalogue),
            )
        )
    return counties


def _hq_name(b: Builder) -> str:
    for group, gvars in b.raw.group_vars.items():
        if isinstance(gvars.get("site"), dict) and gvars["site"].get("kind") == "hq":
            return group
    return "hq"


def _devices(b: Builder, sites: dict[str, Site]) -> dict[str, Device]:
    devices: dict[str, Device] = {}
    site_groups = set(_site_groups(b))
    for host, hvars in b.raw.host_vars.items():
        groups = b.raw.host_groups[host]
        roles = [ROLE_GROUPS[g] for g in groups if g in ROLE_GROUPS]
        in_sites = [g for g in groups if g in site_groups]  # a failed site has its own problem
        where = hvars.get("ansible_host", host)
        if len(roles) != 1:
            b.problem(
                "groups",
                f"is in {len(roles)} role groups",
                f"put it in exactly one of {', '.join(ROLE_GROUPS)}",
                at=where,
                host=host,
                category=Category.CONSISTENCY,
            )
        if len(in_sites) != 1:
            b.problem(
                "groups",
                f"is in {len(in_sites)} site groups",
                f"put it in exactly one of {', '.join(sites)}",
                at=where,
                host=host,
                category=Category.CONSISTENCY,
            )
        platform = hvars.get("emops_platform")
        if platform not in PLATFORMS:
            b.problem(
                "emops_platform",
                f"{platform!r} is not a known platform",
                f"use one of {', '.join(PLATFORMS)}",
                at=where,
                host=host,
            )
        face = hvars.get("emops_snmp_face")
        if face is not None and face not in SNMP_FACES:
            b.problem(
                "emops_snmp_face",
                f"{face!r} is not a vendor face",
                f"use one of {', '.join(SNMP_FACES)}, or leave it out",
                at=where,
                host=host,
            )
            face = None
        address = b.convert(
            b.get(hvars, "ansible_host", f"hosts.{host}.ansible_host"),
            "ansible_host",
            ip_address,
            "give the management IPv4 address",
            host=host,
        )
        placed = len(roles) == 1 and len(in_sites) == 1 and in_sites[0] in sites
        if placed and platform in PLATFORMS and address is not None:
            devices[host] = Device(
                name=host,
                site=in_sites[0],
                role=roles[0],
                platform=platform,
                mgmt_address=address,
                model=str(hvars.get("model", "")),
                groups=tuple(groups),
                vars=hvars,
                snmp_face=face,
            )
    return devices


# --- links and segments -------------------------------------------------------


def _endpoint(
    b: Builder, spec: object, field: str, devices: dict, device: str | None = None
) -> Endpoint | None:
    """A link end or segment member (`device:` names a host), or a bundle member's end
    (its device is the link end's, given as `device`)."""
    known = KEYS["endpoint"] if device is None else KEYS["member_end"]
    spec = b.mapping(spec, field, known=known, at=spec)
    name = device if device is not None else b.require(spec, "device", f"{field}.device")
    if name is None:
        return None
    if name not in devices:
        if name not in b.raw.host_vars:  # a known host that failed has its own problem
            b.problem(
                f"{field}.device",
                f"unknown device {name!r}",
                "name a host of hosts.yml",
                at=spec if device else name,
                category=Category.REFERENCE,
            )
        return None
    address = None
    if spec.get("address") is not None:
        address = b.convert(
            spec["address"], f"{field}.address", ip_interface, "write it like 10.0.0.1/30"
        )
    iface = b.get(spec, "interface", f"{field}.interface")
    return Endpoint(str(name), str(iface) if iface is not None else None, address)


def _links(b: Builder, devices: dict, rates: tuple[float, ...]) -> tuple[Link, ...]:
    names: set[str] = set()
    specs = b.sequence(b.all_vars.get("links"), "links", at=b.all_vars)
    found = (_link(b, i, spec, devices, rates, names) for i, spec in enumerate(specs))
    return tuple(link for link in found if link is not None)


def _link(
    b: Builder, i: int, spec: object, devices: dict, rates: tuple[float, ...], names: set[str]
) -> Link | None:
    """One point-to-point link or bundle: role, rate, delay, ends and members."""
    spec = b.mapping(spec, f"links[{i}]", at=b.all_vars)
    name = str(spec.get("name", f"links[{i}]"))
    f = f"links.{name}"
    b.reject_unknown(spec, f, KEYS["link"])
    if name in names:
        b.problem(
            f + ".name",
            "link name used twice",
            "give every link a unique name",
            at=spec.get("name"),
            category=Category.CONSISTENCY,
        )
    names.add(name)
    role = spec.get("role")
    if role not in LINK_ROLES:
        b.problem(
            f + ".role",
            f"{role!r} is not a link role",
            f"use one of {', '.join(LINK_ROLES)}",
            at=spec,
        )
    rate = _link_rate(b, spec, f, rates)
    delay = b.convert(
        spec.get("delay", 0), f + ".delay", lambda v: parse_time(v, allow_zero=True), default=0.0
    )
    a = _endpoint(b, b.require(spec, "a", f + ".a"), f + ".a", devices)
    z = _endpoint(b, b.require(spec, "b", f + ".b"), f + ".b", devices)
    members = _members(b, spec, f, devices, a, z)
    ends = a is not None and z is not None  # else its members are unknown, not missing
    if ends and role == "backup" and not 1 <= len(members) <= 4:
        b.problem(
            f + ".members",
            f"a backup bundle has {len(members)} members",
            "give 1 to 4 members of 2M (paper 3.3.1)",
            at=spec,
        )
    if ends and role == "lag" and len(members) < 2:
        b.problem(
            f + ".members",
            "a LAG needs two or more members",
            "list each member's interfaces",
            at=spec,
        )
    if not (ends and rate and role in LINK_ROLES):
        return None
    return Link(name, role, rate, a, z, tuple(members), delay or 0.0)


def _link_rate(b: Builder, spec: dict, f: str, rates: tuple[float, ...]) -> float | None:
    """The link's rate, which must be one of emops.link_rates."""
    rate = b.convert(b.require(spec, "rate", f + ".rate"), f + ".rate", parse_rate)
    if rate is not None and rates and rate not in rates:
        b.problem(
            f + ".rate",
            f"unknown rate {spec['rate']!r}",
            "use one of emops.link_rates or add the rate there",
            at=spec["rate"],
            category=Category.REFERENCE,
        )
    return rate


def _members(
    b: Builder, spec: dict, f: str, devices: dict, a: Endpoint | None, z: Endpoint | None
) -> list[Member]:
    """A bundle's members: each end's interface (and, in the lab, address)."""
    members = []
    for j, m in enumerate(b.sequence(spec.get("members"), f + ".members", at=spec)):
        mf = f"{f}.members[{j}]"
        m = b.mapping(m, mf, known=KEYS["member"], at=spec)
        ma = _endpoint(b, m.get("a"), f"{mf}.a", devices, a.device) if a else None
        mb = _endpoint(b, m.get("b"), f"{mf}.b", devices, z.device) if z else None
        if ma and mb:
            members.append(Member(ma, mb))
    return members


def _segments(b: Builder, devices: dict, sites: dict) -> tuple[Segment, ...]:
    specs = b.sequence(b.all_vars.get("segments"), "segments", at=b.all_vars)
    found = (_segment(b, i, spec, devices, sites) for i, spec in enumerate(specs))
    return tuple(segment for segment in found if segment is not None)


def _segment(b: Builder, i: int, spec: object, devices: dict, sites: dict) -> Segment | None:
    """One LAN segment: site, prefix, members, gateway, VIPs, VRRP group and VLAN."""
    spec = b.mapping(spec, f"segments[{i}]", at=b.all_vars)
    name = str(spec.get("name", f"segments[{i}]"))
    f = f"segments.{name}"
    b.reject_unknown(spec, f, KEYS["segment"])
    site = b.require(spec, "site", f + ".site")
    if site is not None and site not in _site_groups(b):  # a failed site has its own problem
        b.problem(
            f + ".site",
            f"unknown site {site!r}",
            f"use one of {', '.join(sites)}",
            at=site,
            category=Category.REFERENCE,
        )
    prefix = b.convert(b.require(spec, "prefix", f + ".prefix"), f + ".prefix", ip_network)
    members = [
        member
        for j, m in enumerate(b.sequence(spec.get("members"), f + ".members", at=spec))
        if (member := _segment_member(b, m, f"{f}.members[{j}]", prefix, devices)) is not None
    ]
    gateway = _gateway(b, spec, f, prefix)
    vips = [
        vip
        for j, v in enumerate(b.sequence(spec.get("vips"), f + ".vips", at=spec))
        if (vip := _vip(b, v, f"{f}.vips[{j}]", f"vip{j}", spec)) is not None
    ]
    vrid = _optional(b, spec, "vrid", f, _positive_count)
    vlan = _optional(b, spec, "vlan", f, _positive_count)
    if site not in sites or not prefix:
        return None
    return Segment(name, str(site), prefix, tuple(members), vlan, gateway, vrid, tuple(vips))


def _optional(b: Builder, spec: dict, key: str, f: str, fn: Callable[[object], T]) -> T | None:
    """fn(spec[key]) when the key is given (and not empty), else None."""
    return b.convert(spec[key], f"{f}.{key}", fn) if spec.get(key) else None


def _segment_member(
    b: Builder, m: object, field: str, prefix: IPv4Network | None, devices: dict
) -> SegmentMember | None:
    """A device's interface on the segment, with an address inside its prefix."""
    ep = _endpoint(b, m, field, devices)
    if ep is None:
        return None
    if ep.address is None or ep.interface is None:
        b.problem(
            field,
            "needs interface and address",
            "add interface: and address:",
            at=m,
            category=Category.MISSING,
        )
        return None
    if prefix and ep.address not in prefix and ep.address.network != prefix:
        b.problem(
            f"{field}.address",
            f"{ep.address} is outside {prefix}",
            "use an address of the segment's prefix",
            at=m.get("address") if isinstance(m, dict) else m,
            category=Category.CONSISTENCY,
        )
    return SegmentMember(ep.device, ep.interface, ep.address)


def _gateway(b: Builder, spec: dict, f: str, prefix: IPv4Network | None) -> IPv4Address | None:
    """The segment's gateway (the VRRP virtual address), inside its prefix."""
    gateway = _optional(b, spec, "gateway", f, IPv4Address)
    if gateway and prefix and gateway not in prefix:
        b.problem(
            f + ".gateway",
            f"{gateway} is outside {prefix}",
            "use an address of the prefix",
            at=spec["gateway"],
            category=Category.CONSISTENCY,
        )
    return gateway


def _vip(b: Builder, spec: object, field: str, default_name: str, segment: dict) -> Vip | None:
    """A service virtual address held by its owners (keepalived) in VRRP group `vrid`."""
    v = b.mapping(spec, field, known=KEYS["vip"], at=segment)
    address = b.convert(
        b.require(v, "address", f"{field}.address"), f"{field}.address", IPv4Address
    )
    owners = b.sequence(v.get("owners"), f"{field}.owners", at=v)
    for owner in owners:
        if str(owner) not in b.raw.host_vars:
            b.problem(
                f"{field}.owners",
                f"unknown device {str(owner)!r}",
                "name a host of hosts.yml",
                at=v,
                category=Category.REFERENCE,
            )
    vrid = b.convert(b.require(v, "vrid", f"{field}.vrid"), f"{field}.vrid", _positive_count)
    port = _optional(b, v, "port", field, _positive_count)
    if not (address and vrid):
        return None
    return Vip(str(v.get("name", default_name)), address, tuple(map(str, owners)), vrid, port)


# --- the pipeline -------------------------------------------------------------


def build_topology(raw: RawInventory) -> Topology:
    """RawInventory -> Topology, or EmopsError listing every problem.

    Two stages with a checkpoint between them: every field is read and converted
    (all problems collected), and only a model without field problems is
    cross-checked, so one mistake is reported once, not again by a check that
    sees its consequence (an unknown device in a link is not also a site
    "with 0 primary links").
    """
    b = Builder(raw)
    settings = _settings(b)  # emops: network-wide settings
    catalogue = _catalogue(b)  # transaction shapes and bulk jobs
    sites = _sites(b, catalogue)  # site groups, their counties and traffic
    devices = _devices(b, sites)  # hosts with role, site, platform, address
    links = _links(b, devices, settings.rates)  # point-to-point links and bundles
    segments = _segments(b, devices, sites)  # LAN segments / VLANs
    b.checkpoint()  # no cross-checks on a model with holes
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
    b.problems += check_topology(topology, settings.spaces, b.locations)  # the whole model
    b.checkpoint()
    return topology
