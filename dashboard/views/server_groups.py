"""Server groups: web, application, database, statistics, interface and CTI at HQ.

For each group its devices' health (SNMP, CPU, memory, hottest sensor, uptime,
the application probe and its latency), then what the load balancers think of
their backends (HAProxy's own state) and whether the standby database keeps up
with the primary.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import device_health, formatting, queries
from dashboard.charts import time_frame
from dashboard.context import PageContext, run_page
from dashboard.views_common import by_label

GROUPS = (  # (device role, short title): the paper's server groups and the 95598 CTI
    ("web", "Web"),
    ("app", "App"),
    ("db", "Database"),
    ("stats", "Statistics"),
    ("interface", "Interface"),
    ("cti", "CTI"),
)
UP = {True: "up", False: "DOWN", None: "—"}


def _flag(value: float | None) -> bool | None:
    return None if value is None else value >= 1


def device_rows(ctx: PageContext, role: str, title: str, health: dict[str, dict]) -> list[dict]:
    rows = []
    for device in sorted(ctx.topo.devices_with_role(role), key=lambda d: d.name):
        h = health.get(device.name, {})
        rows.append(
            {
                "group": title,
                "device": device.name,
                "SNMP": UP[_flag(h.get("snmp"))],
                **device_health.columns(h),
                "probe success": formatting.ratio(h.get("probe")),
                "probe p95": formatting.seconds(h.get("p95")),
                device_health.DETAILS: device_health.page_link(device.name),
            }
        )
    return rows


def health(ctx: PageContext) -> dict[str, dict]:
    """device -> its readings, from one query per reading for every device."""
    w = ctx.range.window
    readings = {
        "snmp": by_label(ctx.instant(queries.device_up()), "device"),
        "probe": by_label(ctx.instant(queries.probe_success_by_target(w)), "target"),
        "p95": by_label(ctx.instant(queries.probe_delay_by_target(0.95, w)), "target"),
        "postgres": by_label(ctx.instant(queries.postgres_up()), "device"),
        "lag": by_label(ctx.instant(queries.replication_lag()), "device"),
    }
    found: dict[str, dict] = device_health.readings(ctx)
    for reading, values in readings.items():
        for device, value in values.items():
            found.setdefault(device, {})[reading] = value
    return found


def groups(ctx: PageContext, readings: dict[str, dict]) -> None:
    present = [(r, t, ctx.topo.devices_with_role(r)) for r, t in GROUPS]
    present = [(r, t, devices) for r, t, devices in present if devices]
    for column, (_role, title, devices) in zip(st.columns(len(present)), present, strict=True):
        healthy = sum(readings.get(d.name, {}).get("snmp", 0) >= 1 for d in devices)
        shown = formatting.MISSING if ctx.blind else str(healthy)
        column.metric(f"{title} servers up", f"{shown} / {len(devices)}", border=True)
    rows = [row for role, title, _ in present for row in device_rows(ctx, role, title, readings)]
    device_health.show(rows)


def load_balancers(ctx: PageContext) -> None:
    st.subheader("Load balancers: HAProxy backend states")
    states = ctx.instant(queries.haproxy_server_state())
    if not states:
        st.caption("No HAProxy metrics (job haproxy) in Prometheus.")
        return
    rows = [
        {
            "balancer": s.labels.get("device", s.labels.get("instance", "")),
            "backend": s.labels.get("proxy", ""),
            "server": s.labels.get("server", ""),
            "state": s.labels.get("state", ""),
        }
        for s in states
    ]
    frame = pd.DataFrame(rows).sort_values(["balancer", "backend", "server"])
    st.dataframe(frame, hide_index=True, width="stretch")
    active = ctx.instant(queries.haproxy_backend_active())
    if active:
        st.caption(
            "Active servers per backend: "
            + ", ".join(
                f"{s.labels.get('device', s.labels.get('instance', ''))}/"
                f"{s.labels.get('proxy', '')}: {s.value:.0f}"
                for s in sorted(active, key=lambda s: sorted(s.labels.items()))
            )
        )


def databases(ctx: PageContext, readings: dict[str, dict]) -> None:
    st.subheader("Databases: PostgreSQL and replication")
    dbs = sorted(ctx.topo.devices_with_role("db"), key=lambda d: d.name)
    rows = [
        {
            "device": d.name,
            "db role": d.vars.get("db_role", ""),
            "PostgreSQL": UP[_flag(readings.get(d.name, {}).get("postgres"))],
            "replication lag": formatting.seconds(readings.get(d.name, {}).get("lag")),
        }
        for d in dbs
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    lag = time_frame(ctx.series(queries.replication_lag()), "device")
    if not lag.empty:
        st.caption("Replication lag (seconds)")
        st.line_chart(lag)


def render(ctx: PageContext) -> None:
    readings = health(ctx)
    groups(ctx, readings)
    load_balancers(ctx)
    databases(ctx, readings)


run_page("Server groups", render)
