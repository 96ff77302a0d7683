"""Contributors for what every device has: identity, management access, SNMP."""

from __future__ import annotations

from emops.structured.context import Context, Data
from emops.topology.model import LAB_MGMT_IFNAME

LINK_MONITOR_S = 2  # snmpd `monitor -r`: linkDown/linkUp traps about 2 s after a change


def identity(ctx: Context) -> Data:
    """Who the device is: name, platform, role, site, hardware model."""
    d = ctx.device
    return {
        "hostname": d.name,
        "platform": d.platform,
        "role": d.role,
        "site": d.site,
        "network": ctx.topo.network,
        "model": d.model,
    }


def management(ctx: Context) -> Data:
    """The out-of-band management address (SSH, SNMP and metrics listen only here)."""
    mgmt = ctx.topo.management
    interface = ctx.vars.get("mgmt_interface", LAB_MGMT_IFNAME if ctx.topo.is_lab else None)
    return {
        "management": {
            "interface": interface,
            "address": str(ctx.device.mgmt_address),
            "prefix": str(mgmt.network) if mgmt is not None else None,
            "gateway": str(mgmt.ip) if mgmt is not None and ctx.topo.is_lab else None,
        }
    }


def snmp(ctx: Context) -> Data:
    """SNMPv3 authPriv agent on the management address, link traps to the receiver.

    Secrets stay references, exactly as the inventory writes them
    (`"{{ vault_snmp_auth_password }}"`): Ansible resolves them only in the task
    that uses them; Python readers redact or resolve them themselves.
    A read-only v2c community is added only where the host sets `snmp_v2c: true`.
    """
    raw = ctx.vars.get("snmp")
    if not isinstance(raw, dict):
        return {"snmp": None}
    mgmt = ctx.topo.management
    v2c = None
    if ctx.vars.get("snmp_v2c") is True and raw.get("v2c_read_community"):
        v2c = {
            "community": raw["v2c_read_community"],
            "source": str(mgmt.network) if mgmt is not None else raw.get("trap_receiver"),
        }
    site = ctx.topo.sites.get(ctx.device.site)
    return {
        "snmp": {
            "listen": {"address": str(ctx.device.mgmt_address), "port": 161},
            "location": site.description if site and site.description else ctx.device.site,
            "contact": str(raw.get("contact", "emops network operations")),
            "v3": {
                "user": raw.get("user"),
                "security_level": raw.get("security_level", "authPriv"),
                "auth_protocol": raw.get("auth_protocol", "SHA"),
                "auth_password": raw.get("auth_password"),
                "priv_protocol": raw.get("priv_protocol", "AES"),
                "priv_password": raw.get("priv_password"),
            },
            "v2c": v2c,
            "traps": {
                "receiver": raw.get("trap_receiver"),
                "port": int(raw.get("trap_port", 162)),
                "version": 3,
                "link_monitor_s": LINK_MONITOR_S,
            },
        }
    }
