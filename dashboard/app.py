"""The dashboard's entry script: page list, shared sidebar (time range, auto-refresh).

Run by `emops dashboard` (streamlit run); pages live in dashboard/views/, one
file each, so a page has its own URL (/topology?site=anping) for drill-down.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.context import RANGE_KEY, REFRESH_CHOICES, REFRESH_KEY
from dashboard.settings import DashboardSettings
from dashboard.timerange import DEFAULT_PRESET, PRESETS

VIEWS = Path(__file__).resolve().parent / "views"
PAGES = (
    ("overview.py", "Overview", ":material/dashboard:"),
    ("topology.py", "Topology", ":material/hub:"),
    ("device.py", "Device", ":material/router:"),
    ("wan_capacity.py", "WAN capacity", ":material/network_check:"),
    ("server_groups.py", "Server groups", ":material/dns:"),
    ("alerts.py", "Alerts", ":material/notifications:"),
    ("campaigns.py", "Campaigns", ":material/science:"),
)


def sidebar(settings: DashboardSettings) -> None:
    with st.sidebar:
        st.selectbox("Time range", list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET),
                     key=RANGE_KEY)  # fmt: skip
        st.selectbox("Auto-refresh", list(REFRESH_CHOICES), key=REFRESH_KEY)
        st.caption(
            f"Prometheus: {settings.prometheus}  \nInventory: {settings.inventory}  \n"
            f"Campaigns: {settings.campaigns}"
        )


def main() -> None:
    st.set_page_config(page_title="emops KPI dashboard", page_icon=":material/bolt:",
                       layout="wide")  # fmt: skip
    pages = [
        st.Page(VIEWS / file, title=title, icon=icon, default=(i == 0))
        for i, (file, title, icon) in enumerate(PAGES)
    ]
    navigation = st.navigation(pages)
    sidebar(DashboardSettings.from_env())
    navigation.run()


main()
