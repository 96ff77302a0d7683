"""What every page shares: sources, the time range, and one banner about data freshness.

A page asks its questions through `PageContext`, which records every answer;
when the page is done, `finish` writes one banner at the top: Prometheus is
unreachable and nothing was ever read (with how to start monitoring), or the
page shows the last data read at a given time, or a query was refused. Pages
themselves never deal with errors, and never raise on missing data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from capacity.plan import LinkPlan, plan_links
from dashboard import formatting, queries
from dashboard.prometheus import Answer, PrometheusClient, Sample, Series
from dashboard.settings import DashboardSettings
from dashboard.timerange import DEFAULT_PRESET, PRESETS, TimeRange
from emops.errors import EmopsError
from emops.topology import Topology, load_topology

RANGE_KEY = "time_range"  # session-state keys of the sidebar widgets (app.py)
REFRESH_KEY = "auto_refresh"
REFRESH_CHOICES = {"Off": 0, "10 s": 10, "30 s": 30, "1 min": 60}
START_HINT = (
    "Start the monitoring with `emops monitor up` (the twin first with `emops lab up`), "
    "or point the dashboard at a running Prometheus with `emops dashboard --prometheus URL`."
)


@st.cache_resource(show_spinner=False)
def topology(path: str, sites: int | None = None) -> Topology:
    """The inventory's model; with `sites`, cut to the size of the running twin."""
    return load_topology(path, sites)


@st.cache_resource(show_spinner=False)
def link_plans(path: str, sites: int | None = None) -> list[LinkPlan]:
    """The planner's rows for the inventory (pure computation, cached per inventory)."""
    return plan_links(topology(path, sites))


@st.cache_resource(show_spinner=False)
def client(url: str) -> PrometheusClient:
    """One client per Prometheus, shared by every session: its cache serves them all."""
    return PrometheusClient(url)


@dataclass
class PageContext:
    """The sources and time range of one page run, and the answers it got."""

    settings: DashboardSettings
    topo: Topology
    prometheus: PrometheusClient
    range: TimeRange
    answers: list[Answer] = field(default_factory=list)
    present: bool | None = True  # emops series exist (False: none; None: no answer)

    @classmethod
    def current(cls) -> PageContext:
        settings = DashboardSettings.from_env()
        try:
            topo = topology(settings.inventory, settings.site_count)
        except EmopsError as exc:
            st.error(f"The inventory {settings.inventory} does not load:")
            st.code("\n".join(str(p) for p in exc.problems), language=None)
            st.stop()
        seconds = PRESETS.get(st.session_state.get(RANGE_KEY, DEFAULT_PRESET), 3600)
        return cls(
            settings, topo, client(settings.prometheus), TimeRange.last(seconds, topo.network)
        )

    # --- questions, recorded for the banner ------------------------------------

    def _keep(self, answer: Answer) -> Answer:
        self.answers.append(answer)
        return answer

    def instant(self, expr: str) -> list[Sample]:
        return self._keep(self.prometheus.instant(expr)).data

    def value(self, expr: str) -> float | None:
        return self._keep(self.prometheus.value(expr)).data

    def series(self, expr: str) -> list[Series]:
        r = self.range
        return self._keep(self.prometheus.range(expr, r.start, r.end, r.step)).data

    def sparkline(self, expr: str) -> list[float]:
        """The first series' values over the range (what st.metric draws under a KPI)."""
        found = self.series(expr)
        return [v for _, v in found[0].points] if found else []

    def alerts(self) -> list[dict]:
        return self._keep(self.prometheus.alerts()).data

    # --- the banner -------------------------------------------------------------

    def monitoring_present(self) -> bool | None:
        """True: emops series exist; False: Prometheus answers without them; None: no answer."""
        answer = self._keep(self.prometheus.instant(queries.MONITORING_PRESENT))
        self.present = None if answer.outage and not answer.has_data else bool(answer.data)
        return self.present

    @property
    def blind(self) -> bool:
        """Prometheus never answered: counts of nothing must show as unknown, not 0."""
        return self.present is None

    def banner(self, where: st.delta_generator.DeltaGenerator) -> None:
        outages = [a for a in self.answers if a.outage]
        refused = [a.error for a in self.answers if a.stale and not a.outage]
        if outages:
            known = [a.fetched_at for a in outages if a.has_data]
            reason = outages[0].error
            if known:
                when = min(known)
                where.warning(
                    f"Prometheus is not answering ({reason}). Showing the last data read, "
                    f"from {formatting.clock(when)}. It will be retried automatically."
                )
            else:
                where.error(f"No monitoring data: {reason}.\n\n{START_HINT}")
        elif self.present is False:
            where.info(
                "Prometheus answers but holds no emops metrics yet: are the collectors "
                f"running? {START_HINT}"
            )
        for error in dict.fromkeys(refused):
            where.error(f"A dashboard query was refused by Prometheus: {error}")


def run_page(
    title: str, render: Callable[[PageContext], None], uses_prometheus: bool = True
) -> None:
    """Title, body and banner of one page; the body re-runs on its own when auto-refresh is on.

    The banner slot comes first on the page but is filled last, once every answer is in.
    """
    st.title(title)

    def body() -> None:
        slot = st.container()  # inside the body: a fragment may only write to its own elements
        ctx = PageContext.current()
        if uses_prometheus:
            ctx.monitoring_present()
        render(ctx)
        ctx.banner(slot)

    every = REFRESH_CHOICES.get(st.session_state.get(REFRESH_KEY, "Off"), 0)
    if every:
        st.fragment(run_every=every)(body)()
    else:
        body()
