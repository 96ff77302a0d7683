"""WAN capacity: each link's measured traffic against its capacity and the planner's estimate.

The planner (capacity/plan.py) sizes links from the inventory's traffic
profiles; this page puts its demand and recommendation beside what the links
actually carried, which is how a planner checks the model against the network.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from capacity.plan import LinkPlan
from dashboard import formatting, queries
from dashboard.charts import capacity_chart, time_frame
from dashboard.context import PageContext, link_plans, run_page
from dashboard.views_common import by_link, query_choice


def _plans(ctx: PageContext) -> list[LinkPlan]:
    """The planner's rows for the links this dashboard shows."""
    return link_plans(ctx.settings.inventory, ctx.settings.site_count)


def table(ctx: PageContext) -> pd.DataFrame:
    r = ctx.range
    now = by_link(ctx.instant(queries.link_utilisation(r.now_window)))
    peak = by_link(ctx.instant(queries.link_peak_utilisation(r.window, r.now_window, r.resolution)))
    rows = []
    for plan in _plans(ctx):
        rows.append(
            {
                "site": plan.site,
                "link": plan.link,
                "role": plan.role,
                "capacity": formatting.bits_per_second(plan.capacity_bps),
                "utilisation now": formatting.ratio(now.get(plan.link), 1),
                "peak in range": formatting.ratio(peak.get(plan.link), 1),
                "planner demand": formatting.bits_per_second(plan.demand_bps),
                "planner utilisation": formatting.ratio(plan.utilisation, 1),
                "planner recommends": plan.recommended,
                "planner status": plan.status,
            }
        )
    return pd.DataFrame(rows)


def link_chart(ctx: PageContext, link: str) -> None:
    plan = next((p for p in _plans(ctx) if p.link == link), None)
    if plan is None:
        return
    st.subheader(f"{link}: measured vs capacity vs planner")
    series = ctx.series(queries.link_bits_per_second(ctx.range.point_window, link))
    measured = time_frame(series, "link")
    chart = capacity_chart(measured, plan.capacity_bps, plan.demand_bps, plan.required_bps)
    st.altair_chart(chart, width="stretch")
    a, b, c, d = st.columns(4)
    a.metric("Capacity", formatting.bits_per_second(plan.capacity_bps))
    b.metric("Planner demand", formatting.bits_per_second(plan.demand_bps))
    c.metric("Planner + headroom", formatting.bits_per_second(plan.required_bps))
    d.metric("Recommended circuit", plan.recommended)
    if measured.empty:
        st.caption("No traffic measured on this link in the selected range.")


def render(ctx: PageContext) -> None:
    st.caption(
        "Utilisation is the busier direction over the inventory's capacity (rate x members). "
        "Primary links carry all of their site's traffic; backup bundles its critical traffic."
    )
    st.dataframe(table(ctx), hide_index=True, width="stretch")
    names = [p.link for p in _plans(ctx)]
    link = query_choice("Link", "link", names, allow_none=False)
    if link:
        link_chart(ctx, link)


run_page("WAN capacity", render)
