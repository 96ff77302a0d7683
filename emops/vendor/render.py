"""Render device views to vendor CLI text with the templates in playbooks/templates.

One top template per platform (`<platform>/main.j2`) includes one template per
configuration section, in order. Templates see the device view (view.py) and a
few filters for address arithmetic, plus `secret`, the only way a template
writes a credential: it resolves a vault reference (`"{{ vault_x }}"`) through
the caller's resolver, or writes REDACTED when rendering for review and golden
files. A redacted render never sees a decrypted value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from ipaddress import (
    IPv4Interface,
    IPv4Network,
    IPv6Interface,
    IPv6Network,
    ip_address,
    ip_interface,
    ip_network,
)
from pathlib import Path

import jinja2

from emops.errors import EmopsError
from emops.structured import structured_config, structured_configs
from emops.topology.model import Topology
from emops.vendor.view import Data, device_view, vendor_devices

TEMPLATES = Path(__file__).resolve().parents[2] / "playbooks" / "templates"
REDACTED = "REDACTED"
_REFERENCE = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")

Resolver = Callable[[str], str]  # vault variable name -> clear text


def _iface(value: object) -> IPv4Interface | IPv6Interface:
    return ip_interface(str(value))


def _net(value: object) -> IPv4Network | IPv6Network:
    return ip_network(str(value), strict=False)  # an interface address names its network


def trailing_number(name: str) -> int:
    """Eth-Trunk1 -> 1, Multilink12 -> 12: the bundle number members refer to."""
    match = re.search(r"(\d+)$", name)
    if not match:
        raise EmopsError.of("interface", f"{name!r} has no bundle number", "end it with a number")
    return int(match.group(1))


def _secret_filter(resolve: Resolver | None) -> Callable[[object], str]:
    def secret(value: object) -> str:
        if resolve is None:
            return REDACTED
        match = _REFERENCE.match(str(value).strip())
        return resolve(match.group(1)) if match else str(value)

    return secret


FILTERS: dict[str, Callable[..., object]] = {
    "ip": lambda v: str(_iface(v).ip),
    "netmask": lambda v: str(_net(v).netmask),
    "prefixlen": lambda v: _net(v).prefixlen,
    "network": lambda v: str(_net(v).network_address),
    "wildcard": lambda v: str(_net(v).hostmask),
    "trailing_number": trailing_number,
    "area_number": lambda v: int(ip_address(str(v))),  # OSPF area 0.0.0.0 -> 0 (IOS style)
}


def environment(resolve: Resolver | None) -> jinja2.Environment:
    """The Jinja environment: strict (a missing field is an error), tidy blocks."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    env.filters["secret"] = _secret_filter(resolve)
    return env


def render_view(view: Data, resolve: Resolver | None = None) -> str:
    """One device's configuration text; resolve=None redacts every secret."""
    platform = view["platform"]
    try:
        template = environment(resolve).get_template(f"{platform}/main.j2")
    except jinja2.TemplateNotFound:
        raise EmopsError.of(
            "emops_platform", f"no templates for platform {platform!r}", f"see {TEMPLATES}"
        ) from None
    return template.render(device=view)


def render_device(topo: Topology, name: str, resolve: Resolver | None = None) -> str:
    """Render one vendor device of the topology."""
    devices = {d.name: d for d in vendor_devices(topo)}
    if name not in devices:
        raise EmopsError.of(
            "host", f"{name!r} is not a vendor CLI device", f"one of {', '.join(devices)}"
        )
    return render_view(device_view(structured_config(topo, name)), resolve)


def render_all(topo: Topology, resolve: Resolver | None = None) -> dict[str, str]:
    """host -> configuration text for every vendor device, in inventory order."""
    configs = structured_configs(topo)
    return {
        d.name: render_view(device_view(configs[d.name]), resolve) for d in vendor_devices(topo)
    }


def resolver_from(secrets: Mapping[str, str]) -> Resolver:
    """A resolver over plain values (e.g. vault variables Ansible decrypted)."""

    def resolve(name: str) -> str:
        if name not in secrets:
            raise EmopsError.of("secret", f"{name} is not defined", "add it to the vault")
        return str(secrets[name])

    return resolve
