"""Draw HQ and the municipal companies as an SVG network diagram.

A layered layout that mirrors how ops think of the network, left to right:
HQ's server groups and load balancers, the LAN segments joining them to the
core switches, the firewall, HQ's two WAN routers, then one row per municipal
company with its WAN router and LAN devices. Private links fan out from the
private WAN router, backup bundles (one line per 2M member) from the backup
router. Colours carry state: link utilisation of capacity, down links, devices
whose SNMP agent stopped answering, and backup bundles carrying traffic.

Positions come from device roles, not names, so the province inventory draws
the same way as the lab twin. Output is a self-contained SVG string.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from dashboard.formatting import bits_per_second, ratio
from dashboard.network_state import LinkState, NetworkState
from emops.topology.model import Topology

NODE_W, NODE_H = 112, 20
ROW = 26  # vertical pitch of stacked devices
GROUP_GAP = 12  # extra space between server groups
SITE_ROW = 50  # vertical pitch of municipal companies
TOP = 40

# x of each layer's centre
X_SERVERS, X_HUBS, X_CORE, X_TRANSIT, X_FIREWALL, X_HQ_WAN = 80, 250, 370, 455, 540, 660
X_SITE_ROUTER, X_SITE_LAN = 930, 1080
WIDTH = 1160

SERVER_ORDER = ("load_balancer", "web", "app", "stats", "interface", "cti", "db")

COLOURS = {
    "ok": "#2e7d32",
    "busy": "#f9a825",
    "full": "#c62828",
    "down": "#b71c1c",
    "unknown": "#9e9e9e",
    "backup_idle": "#90a4ae",
    "backup_carrying": "#ef6c00",
    "lan": "#607d8b",
}
FILLS = {True: "#e8f5e9", False: "#ffebee", None: "#f5f5f5"}
STROKES = {True: "#2e7d32", False: "#c62828", None: "#9e9e9e"}


@dataclass(frozen=True)
class Point:
    x: float
    y: float


def link_colour(state: LinkState, max_utilisation: float) -> str:
    """Green below half the planner's ceiling, amber up to it, red above; state first."""
    if state.status == "down":
        return COLOURS["down"]
    if state.role == "backup":
        return COLOURS["backup_carrying" if state.carrying else "backup_idle"]
    if state.utilisation is None:
        return COLOURS["unknown" if state.role in ("primary", "lag") else "lan"]
    if state.utilisation >= max_utilisation:
        return COLOURS["full"]
    return COLOURS["busy" if state.utilisation >= max_utilisation / 2 else "ok"]


def layout(topo: Topology) -> tuple[dict[str, Point], dict[str, Point], int]:
    """Device centres, municipal site label anchors, and the drawing's height."""
    pos: dict[str, Point] = {}
    hq = [d for d in topo.devices.values() if topo.sites[d.site].kind == "hq"]
    y = TOP
    for role in SERVER_ORDER:
        group = sorted((d for d in hq if d.role == role), key=lambda d: d.name)
        for device in group:
            pos[device.name] = Point(X_SERVERS, y)
            y += ROW
        y += GROUP_GAP if group else 0
    primaries = {lk.a.device for lk in topo.links if lk.role == "primary"}
    others = sorted(  # the private WAN router above the backup one, as in the paper's figure
        (d for d in hq if d.role not in SERVER_ORDER),
        key=lambda d: (d.role, d.name not in primaries, d.name),
    )
    sites = topo.municipal_sites()
    height = max(y, TOP + SITE_ROW * len(sites)) + 30
    middle = (TOP + height - 30) / 2
    by_role: dict[str, list[str]] = {}
    for device in others:
        by_role.setdefault(device.role, []).append(device.name)
    columns = {"core_switch": X_CORE, "firewall": X_FIREWALL, "wan_router": X_HQ_WAN}
    for role, names in by_role.items():
        x = columns.get(role, X_TRANSIT)
        spread = (height - 30 - TOP) * 0.4
        for i, name in enumerate(names):
            offset = 0.0 if len(names) == 1 else spread * (i / (len(names) - 1) - 0.5)
            pos[name] = Point(x, middle + offset)
    anchors: dict[str, Point] = {}
    for i, site in enumerate(sites):
        row_y = TOP + SITE_ROW * i + 10
        anchors[site.name] = Point(X_SITE_ROUTER, row_y - 14)
        routers = [d for d in topo.devices_at(site.name) if d.role == "wan_router"]
        rest = [d for d in topo.devices_at(site.name) if d.role != "wan_router"]
        for j, device in enumerate(routers):
            pos[device.name] = Point(X_SITE_ROUTER, row_y + j * 8)
        for j, device in enumerate(rest):
            pos[device.name] = Point(X_SITE_LAN, row_y + j * 8)
    return pos, anchors, int(height)


