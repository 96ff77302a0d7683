"""Device: one device of the inventory as its SNMP poll sees it, now and over the range.

Pick a device (or open `/device?device=hq-core1`): its health, sensors against
its own thresholds, optics, interfaces with traffic and error rates, FHRP
groups and OSPF neighbours, then history over the selected range. The
profile the poller chose is shown, and the groups it promises but the device
did not return are a warning: a blank section must never pass for a healthy
one, so every section without data says so.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from dashboard import formatting, queries
from dashboard.charts import history_chart, time_frame
from dashboard.context import PageContext, run_page
from dashboard.device_state import GROUPS, DeviceState
from dashboard.views_common import query_choice
from emops.topology.model import Device

SNMP = {True: "up", False: "DOWN", None: formatting.MISSING}


class Sections:
    """Writes each section's table, or says why there is none."""

    def __init__(self, ctx: PageContext, state: DeviceState) -> None:
        self.ctx = ctx
        self.state = state

    def absent(self, what: str, group: str | None = None) -> None:
        if self.ctx.blind:
            st.caption(f"{what}: unknown, Prometheus is not answering.")
        elif group in self.state.missing:
            st.caption(
                f"No data from this device for {what}, which its profile promises "
                "(see the warning above)."
            )
        else:
            st.caption(f"No data from this device for {what}.")

    def table(self, what: str, rows: list[dict], group: str | None = None) -> None:
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        else:
            self.absent(what, group)

    def chart(self, what: str, expr: str, label: str, kind: str) -> None:
        frame = time_frame(self.ctx.series(expr), label)
        if frame.empty:
            self.absent(f"{what} in the selected range")
            return
        if kind == "per_second":  # faults: only the interfaces that had some
            frame = frame.loc[:, frame.max() > 0]
            if frame.empty:
                st.caption(f"No {what} in the selected range: every interface at 0 /s.")
                return
        st.caption(what[0].upper() + what[1:])
        st.altair_chart(history_chart(frame, kind), width="stretch")


def describe(devices: dict[str, Device]) -> Callable[[str], str]:
    """How the picker lists a device: 'hq-core1 (core_switch, hq)'."""

    def text(name: str) -> str:
        d = devices.get(name)
        return f"{name} ({d.role}, {d.site})" if d else name

    return text


def identity(ctx: PageContext, device: Device, state: DeviceState) -> None:
    """What the device is, and why sections may be empty: its poll, its profile."""
    st.caption(
        f"{device.role} at {device.site}; platform {device.platform}"
        f"{', ' + device.model if device.model else ''}; management {device.mgmt_address}"
    )
    if ctx.blind:
        return
    if state.snmp_up is None:
        st.warning(
            f"{device.name} is not polled: Prometheus has no emops_snmp_up for it (is it in the "
            "inventory the collectors read?)."
        )
    elif not state.snmp_up:
        st.warning(
            f"{device.name}'s SNMP agent is not answering its poll (emops_snmp_up is 0): "
            "what follows is whatever Prometheus still holds from it."
        )
    if state.profile:
        profile, oid = state.profile
        st.caption(f"Profile in use: **{profile}** (sysObjectID {oid or 'not reported'})")
    elif state.snmp_up:
        st.warning(
            "No profile reported for this device (no emops_snmp_profile_info): the poller has "
            "not read it yet."
        )
    if state.missing:
        groups = ", ".join(GROUPS.get(g, g) for g in state.missing)
        profile = f"The {state.profile[0]} profile" if state.profile else "Its profile"
        st.warning(
            f"{profile} promises {groups}, but the device returned none "
            "(emops_snmp_profile_missing): those sections stay empty until the agent answers them."
        )


def headline(ctx: PageContext, name: str, state: DeviceState) -> None:
    readings = (
        ("SNMP", SNMP[state.snmp_up] if not ctx.blind else formatting.MISSING),
        ("CPU", formatting.ratio(ctx.value(queries.device_cpu(name)), 1)),
        ("Memory", formatting.ratio(ctx.value(queries.device_memory(name)), 1)),
        ("Temperature max", formatting.celsius(ctx.value(queries.device_temperature_max(name)))),
        ("Uptime", formatting.uptime(ctx.value(queries.device_uptime(name)))),
    )
    for column, (label, value) in zip(st.columns(len(readings)), readings, strict=True):
        column.metric(label, value, border=True)


def now(s: Sections) -> None:
    state = s.state
    st.subheader("Health")
    left, right = st.columns(2)
    with left:
        s.table("CPU", state.cpu_rows(), "cpu")
    with right:
        s.table("memory", state.memory_rows(), "memory")
    st.subheader("Sensors")
    left, right = st.columns(2)
    with left:
        s.table("temperature", state.temperature_rows(), "temperature")
        s.table("voltage", state.voltage_rows(), "voltage")
    with right:
        s.table("fans", state.fan_rows(), "fans")
        s.table("power supplies", state.power_rows(), "power")
    st.subheader("Optics")
    s.table("optics", state.optics_rows(), "optics")
    st.subheader("Interfaces")
    s.table("interfaces", state.interface_rows())
    left, right = st.columns(2)
    with left:
        st.subheader("FHRP")
        s.table("FHRP (VRRP / HSRP)", state.fhrp_rows(), "fhrp")
    with right:
        st.subheader("OSPF neighbours")
        s.table("OSPF neighbours", state.ospf_rows(), "ospf")


def history(s: Sections, name: str) -> None:
    st.subheader("History")
    w = s.ctx.range.point_window
    charts = (  # (what, PromQL, the label naming each line, kind of number)
        ("CPU utilisation", queries.device_cpu_history(name), "entity", "ratio"),
        ("memory in use", queries.device_memory(name), "device", "ratio"),
        ("temperature", queries.device_temperature_history(name), "entity", "celsius"),
        ("errors and discards", queries.interface_errors_per_second(name, w), "ifname",
         "per_second"),
        ("traffic received", queries.interface_bits_per_second(name, "receive", w), "ifname",
         "bps"),
        ("traffic sent", queries.interface_bits_per_second(name, "transmit", w), "ifname", "bps"),
    )  # fmt: skip
    columns = st.columns(2)
    for i, chart in enumerate(charts):
        with columns[i % 2]:
            s.chart(*chart)


def render(ctx: PageContext) -> None:
    devices = ctx.topo.devices
    name = query_choice(
        "Device",
        "device",
        list(devices),
        allow_none=False,
        refuse_unknown=f"the inventory {ctx.settings.inventory}",
        describe=describe(devices),
    )
    if name is None:
        return
    state = DeviceState.read(
        ctx.instant(queries.device_gauges(name)),
        ctx.instant(queries.interface_rates(name, ctx.range.now_window)),
    )
    identity(ctx, devices[name], state)
    headline(ctx, name, state)
    sections = Sections(ctx, state)
    now(sections)
    history(sections, name)


run_page("Device", render)
