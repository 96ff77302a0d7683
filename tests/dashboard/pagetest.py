"""Run dashboard pages in Streamlit's AppTest and read back what they show."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "inventory" / "lab"
APP = ROOT / "dashboard" / "app.py"
PAGES = {
    "Overview": "views/overview.py",
    "Topology": "views/topology.py",
    "Device": "views/device.py",
    "WAN capacity": "views/wan_capacity.py",
    "Server groups": "views/server_groups.py",
    "Alerts": "views/alerts.py",
    "Campaigns": "views/campaigns.py",
}


def open_page(page: str, query: dict[str, str] | None = None, timeout_s: float = 60) -> AppTest:
    """The app after a first run, switched to `page` (a PAGES key) and run again."""
    at = AppTest.from_file(str(APP), default_timeout=timeout_s).run()
    if query:
        at.query_params.update(query)
    return at.switch_page(PAGES[page]).run()


def metrics(at: AppTest) -> dict[str, str]:
    """{label: value shown} of every st.metric on the page."""
    return {m.label: m.value for m in at.metric}


def deltas(at: AppTest) -> dict[str, str | None]:
    """{label: delta shown under the value} of every st.metric on the page."""
    return {m.label: m.delta for m in at.metric}


def texts(elements) -> list[str]:
    return [e.value for e in elements]
