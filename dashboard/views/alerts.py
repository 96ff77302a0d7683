"""Alerts: what fires now, what fired in the range, and the evidence each verdict fused.

emops alerts fuse several sensors (SNMP poll, traps, probes, HAProxy, VRRP)
into one verdict; their description annotation spells out each sensor's
reading, which is what ops need to trust or dismiss an alert.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import queries
from dashboard.alertmanager import alertmanager_alerts
from dashboard.context import PageContext, run_page

HIDDEN_LABELS = {"alertname", "alertstate", "__name__"}


def _labels(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in HIDDEN_LABELS)


def current(ctx: PageContext) -> None:
    alerts = sorted(
        ctx.alerts(),
        key=lambda a: (a.get("state") != "firing", a["labels"].get("alertname", "")),
    )
    firing = sum(a.get("state") == "firing" for a in alerts)
    a, b = st.columns(2)
    a.metric("Firing", "—" if ctx.blind else firing, border=True)
    b.metric("Pending", "—" if ctx.blind else len(alerts) - firing, border=True)
    if ctx.blind:
        return
    if not alerts:
        st.success("No alert is pending or firing.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "state": al.get("state", ""),
                    "alert": al["labels"].get("alertname", ""),
                    "severity": al["labels"].get("severity", ""),
                    "summary": al.get("annotations", {}).get("summary", ""),
                    "active since": al.get("activeAt", ""),
                    "labels": _labels(al["labels"]),
                }
                for al in alerts
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption("Evidence: each alert's description and labels")
    for al in alerts:
        labels, notes = al["labels"], al.get("annotations", {})
        title = f"{al.get('state', '')}: {labels.get('alertname', '')} ({_labels(labels)})"
        with st.expander(title):
            st.markdown(notes.get("description") or notes.get("summary") or "(no description)")
            st.json({"labels": labels, "annotations": notes, "value": al.get("value")})


def alertmanager(ctx: PageContext) -> None:
    if not ctx.settings.alertmanager:
        return
    st.subheader("Alertmanager")
    alerts, error = alertmanager_alerts(ctx.settings.alertmanager)
    if error:
        st.warning(error)
        return
    rows = [
        {
            "alert": al.get("labels", {}).get("alertname", ""),
            "state": al.get("status", {}).get("state", ""),
            "silenced by": ", ".join(al.get("status", {}).get("silencedBy", [])),
            "receivers": ", ".join(r.get("name", "") for r in al.get("receivers", [])),
            "starts": al.get("startsAt", ""),
            "labels": _labels(al.get("labels", {})),
        }
        for al in alerts
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption("Alertmanager holds no alert.")


def recent(ctx: PageContext) -> None:
    """Alerts that fired during the range, from Prometheus's own ALERTS series."""
    st.subheader("Fired in the selected range")
    rows = []
    for s in ctx.series(queries.FIRED_ALERTS):
        times = [t for t, v in s.points if v >= 1]
        if not times:
            continue
        rows.append(
            {
                "alert": s.labels.get("alertname", ""),
                "severity": s.labels.get("severity", ""),
                "first seen": pd.to_datetime(min(times), unit="s", utc=True),
                "last seen": pd.to_datetime(max(times), unit="s", utc=True),
                "labels": _labels(s.labels),
            }
        )
    if not rows:
        st.caption("No alert fired in the selected range.")
        return
    frame = pd.DataFrame(rows).sort_values("last seen", ascending=False)
    st.dataframe(frame, hide_index=True, width="stretch")


def render(ctx: PageContext) -> None:
    current(ctx)
    alertmanager(ctx)
    recent(ctx)


run_page("Alerts", render)
