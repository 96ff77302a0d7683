"""Campaigns: the results and figures of load-and-fault campaigns (loadtest/).

Each KPI is shown as the paper shows it (the mean over runs, and one bar per
run, as in its figures 2-5) plus the 95 % interval the paper left out.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import campaigns, formatting
from dashboard.context import PageContext, run_page


def summary(campaign: campaigns.Campaign) -> None:
    columns = st.columns(3) + st.columns(3)  # two rows: each value and its interval fit
    for column, (name, label, kind) in zip(columns, campaigns.KPI_FIELDS, strict=True):
        est = campaign.estimate(name)
        column.metric(
            label,
            formatting.kind_format(kind, None if est is None else est.mean),
            delta=None if est is None else formatting.spread(est.half_width, kind),
            delta_color="off",
            delta_arrow="off",
            border=True,
        )


def runs_table(campaign: campaigns.Campaign) -> pd.DataFrame:
    rows = []
    for run in campaign.runs:
        row = {"run": formatting.count(run.get("run"))}
        row |= {f: formatting.count(run.get(f)) for f in campaigns.COUNT_FIELDS if f in run}
        row |= {
            label: formatting.kind_format(kind, run.get(name))
            for name, label, kind in campaigns.KPI_FIELDS
        }
        rows.append(row)
    return pd.DataFrame(rows)


def per_run_charts(campaign: campaigns.Campaign) -> None:
    frame = pd.DataFrame(campaign.runs)
    if frame.empty or "run" not in frame:
        return
    charts = [(n, label, kind) for n, label, kind in campaigns.KPI_FIELDS if n in frame]
    columns = st.columns(3)
    for i, (name, label, kind) in enumerate(charts):
        data = frame[["run", name]].dropna()
        if kind == "seconds":
            data[name] = data[name] * 1000
        axis = alt.Axis(format=".2%") if kind == "ratio" else alt.Axis(title="ms")
        chart = (
            alt.Chart(data, title=label)
            .mark_bar()
            .encode(x=alt.X("run:O", title="run"), y=alt.Y(f"{name}:Q", axis=axis))
            .properties(height=180)
        )
        columns[i % 3].altair_chart(chart, width="stretch")


def render(ctx: PageContext) -> None:
    found = campaigns.read_campaigns(ctx.settings.campaigns_dir)
    if not found:
        st.info(
            f"No campaign results in {ctx.settings.campaigns} yet. Run a load campaign "
            "(`emops campaign run`), or start the dashboard with `--campaigns DIR`; "
            "docs/dashboard.md describes the files it reads."
        )
        return
    newest_first = list(reversed(range(len(found))))
    choice = st.selectbox(
        "Campaign", newest_first, format_func=lambda i: found[i].name, key="campaign"
    )
    campaign = found[choice]
    st.caption(
        f"{campaign.scenario or 'campaign'}; started {campaign.started or '?'}, "
        f"finished {campaign.finished or '?'}; {len(campaign.runs)} runs; from {campaign.path}"
    )
    for note in campaign.notes:
        st.warning(note)
    summary(campaign)
    if campaign.runs:
        st.dataframe(runs_table(campaign), hide_index=True, width="stretch")
        per_run_charts(campaign)
    for figure in campaign.figures:
        st.image(str(figure), caption=figure.name)


run_page("Campaigns", render, uses_prometheus=False)
