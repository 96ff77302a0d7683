"""`emops lab up|down|status`: the twin's hardware and cabling.

`up` is a flat pipeline of named stages over a `LabPlan` (see lab/plan.py);
each stage only adds what is missing, so a second `up` changes nothing and a
half-built twin is completed. `down` removes every namespace, link, bridge,
process and file the lab made, using the state file and, after a crash, the
names the lab inventory implies.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from ipaddress import ip_address, ip_network

from emops.errors import EmopsError
from emops.files import write_atomic
from emops.netaddr import LOOPBACK
from emops.topology import cut_to_sites, load_topology
from emops.topology.model import LAB_PREFIX, Topology
from lab import kernel
from lab.device import start_device, stop_device
from lab.paths import device_dir, lab_dir, limit_file, state_file
from lab.plan import FABRIC_NS, MGMT_BRIDGE, LabPlan, Veth, plan_lab
from lab.processes import device_pid
from lab.services import service_status
from lab.sshd import ensure_lab_keys, start_sshd

NFT_TABLE = "emops_lab"
DEFAULT_SITES = 3
QUIET_SYSCTLS = {  # a quiet, IPv4-only twin: no autoconfigured IPv6 leaves a namespace
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}


def require_root() -> None:
    if os.geteuid() != 0:
        raise EmopsError.of(
            "user",
            "emops lab needs root (network namespaces, veth, tc)",
            "run it as root, e.g. sudo .venv/bin/emops lab up",
        )


@contextmanager
def lab_lock() -> Iterator[None]:
    """One lab command at a time changes the kernel."""
    lab_dir().mkdir(parents=True, exist_ok=True)
    with open(lab_dir() / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def load_lab(inventory: str, sites: int | None) -> tuple[Topology, LabPlan]:
    """Validate the inventory and the site count, and plan the twin: no side effects."""
    topo = load_topology(inventory)
    cut = cut_to_sites(
        topo, sites if sites is not None else min(DEFAULT_SITES, len(topo.municipal_sites()))
    )
    return cut, plan_lab(cut)


# --- up -----------------------------------------------------------------------


@dataclass
class Progress:
    """Prints each stage with its time; long work shows progress."""

    echo: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.start = time.perf_counter()

    def stage(self, text: str) -> None:
        self.echo(f"[{time.perf_counter() - self.start:6.2f}s] {text}")


def _shaping(veth: Veth, side: str) -> str:
    port = veth.a if side == "a" else veth.b
    rate = int(veth.rate_bps or 0)
    burst = max(3200, rate // 8 // 100)  # at least two frames, or 10 ms of the rate
    return f"qdisc replace dev {port.ifname} root tbf rate {rate}bit burst {burst} latency 100ms"


def create_namespaces(plan: LabPlan) -> None:
    wanted = [*plan.namespaces, FABRIC_NS]
    missing = [ns for ns in wanted if ns not in kernel.netns_list()]
    kernel.ip_batch(f"netns add {ns}" for ns in missing)
    for ns in missing:
        kernel.sysctl_in(ns, QUIET_SYSCTLS)
        kernel.ip_batch(["link set dev lo up"], netns=ns)


def create_bridges(plan: LabPlan) -> None:
    for bridge in plan.bridges:
        if bridge.name not in kernel.links(bridge.netns):
            kernel.ip_batch([f"link add name {bridge.name} type bridge"], netns=bridge.netns)
        lines = [f"link set dev {bridge.name} up"]
        if bridge.address:
            lines.insert(0, f"addr replace {bridge.address} dev {bridge.name}")
        kernel.ip_batch(lines, netns=bridge.netns)


def create_veths(plan: LabPlan) -> None:
    """Make every missing veth pair; a pair with one end missing is remade."""
    present = {ns: kernel.links(ns) for ns in {*plan.namespaces, FABRIC_NS, None}}
    lines = []
    for v in plan.veths:
        has_a, has_b = v.a.ifname in present[v.a.netns], v.b.ifname in present[v.b.netns]
        if has_a and has_b:
            continue
        for port, has in ((v.a, has_a), (v.b, has_b)):
            if has:
                kernel.ip_batch([f"link del dev {port.ifname}"], netns=port.netns)
        a_ns = f" netns {v.a.netns}" if v.a.netns else ""
        b_ns = f" netns {v.b.netns}" if v.b.netns else ""
        lines.append(f"link add name {v.a.ifname}{a_ns} type veth peer name {v.b.ifname}{b_ns}")
    kernel.ip_batch(lines)


def configure_ports(plan: LabPlan) -> None:
    """Addresses, bridge membership, admin up: one `ip -batch` per namespace."""
    per_ns: dict[str | None, list[str]] = {}
    for v in plan.veths:
        for port in (v.a, v.b):
            lines = per_ns.setdefault(port.netns, [])
            if port.address:
                lines.append(f"addr replace {port.address} dev {port.ifname}")
            if port is v.b and v.bridge:
                lines.append(f"link set dev {port.ifname} master {v.bridge}")
            lines.append(f"link set dev {port.ifname} up")
    for ns, lines in per_ns.items():
        kernel.ip_batch(lines, netns=ns)


def shape_links(plan: LabPlan) -> None:
    """tbf at each shaped link's rate on both ends: each direction gets the rate."""
    per_ns: dict[str | None, list[str]] = {}
    for v in plan.veths:
        if v.rate_bps:
            per_ns.setdefault(v.a.netns, []).append(_shaping(v, "a"))
            per_ns.setdefault(v.b.netns, []).append(_shaping(v, "b"))
    for ns, lines in per_ns.items():
        kernel.tc_batch(lines, netns=ns)


