"""Topology: HQ and the municipal companies drawn from the inventory, coloured by state.

Drill-down: pick a site or a link (or follow `?site=` / `?link=`, which the
drawing's site names link to) for its devices, links and traffic.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import device_health, formatting, queries
from dashboard.charts import time_frame
from dashboard.context import PageContext, run_page
from dashboard.network_state import LinkState, NetworkState, network_state
from dashboard.topology_svg import topology_svg
from dashboard.views_common import query_choice
from emops.topology.model import Device


def link_rows(states: list[LinkState]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "link": s.link,
                "role": s.role,
                "site": s.site,
                "status": s.status,
                "members up": "—" if s.members_up is None else f"{s.members_up}/{s.members}",
                "capacity": formatting.bits_per_second(s.capacity_bps),
                "traffic": formatting.bits_per_second(s.bits_per_second),
                "utilisation": formatting.ratio(s.utilisation, 1),
                "carrying": "yes" if s.carrying else "",
            }
            for s in states
        ]
    )


def device_rows(ctx: PageContext, state: NetworkState, devices: list[Device]) -> list[dict]:
    """Each device's SNMP state and health, linked to its Device page."""
    health = device_health.readings(ctx)
    return [
        {
            "device": d.name,
            "role": d.role,
            "management": str(d.mgmt_address),
            "SNMP": {True: "up", False: "not answering", None: "not polled"}[
                state.devices.get(d.name)
            ],
            **device_health.columns(health.get(d.name, {})),
            device_health.DETAILS: device_health.page_link(d.name),
        }
        for d in devices
    ]


def site_detail(ctx: PageContext, state: NetworkState, site: str) -> None:
    topo = ctx.topo
    info = topo.sites[site]
    st.subheader(f"Site {site}")
    st.caption(
        f"{info.kind}{' - ' + info.description if info.description else ''}; "
        f"{len(info.counties)} counties below it"
    )
    device_health.show(device_rows(ctx, state, topo.devices_at(site)))
    links = state.site_links(topo, site)
    if links:
        st.dataframe(link_rows(links), hide_index=True, width="stretch")
    success = ctx.value(queries.site_probe_success(site, ctx.range.window))
    if success is not None:
        st.metric(f"VIP probe success from {site}", formatting.ratio(success))


def link_detail(ctx: PageContext, state: NetworkState, link: str) -> None:
    s = state.links[link]
    st.subheader(f"Link {link}")
    st.dataframe(link_rows([s]), hide_index=True, width="stretch")
    series = ctx.series(queries.link_utilisation(ctx.range.point_window, link))
    frame = time_frame(series, "link")
    if frame.empty:
        st.caption("No traffic measured on this link in the selected range.")
    else:
        st.caption("Utilisation of capacity (busier direction)")
        st.line_chart(frame)


def render(ctx: PageContext) -> None:
    topo = ctx.topo
    w = ctx.range.now_window
    state = network_state(
        topo,
        ctx.instant(queries.device_up()),
        ctx.instant(queries.link_members_up()),
        ctx.instant(queries.link_bits_per_second(w)),
        ctx.instant(queries.link_utilisation(w)),
    )
    left, right = st.columns(2)
    with left:
        site = query_choice("Site", "site", list(topo.sites))
    with right:
        link = query_choice("Link", "link", [lk.name for lk in topo.links])
    # st.markdown, not st.html: st.html's sanitiser drops SVG; this SVG is ours, names escaped
    st.markdown(topology_svg(topo, state, selected=site), unsafe_allow_html=True)
    if site:
        site_detail(ctx, state, site)
    if link:
        link_detail(ctx, state, link)
    with st.expander("Every device"):
        devices = list(topo.devices.values())
        device_health.show(device_rows(ctx, state, devices))
    with st.expander("Every link", expanded=not (site or link)):
        st.dataframe(link_rows(list(state.links.values())), hide_index=True, width="stretch")


run_page("Topology", render)
