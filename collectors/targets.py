"""Poll targets from the inventory: one per device, credentials from its `snmp:` vars.

`snmp:` (group_vars/all/snmp.yml) holds the protocol settings and references
vault values; a host with `snmp_v2c: true` is polled with v2c and the read
community instead of v3. Every problem is reported with its host and field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from collectors.snmp.poller import Target
from collectors.snmp.session import AUTH_PROTOCOLS, PRIV_PROTOCOLS, UsmCredentials
from collectors.trap_gate import BURST, RATE
from emops.errors import EmopsError, Problem
from emops.secrets import Decryptor, redact
from emops.topology.model import Device, Topology

DEFAULT_PORT = 161
SECURITY_LEVELS = ("authPriv", "authNoPriv", "noAuthNoPriv")
GLOBAL_FIELDS = ("--vault-password-file", "vault")


def _field(snmp: Mapping[str, Any], key: str, host: str, hint: str) -> str:
    value = snmp.get(key)
    if value in (None, ""):
        raise EmopsError(Problem(f"snmp.{key}", "missing", hint, host=host))
    return str(value)


def target_for(device: Device, decryptor: Decryptor) -> Target:
    """The poll target of one device (raises EmopsError naming host and field)."""
    host = device.name
    raw = device.vars.get("snmp")
    if not isinstance(raw, Mapping):
        raise EmopsError(
            Problem("snmp", "no snmp: settings", "define snmp: in group_vars/all", host=host)
        )
    snmp = decryptor.render(dict(raw), device.vars)
    port = int(snmp.get("port", DEFAULT_PORT))
    common = {"device": host, "host": str(device.mgmt_address), "port": port}
    labels = {"site": device.site, "role": device.role, "platform": device.platform}
    if device.vars.get("snmp_v2c") or str(snmp.get("version")) in ("2", "2c"):
        community = _field(snmp, "v2c_read_community", host, "set the community (vault)")
        return Target(**common, version="2c", community=community, **labels)
    if str(snmp.get("version")) != "3":
        raise EmopsError(
            Problem("snmp.version", f"{snmp.get('version')!r} is not 2c or 3", host=host)
        )
    level = str(snmp.get("security_level", "authPriv"))
    if level not in SECURITY_LEVELS:
        raise EmopsError(
            Problem("snmp.security_level", f"{level!r}", f"one of {SECURITY_LEVELS}", host=host)
        )
    auth_protocol = str(snmp.get("auth_protocol", "SHA")).upper()
    priv_protocol = str(snmp.get("priv_protocol", "AES")).upper()
    if auth_protocol not in AUTH_PROTOCOLS:
        raise EmopsError(
            Problem(
                "snmp.auth_protocol", f"{auth_protocol!r}", f"one of {AUTH_PROTOCOLS}", host=host
            )
        )
    if priv_protocol not in PRIV_PROTOCOLS:
        raise EmopsError(
            Problem(
                "snmp.priv_protocol", f"{priv_protocol!r}", f"one of {PRIV_PROTOCOLS}", host=host
            )
        )
    needs_auth = level != "noAuthNoPriv"
    usm = UsmCredentials(
        user=_field(snmp, "user", host, "name the SNMPv3 user"),
        auth_protocol=auth_protocol,
        auth_password=_field(snmp, "auth_password", host, "vault it") if needs_auth else "",
        priv_protocol=priv_protocol,
        priv_password=_field(snmp, "priv_password", host, "vault it")
        if level == "authPriv"
        else "",
    )
    return Target(**common, version="3", usm=usm, **labels)


def targets_from(topo: Topology, decryptor: Decryptor) -> list[Target]:
    """Every device's target; all problems are raised together."""
    targets, problems = [], []
    for device in topo.devices.values():
        try:
            targets.append(target_for(device, decryptor))
        except EmopsError as exc:
            if any(p.field in GLOBAL_FIELDS for p in exc.problems):
                raise  # the same for every host: say it once
            problems.extend(exc.problems)
    if problems:
        raise EmopsError(problems)
    return targets


def describe(targets: list[Target]) -> list[dict[str, Any]]:
    """The targets as printable config, secrets redacted."""
    out = []
    for t in targets:
        entry: dict[str, Any] = {
            "device": t.device,
            "address": f"{t.host}:{t.port}",
            "version": t.version,
            "site": t.site,
            "role": t.role,
        }
        if t.version == "2c":
            entry["community"] = t.community
        elif t.usm is not None:
            entry |= {
                "user": t.usm.user,
                "auth_protocol": t.usm.auth_protocol,
                "auth_password": t.usm.auth_password,
                "priv_protocol": t.usm.priv_protocol,
                "priv_password": t.usm.priv_password,
            }
        out.append(redact(entry))
    return out


def trap_communities(topo: Topology, decryptor: Decryptor) -> set[str]:
    """Communities v2c traps may carry: each device's `snmp.trap_community`, else
    its read community (the lab's agents send traps with the community they answer)."""
    found = set()
    for device in topo.devices.values():
        raw = device.vars.get("snmp")
        if not isinstance(raw, Mapping):
            continue
        key = "trap_community" if "trap_community" in raw else "v2c_read_community"
        if key in raw:
            value = decryptor.render({key: raw[key]}, device.vars)[key]
            if value:
                found.add(str(value))
    return found


@dataclass(frozen=True)
class TrapSettings:
    """What the trap receiver takes from the inventory's `snmp:` mapping."""

    relays: frozenset[str] = frozenset()  # `trap_relays`: whose snmpTrapAddress is believed
    rate: float = RATE  # `trap_rate`: traps a second per source address
    burst: float = BURST  # `trap_burst`: traps a source may send at once


def _relays(listed: object, host: str) -> set[str]:
    try:
        if not isinstance(listed, list):
            raise ValueError(f"{listed!r} is not a list")
        return {str(IPv4Address(str(address))) for address in listed}
    except ValueError as exc:
        raise EmopsError(
            Problem(
                "snmp.trap_relays", str(exc), "list IPv4 addresses, e.g. [198.19.255.7]", host=host
            )
        ) from None


def _limit(value: object, key: str, least: float, host: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (least <= number < math.inf):
        raise EmopsError(
            Problem(f"snmp.{key}", f"{value!r} is not a number >= {least:g}", host=host)
        )
    return number


def trap_settings(topo: Topology) -> TrapSettings:
    """Relays (every host's `snmp.trap_relays`) and the per-source rate limit
    (`snmp.trap_rate`, `snmp.trap_burst`: one value network-wide, in group_vars/all)."""
    relays: set[str] = set()
    limits: dict[str, set[float]] = {"trap_rate": set(), "trap_burst": set()}
    for device in topo.devices.values():
        raw = device.vars.get("snmp")
        if not isinstance(raw, Mapping):
            continue
        relays |= _relays(raw.get("trap_relays") or [], device.name)
        for key, default, least in (("trap_rate", RATE, 0.01), ("trap_burst", BURST, 1.0)):
            limits[key].add(_limit(raw.get(key, default), key, least, device.name))
    for key, values in limits.items():
        if len(values) > 1:
            raise EmopsError.of(
                f"snmp.{key}",
                f"differs between hosts: {sorted(values)}",
                "set it in group_vars/all",
            )
    rate, burst = (values.pop() if values else None for values in limits.values())
    return TrapSettings(frozenset(relays), rate or RATE, burst or BURST)