def fence_host() -> None:
    """The host never forwards for the management network: the twin cannot route out."""
    rules = (
        f"add table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n"
        f"table inet {NFT_TABLE} {{\n"
        "  chain forward {\n"
        "    type filter hook forward priority -10; policy accept;\n"
        f'    iifname "{MGMT_BRIDGE}" counter drop\n'
        f'    oifname "{MGMT_BRIDGE}" counter drop\n'
        "  }\n}\n"
    )
    kernel.run(["nft", "-f", "-"], input=rules)


def start_devices(plan: LabPlan, topo: Topology) -> None:
    """Each device gets its runtime (hostname, private /etc and /run) and an SSH server
    on its management address: management access as a factory-fresh device offers it."""
    ensure_lab_keys()
    for name in plan.namespaces:
        start_device(name, name)
        start_sshd(name, str(topo.devices[name].mgmt_address))


def verify_isolation(plan: LabPlan) -> list[str]:
    """Every address in the lab prefix (or loopback); no default or foreign route."""
    problems = []
    for ns in (*plan.namespaces, FABRIC_NS):
        for iface in kernel.addresses(ns):
            for addr in iface.get("addr_info", []):
                if addr.get("family") != "inet":
                    if addr.get("scope") != "link" and addr.get("scope") != "host":
                        problems.append(f"{ns} {iface['ifname']}: IPv6 address {addr['local']}")
                    continue
                ip = ip_address(addr["local"])
                if ip not in LAB_PREFIX and ip not in LOOPBACK:
                    problems.append(f"{ns} {iface['ifname']}: {ip} outside {LAB_PREFIX}")
        for route in kernel.routes(ns):
            dst = route.get("dst", "")
            if route.get("type") in ("local", "broadcast") or dst in ("", "multicast"):
                continue
            net = ip_network("0.0.0.0/0" if dst == "default" else dst, strict=False)
            if not (net.subnet_of(LAB_PREFIX) or net.subnet_of(LOOPBACK)):
                problems.append(f"{ns}: route to {dst} leaves the lab prefix")
    return problems


def write_state(topo: Topology, plan: LabPlan) -> None:
    state = {
        "inventory": os.path.abspath(topo.source),
        "sites": [s for s in plan.sites],
        "namespaces": [*plan.namespaces, FABRIC_NS],
        "devices": {n: str(d.mgmt_address) for n, d in topo.devices.items()},
        "up_since": time.time(),
    }
    write_atomic(state_file(), json.dumps(state, indent=2) + "\n")
    # Ansible's `--limit @FILE`: the hosts of the inventory that this twin has.
    write_atomic(limit_file(), "".join(f"{name}\n" for name in topo.devices))


def lab_up(
    inventory: str,
    sites: int | None,
    echo: Callable[[str], None] = print,
    start_runtime: bool = True,
) -> LabPlan:
    """Build (or complete) the twin. Validation happens before any change."""
    require_root()
    kernel.require_tools("ip", "tc", "nft")
    topo, plan = load_lab(inventory, sites)
    running = read_state()
    if running and set(running["sites"]) != set(plan.sites):
        raise EmopsError.of(
            "--sites",
            f"a twin of {len(running['sites']) - 1} companies is up",
            "run `emops lab down` first to change its size",
        )
    progress = Progress(echo)
    with lab_lock():
        progress.stage(
            f"{len(plan.namespaces)} devices, {len(plan.veths)} veth pairs, "
            f"{len(plan.bridges)} bridges"
        )
        create_namespaces(plan)  # one namespace per device + the switch fabric
        progress.stage("namespaces")
        create_bridges(plan)  # one bridge per segment / VLAN, and management
        create_veths(plan)  # links, bundle members, bridge ports, management ports
        configure_ports(plan)  # addresses, bridge membership, admin up
        progress.stage("links and bridges")
        shape_links(plan)  # tbf at the inventory rate on WAN and LAG links
        fence_host()  # the host never forwards for the management bridge
        progress.stage("shaping and fence")
        if start_runtime:
            start_devices(plan, topo)  # private /etc and /run, hostname, sshd
            progress.stage("device runtimes and SSH servers")
        problems = verify_isolation(plan)
        if problems:
            teardown(echo=lambda _: None)
            raise EmopsError.of(
                "lab",
                f"the twin would reach outside the lab: {problems[0]}",
                "the lab was torn down; fix the inventory",
            )
        write_state(topo, plan)
        progress.stage("up: isolation verified, state written")
    return plan