def _line(a: Point, b: Point, colour: str, width: float, extra: str = "") -> str:
    return (
        f'<line x1="{a.x:.1f}" y1="{a.y:.1f}" x2="{b.x:.1f}" y2="{b.y:.1f}" '
        f'stroke="{colour}" stroke-width="{width}"{extra}/>'
    )


def _link_title(state: LinkState) -> str:
    members = f", {state.members_up}/{state.members} members up" if state.members > 1 else ""
    if state.members_up is None:
        members = ", no interface reports"
    used = ratio(state.utilisation, 1)
    return (
        f"{state.link} ({state.role}, {bits_per_second(state.capacity_bps)}): "
        f"{state.status}{members}; {bits_per_second(state.bits_per_second)} = {used}"
    )


def draw_link(
    a: Point, b: Point, state: LinkState, max_utilisation: float, label_at: Point | None = None
) -> str:
    """One line per member, side by side; dashed when down; wide and haloed when failed over.

    WAN links get their utilisation written at `label_at` (on their site's row), where
    it stays readable instead of on lines that converge at HQ.
    """
    colour = link_colour(state, max_utilisation)
    dash = ' stroke-dasharray="5 4"' if state.status in ("down", "unknown") else ""
    width = 3.0 if state.role in ("primary", "lag") else 1.4
    if state.carrying:
        width = 3.0
    parts = [f'<g class="link link-{state.role}" data-link="{escape(state.link)}">']
    parts.append(f"<title>{escape(_link_title(state))}</title>")
    if state.carrying:
        halo = 6 + 3 * state.members
        parts.append(_line(a, b, "#ffcc80", halo, ' stroke-opacity="0.6"'))
    length = max(1.0, ((b.x - a.x) ** 2 + (b.y - a.y) ** 2) ** 0.5)
    nx, ny = -(b.y - a.y) / length, (b.x - a.x) / length  # unit normal: members side by side
    up = state.members if state.members_up is None else state.members_up
    for k in range(state.members):
        shift = (k - (state.members - 1) / 2) * 3.2
        pa = Point(a.x + nx * shift, a.y + ny * shift)
        pb = Point(b.x + nx * shift, b.y + ny * shift)
        if k >= up and state.status == "degraded":  # which member is down is in the title
            parts.append(_line(pa, pb, COLOURS["down"], 1.4, ' stroke-dasharray="5 4"'))
        else:
            parts.append(_line(pa, pb, colour, width, dash))
    if label_at is not None and (state.role == "primary" or state.carrying):
        label = "down" if state.status == "down" else ratio(state.utilisation, 1)
        parts.append(
            f'<text class="link-label" x="{label_at.x:.1f}" y="{label_at.y:.1f}" '
            f'font-size="10" fill="{colour}" text-anchor="end">'
            f"{escape(state.role)} {escape(label)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def draw_device(name: str, role: str, at: Point, up: bool | None) -> str:
    status = {True: "SNMP up", False: "SNMP not answering", None: "not polled"}[up]
    x, y = at.x - NODE_W / 2, at.y - NODE_H / 2
    return (
        f'<g class="device" data-device="{escape(name)}" data-up="{str(up).lower()}">'
        f"<title>{escape(name)} ({escape(role)}): {status}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="4" '
        f'fill="{FILLS[up]}" stroke="{STROKES[up]}" stroke-width="1.5"/>'
        f'<text x="{at.x:.1f}" y="{at.y + 4:.1f}" font-size="11" text-anchor="middle">'
        f"{escape(name)}</text></g>"
    )


def draw_segments(topo: Topology, pos: dict[str, Point]) -> list[str]:
    """LAN segments: a direct line for two members, else a labelled hub joining them."""
    parts = []
    for segment in topo.segments:
        members = [m.device for m in segment.members if m.device in pos]
        if len(members) < 2:
            continue
        colour = COLOURS["lan"]
        if len(members) == 2:
            a, b = (pos[m] for m in members)
            parts.append(_line(a, b, colour, 1.2))
            continue
        leaves = [pos[m] for m in members if pos[m].x == X_SERVERS]
        ys = [p.y for p in leaves] or [pos[m].y for m in members]
        x = X_HUBS if leaves else X_TRANSIT
        hub = Point(x, sum(ys) / len(ys))
        parts.append(f'<g class="segment" data-segment="{escape(segment.name)}">')
        parts.append(f"<title>segment {escape(segment.name)}</title>")
        parts.extend(_line(hub, pos[m], colour, 1.0, ' stroke-opacity="0.7"') for m in members)
        parts.append(f'<circle cx="{hub.x:.1f}" cy="{hub.y:.1f}" r="4" fill="{colour}"/>')
        parts.append(
            f'<text x="{hub.x:.1f}" y="{hub.y - 7:.1f}" font-size="9" fill="#455a64" '
            f'text-anchor="middle">{escape(segment.name)}</text></g>'
        )
    return parts


def _legend(y: float, max_utilisation: float) -> str:
    half = max_utilisation / 2
    items = [
        ("ok", f"< {half:.0%} of capacity"),
        ("busy", f"{half:.0%}-{max_utilisation:.0%}"),
        ("full", f">= {max_utilisation:.0%}"),
        ("down", "down (dashed)"),
        ("backup_carrying", "backup carrying traffic"),
        ("backup_idle", "backup idle"),
    ]
    parts = [f'<g class="legend" font-size="10" transform="translate(10,{y:.0f})">']
    for i, (key, text) in enumerate(items):
        x = i * 190
        parts.append(_line(Point(x, 0), Point(x + 24, 0), COLOURS[key], 3))
        parts.append(f'<text x="{x + 30}" y="4">{escape(text)}</text>')
    return "".join(parts) + "</g>"


def topology_svg(
    topo: Topology, state: NetworkState, selected: str | None = None, link_base: str = ""
) -> str:
    """The whole diagram; `selected` (a site) is outlined; site names link to `?site=`."""
    pos, anchors, height = layout(topo)
    total_h = height + 30
    max_util = topo.planning.max_utilisation
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="emops-topology" '
        f'viewBox="0 0 {WIDTH} {total_h}" width="100%" role="img" '
        f'aria-label="{escape(topo.network)} network topology" '
        f'font-family="sans-serif" style="background:#ffffff">',
        f'<rect x="6" y="10" width="{X_HQ_WAN + 70}" height="{height - 20}" rx="10" '
        f'fill="#fafafa" stroke="#cfd8dc"/>',
        '<text x="16" y="28" font-size="13" font-weight="bold">HQ</text>',
    ]
    parts.extend(draw_segments(topo, pos))
    label_rows = {name: 0 for name in anchors}
    for link in topo.links:
        if link.a.device in pos and link.b.device in pos and link.name in state.links:
            link_state = state.links[link.name]
            label_at = None
            if link_state.site in anchors and link.role in ("primary", "backup"):
                row = anchors[link_state.site]
                label_at = Point(X_SITE_LAN + NODE_W / 2, row.y - 11 * label_rows[link_state.site])
                label_rows[link_state.site] += int(link.role == "primary" or link_state.carrying)
            parts.append(
                draw_link(pos[link.a.device], pos[link.b.device], link_state, max_util, label_at)
            )
    for name, anchor in anchors.items():
        site = topo.sites[name]
        n = len(site.counties)
        counties = f" (+{n} {'county' if n == 1 else 'counties'})" if n else ""
        outline = ' font-weight="bold" fill="#1565c0"' if name == selected else ""
        href = escape(f"{link_base}?site={quote(name)}", quote=True)
        parts.append(
            f'<a href="{href}" target="_self"><text class="site" data-site="{escape(name)}" '
            f'x="{anchor.x - NODE_W / 2:.1f}" y="{anchor.y:.1f}" font-size="11"{outline} '
            f'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{escape(name)}{escape(counties)}</text></a>"
        )
    for name, at in pos.items():
        device = topo.devices[name]
        parts.append(draw_device(name, device.role, at, state.devices.get(name)))
    parts.append(_legend(height + 8, max_util))
    parts.append("</svg>")
    return "".join(parts)
