"""Health at a glance, one row per device: CPU, memory, hottest sensor, uptime.

Server groups and Topology show the same four columns for many devices, so
they are read here with one question each for every device (not one per
device), and formatted in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dashboard import formatting, queries
from dashboard.context import PageContext
from dashboard.views_common import by_label

COLUMNS: tuple[tuple[str, Callable[[], str], Callable[[float | None], str]], ...] = (
    ("CPU", queries.device_cpu, lambda v: formatting.ratio(v, 1)),
    ("memory", queries.device_memory, lambda v: formatting.ratio(v, 1)),
    ("temperature max", queries.device_temperature_max, formatting.celsius),
    ("uptime", queries.device_uptime, formatting.uptime),
)
DETAILS = "details"  # the column linking each row to its Device page


def readings(ctx: PageContext) -> dict[str, dict[str, float]]:
    """device -> {column: value}, for every device that has any."""
    found: dict[str, dict[str, float]] = {}
    for column, query, _ in COLUMNS:
        for device, value in by_label(ctx.instant(query()), "device").items():
            found.setdefault(device, {})[column] = value
    return found


def columns(values: dict[str, float]) -> dict[str, str]:
    """The four columns of one device's row, formatted ('—' for what it does not report)."""
    return {column: shown(values.get(column)) for column, _, shown in COLUMNS}


def page_link(device: str) -> str:
    """The device's Device page, relative to any page (a link that can be shared)."""
    return f"device?device={quote(device)}"


def show(rows: list[dict]) -> None:
    """A table of device rows whose DETAILS column opens each device's page."""
    link = st.column_config.LinkColumn(DETAILS, display_text="device page")
    st.dataframe(
        pd.DataFrame(rows), hide_index=True, width="stretch", column_config={DETAILS: link}
    )
