"""Range answers as tables Streamlit can chart, and the one layered chart it cannot draw alone.

Kept apart from the pages so a page reads as "ask, then show", and the
shape of a Prometheus matrix is known in one place.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.prometheus import Series

DECADES = [10**k for k in range(3, 12)]  # 1k ... 100G: symlog's own ticks are too sparse
# Each tick formatted on its own: Vega formats a symlog axis through the scale's linear
# tickFormat, which gives every tick the largest tick's SI prefix (1 Mbit/s read "0G").
BPS_LABEL = "format(datum.value, '~s') + 'bit/s'"
FEW_POINTS = 5  # fewer than this in a history chart: each one drawn as a dot too
# How a history chart's y axis reads, per kind of number (formatting.py's kinds).
AXES = {
    "ratio": {"format": ".0%"},
    "bps": {"labelExpr": BPS_LABEL},
    "celsius": {"labelExpr": "format(datum.value, '~g') + ' °C'"},
    "per_second": {"labelExpr": "format(datum.value, '~g') + ' /s'"},
}


def time_frame(series: list[Series], label: str) -> pd.DataFrame:
    """One column per series (named by `label`'s value), indexed by UTC time."""
    columns = {}
    for s in series:
        name = s.labels.get(label) or ", ".join(f"{k}={v}" for k, v in s.labels.items()) or "value"
        columns[name] = pd.Series(
            [v for _, v in s.points],
            index=pd.to_datetime([t for t, _ in s.points], unit="s", utc=True),
        )
    if not columns:
        return pd.DataFrame()
    return pd.DataFrame(columns).sort_index()


def capacity_chart(
    measured: pd.DataFrame, capacity_bps: float, planned_bps: float, required_bps: float
) -> alt.LayerChart:
    """Measured traffic over time against the link's capacity and the planner's estimate."""
    if measured.empty:
        data = pd.DataFrame({"time": pd.Series(dtype="datetime64[ns, UTC]"), "bps": []})
    else:
        first = measured.columns[0]
        data = measured.reset_index(names="time").rename(columns={first: "bps"})
    line = (
        alt.Chart(data)
        .mark_line(color="#1565c0")
        .encode(
            x=alt.X("time:T", title=None),
            # symlog: a 2M bundle's demand and a GE link's capacity on one readable axis
            y=alt.Y(
                "bps:Q",
                title="busier direction",
                scale=alt.Scale(type="symlog"),
                axis=alt.Axis(values=DECADES, labelExpr=BPS_LABEL),
            ),
            tooltip=["time:T", alt.Tooltip("bps:Q", title="bit/s", format=".3s")],
        )
    )
    levels = pd.DataFrame(
        {
            "level": ["capacity", "planner estimate", "planner + headroom"],
            "bps": [capacity_bps, planned_bps, required_bps],
        }
    )
    rules = (
        alt.Chart(levels)
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y=alt.Y("bps:Q", title="busier direction", scale=alt.Scale(type="symlog")),
            color=alt.Color(
                "level:N",
                scale=alt.Scale(
                    domain=list(levels["level"]), range=["#c62828", "#2e7d32", "#f9a825"]
                ),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["level:N", alt.Tooltip("bps:Q", title="bit/s", format=".3s")],
        )
    )
    return alt.layer(line, rules)


def history_chart(frame: pd.DataFrame, kind: str) -> alt.Chart:
    """A time_frame as lines, one per column, on a y axis labelled for `kind` (AXES).

    Altair directly rather than st.line_chart: a quarter of the render time, and
    an axis that says its unit (st.line_chart draws 20 Mbit/s as "20,000,000").
    """
    long = frame.reset_index(names="time").melt("time", var_name="series", value_name="value")
    return (
        alt.Chart(long)
        .mark_line(point=len(frame) < FEW_POINTS)  # a lone point draws no line
        .encode(
            x=alt.X("time:T", title=None),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(**AXES[kind])),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["time:T", "series:N", alt.Tooltip("value:Q", format=".3~s")],
        )
    )
