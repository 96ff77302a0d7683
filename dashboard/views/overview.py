"""Overview: the paper's KPIs at a glance, live from Prometheus and from the latest campaign.

Live KPIs summarise the selected time range, each with its trend; the
precision and false-alarm KPIs need ground truth, so they come from the
latest load campaign, which scores alerts against the faults it injected.
"""

from __future__ import annotations

import streamlit as st

from dashboard import campaigns, formatting, queries
from dashboard.context import PageContext, run_page
from dashboard.network_state import network_state

CAMPAIGN_KPIS = ("downtime_rate", "data_precision", "alarm_precision", "false_alarm_rate")


def live_kpis(ctx: PageContext) -> None:
    r = ctx.range
    st.subheader("Service, live")
    st.caption(f"Over the selected range; trend per {r.point_window}. VIP probes from every site.")
    kpis = [
        ("Availability", queries.availability, formatting.ratio),
        ("Request delay p50", lambda w, _: queries.request_delay(0.5, w), formatting.seconds),
        ("Request delay p95", lambda w, _: queries.request_delay(0.95, w), formatting.seconds),
        ("Downtime rate", lambda w, _: queries.downtime_rate(w), formatting.ratio),
    ]
    columns = st.columns(len(kpis) + 1)
    for column, (label, query, fmt) in zip(columns, kpis, strict=False):
        value = ctx.value(query(r.window, r.resolution))
        trend = ctx.sparkline(query(r.point_window, r.resolution))
        column.metric(label, fmt(value), chart_data=trend or None, border=True)
    firing = [a for a in ctx.alerts() if a.get("state") == "firing"]
    columns[-1].metric(
        "Active alerts",
        formatting.MISSING if ctx.blind else formatting.count(len(firing)),
        chart_data=ctx.sparkline(queries.ACTIVE_ALERTS) or None,
        border=True,
    )


def network_health(ctx: PageContext) -> None:
    st.subheader("Network, now")
    w = ctx.range.now_window
    state = network_state(
        ctx.topo,
        ctx.instant(queries.device_up()),
        ctx.instant(queries.link_members_up()),
        ctx.instant(queries.link_bits_per_second(w)),
        ctx.instant(queries.link_utilisation(w)),
    )
    answering = sum(up is True for up in state.devices.values())
    links = state.links.values()

    def shown(number: int) -> str:
        return formatting.MISSING if ctx.blind else str(number)

    a, b, c, d = st.columns(4)
    a.metric("Devices answering SNMP", f"{shown(answering)} / {len(state.devices)}", border=True)
    b.metric("Links down", shown(sum(s.status == "down" for s in links)), border=True)
    c.metric("Bundles degraded", shown(sum(s.status == "degraded" for s in links)), border=True)
    d.metric("Backup bundles carrying traffic", shown(sum(s.carrying for s in links)), border=True)


def campaign_kpis(ctx: PageContext) -> None:
    latest = campaigns.latest(ctx.settings.campaigns_dir)
    st.subheader("Precision and false alarms, latest campaign")
    if latest is None:
        st.info(
            f"No load-campaign results in {ctx.settings.campaigns} yet. Run a load campaign "
            "(`emops campaign run`) to measure data precision, alarm precision and the "
            "false alarm rate; docs/dashboard.md describes the files read."
        )
        return
    st.caption(
        f"Campaign {latest.name} ({latest.finished or latest.started}): "
        f"mean of {len(latest.runs)} runs ± 95 % interval; trend across runs."
    )
    labels = {f: (label, kind) for f, label, kind in campaigns.KPI_FIELDS}
    labels["downtime_rate"] = ("Downtime rate (campaign)", "ratio")  # beside the live one
    for column, name in zip(st.columns(len(CAMPAIGN_KPIS)), CAMPAIGN_KPIS, strict=True):
        label, kind = labels[name]
        est = latest.estimate(name)
        trend = [r[name] for r in latest.runs if name in r]
        column.metric(
            label,
            formatting.kind_format(kind, None if est is None else est.mean),
            delta=None if est is None else formatting.spread(est.half_width, kind),
            delta_color="off",
            delta_arrow="off",
            chart_data=trend or None,
            chart_type="bar",
            border=True,
        )


def render(ctx: PageContext) -> None:
    live_kpis(ctx)
    network_health(ctx)
    campaign_kpis(ctx)


run_page("Overview", render)