# --- down ---------------------------------------------------------------------


def running_sites(inventory: str | os.PathLike[str]) -> int | None:
    """How many municipal companies the running twin of `inventory` has (None: no twin)."""
    state = read_state()
    if not state or state["inventory"] != os.path.abspath(inventory):
        return None
    return len(state["sites"]) - 1


def read_state() -> dict | None:
    try:
        return json.loads(state_file().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _lab_namespaces(inventory: str | None) -> set[str]:
    """Ours: what the state file lists, else what the lab inventory implies."""
    names = {FABRIC_NS}
    state = read_state()
    if state:
        names |= set(state["namespaces"])
    if inventory:
        with suppress(EmopsError):  # a broken inventory must not stop a clean-up
            names |= set(load_topology(inventory).devices)
    if (lab_dir() / "devices").is_dir():
        names |= {p.name for p in (lab_dir() / "devices").iterdir()}
    return names & kernel.netns_list()


def teardown(inventory: str | None = "inventory/lab", echo: Callable[[str], None] = print) -> int:
    """Remove everything the lab made; safe on a half-built or crashed twin."""
    progress = Progress(echo)
    namespaces = sorted(_lab_namespaces(inventory))
    for ns in namespaces:
        if ns != FABRIC_NS and device_dir(ns).exists():
            stop_device(ns)
    progress.stage(f"stopped processes of {len(namespaces)} namespaces")
    kernel.ip_batch((f"netns del {ns}" for ns in namespaces), force=True)
    if MGMT_BRIDGE in kernel.links():
        kernel.ip_batch([f"link del dev {MGMT_BRIDGE}"])
    kernel.run(["nft", "delete", "table", "inet", NFT_TABLE], check=False)
    _wait_for_root_ports_gone()
    if lab_dir().exists():
        shutil.rmtree(lab_dir())
    progress.stage(f"down: {len(namespaces)} namespaces, bridges and files removed")
    return len(namespaces)


def _wait_for_root_ports_gone(timeout: float = 10.0) -> None:
    """`ip netns del` is asynchronous: the host-side veth peers vanish a moment later."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(name.startswith("mg") and name[2:].isdigit() for name in kernel.links()):
            return
        time.sleep(0.1)


def lab_down(inventory: str | None, echo: Callable[[str], None] = print) -> int:
    require_root()
    with lab_lock():
        return teardown(inventory, echo)


# --- status -------------------------------------------------------------------


def lab_status() -> dict:
    """Each device and link with its state, read from the kernel."""
    state = read_state()
    if state is None:
        return {"up": False, "devices": {}, "links": []}
    topo, plan = load_lab(state["inventory"], len(state["sites"]) - 1)
    present = kernel.netns_list()
    ifaces = {ns: kernel.links(ns) for ns in {*plan.namespaces, FABRIC_NS} & present}
    shapers = {ns: kernel.qdiscs(ns) for ns in ifaces}
    devices = {}
    for name in plan.namespaces:
        services = service_status(name) if name in present else {}
        devices[name] = {
            "netns": name in present,
            "running": device_pid(name) is not None,
            "mgmt": str(topo.devices[name].mgmt_address),
            "role": topo.devices[name].role,
            "site": topo.devices[name].site,
            "services": {k: v.get("running", False) for k, v in services.items()},
        }
    links = []
    for v in plan.veths:
        if v.link == "management":
            continue
        ends = []
        for port in (v.a, v.b):
            info = ifaces.get(port.netns, {}).get(port.ifname)
            tbf = shapers.get(port.netns, {}).get(port.ifname, {})
            ends.append(
                {
                    "netns": port.netns,
                    "ifname": port.ifname,
                    "state": _oper(info),
                    "rate_bps": _tbf_rate(tbf),
                }
            )
        links.append({"link": v.link, "member": v.member, "rate_bps": v.rate_bps, "ends": ends})
    return {
        "up": True,
        "inventory": state["inventory"],
        "sites": state["sites"],
        "devices": devices,
        "links": links,
    }


def _oper(info: dict | None) -> str:
    if info is None:
        return "missing"
    if "UP" not in info.get("flags", []):
        return "admin-down"
    return "up" if info.get("operstate") in ("UP", "UNKNOWN") else "down"


def _tbf_rate(qdisc: dict) -> int | None:
    if qdisc.get("kind") != "tbf":
        return None
    return int(qdisc.get("options", {}).get("rate", 0)) * 8 or None  # tc -j says bytes/s
