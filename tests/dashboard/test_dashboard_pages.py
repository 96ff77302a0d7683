"""Every page, run by Streamlit's AppTest against a real Prometheus with known series.

Each number a page shows is compared with what PromQL returns for the same
expression (dashboard.queries), passed through the same formatting; known
values of the fixture are checked too, so a query that is consistently wrong
on both sides is still caught.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pagetest import PAGES, deltas, metrics, open_page, texts
from promfixture import (
    CARRYING_BACKUP,
    DEGRADED_BUNDLE,
    DOWN_LINK,
    LAGGING_STANDBY,
    SILENT_DEVICE,
)

from capacity.plan import plan_links
from dashboard import campaigns, formatting, queries
from dashboard.prometheus import PrometheusClient
from dashboard.settings import ENV
from dashboard.timerange import DEFAULT_PRESET, PRESETS, TimeRange

pytestmark = pytest.mark.usefixtures("dashboard_env")


@pytest.fixture
def promql(prometheus) -> PrometheusClient:
    """A client of its own (no shared cache) that asks Prometheus directly."""
    return PrometheusClient(prometheus.url, ttl_s=0, backoff_s=0)


@pytest.fixture
def time_range(lab_topo) -> TimeRange:
    return TimeRange.last(PRESETS[DEFAULT_PRESET], lab_topo.network)


def by(samples, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in samples}


def assert_clean(at) -> None:
    """No exception and no error or warning banner."""
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert not at.warning, texts(at.warning)


def test_every_page_renders_cleanly(prometheus):
    for page in PAGES:
        at = open_page(page)
        assert_clean(at)
        assert at.title[0].value == page


def test_every_query_is_accepted_by_prometheus(promql, time_range, lab_topo):
    r = time_range
    link = lab_topo.links[0].name
    expressions = [
        queries.MONITORING_PRESENT,
        queries.ACTIVE_ALERTS,
        queries.FIRED_ALERTS,
        queries.availability(r.window, r.resolution),
        queries.downtime_rate(r.window),
        queries.request_delay(0.5, r.window, by="site"),
        queries.site_probe_success("anping", r.window),
        queries.probe_success_by_site(r.window),
        queries.devices_answering(),
        queries.devices_polled(),
        queries.link_bits_per_second(r.now_window, link),
        queries.link_capacity(link),
        queries.link_peak_utilisation(r.window, r.now_window, r.resolution),
        queries.link_members_up(link),
        queries.device_up(),
        queries.probe_success_by_target(r.window),
        queries.probe_delay_by_target(0.95, r.window),
        queries.device_cpu(),
        queries.haproxy_server_state(),
        queries.haproxy_backend_active(),
        queries.postgres_up(),
        queries.replication_lag(),
    ]
    for expr in expressions:
        answer = promql.instant(expr)
        assert not answer.stale, (expr, answer.error)
        assert answer.data, expr


def test_overview_shows_promql_values(promql, time_range, campaigns_dir):
    r = time_range
    at = open_page("Overview")
    shown, spreads = metrics(at), deltas(at)
    expected = {
        "Availability": formatting.ratio(
            promql.value(queries.availability(r.window, r.resolution)).data
        ),
        "Request delay p50": formatting.seconds(
            promql.value(queries.request_delay(0.5, r.window)).data
        ),
        "Request delay p95": formatting.seconds(
            promql.value(queries.request_delay(0.95, r.window)).data
        ),
        "Downtime rate": formatting.ratio(promql.value(queries.downtime_rate(r.window)).data),
        "Active alerts": str(sum(a["state"] == "firing" for a in promql.alerts().data)),
        "Devices answering SNMP": f"{promql.value(queries.devices_answering()).data:.0f} / 42",
    }
    for label, value in expected.items():
        assert shown[label] == value, label
    # the fixture's known values: every site but one answers, one agent is silent ...
    assert shown["Availability"] == "100.00 %"
    assert shown["Downtime rate"] == formatting.ratio(1 / 12)
    assert shown["Request delay p50"] == "66.7 ms"  # 0.05 + (0.5 - 0.4) / 0.3 * 0.05
    assert shown["Active alerts"] == "1"
    assert shown["Devices answering SNMP"] == "41 / 42"
    # ... one private link is down, one bundle degraded, one backup carries traffic
    assert (shown["Links down"], shown["Bundles degraded"]) == ("1", "1")
    assert shown["Backup bundles carrying traffic"] == "1"
    # precision and false alarms come from the latest campaign's files
    latest = campaigns.latest(campaigns_dir)
    labels = {f: label for f, label, _ in campaigns.KPI_FIELDS}
    labels["downtime_rate"] = "Downtime rate (campaign)"
    for name in ("data_precision", "alarm_precision", "false_alarm_rate", "downtime_rate"):
        label = labels[name]
        est = latest.estimate(name)
        assert shown[label] == formatting.ratio(est.mean), label
        assert spreads[label] == formatting.spread(est.half_width, "ratio"), label


def test_overview_sparklines_follow_range_queries(promql, time_range):
    at = open_page("Overview")
    availability = next(m for m in at.metric if m.label == "Availability")
    assert availability.proto.chart_data, "no sparkline under the availability KPI"
    assert set(availability.proto.chart_data) == {1.0}


def test_topology_draws_every_device_and_link(promql, time_range, lab_topo):
    at = open_page("Topology")
    assert_clean(at)
    svg = next(m.value for m in at.markdown if m.value.startswith("<svg"))
    assert "emops-topology" in svg
    for name in lab_topo.devices:
        assert f'data-device="{name}"' in svg
    for link in lab_topo.links:
        assert f'data-link="{link.name}"' in svg
    assert f'data-device="{SILENT_DEVICE}" data-up="false"' in svg
    assert 'class="link link-backup"' in svg and "#ef6c00" in svg  # backup carrying: orange


def test_topology_link_table_equals_promql(promql, time_range):
    at = open_page("Topology")
    table = at.dataframe[-1].value.set_index("link")
    util = by(promql.instant(queries.link_utilisation(time_range.now_window)).data, "link")
    for link, value in util.items():
        assert table.loc[link, "utilisation"] == formatting.ratio(value, 1), link
    assert util["anping-private"] == pytest.approx(0.05)
    assert table.loc[DOWN_LINK, "status"] == "down"
    assert table.loc[DEGRADED_BUNDLE[0], "status"] == "degraded"
    assert table.loc[DEGRADED_BUNDLE[0], "members up"] == "3/4"
    assert table.loc[CARRYING_BACKUP, "carrying"] == "yes"
    assert table.loc[CARRYING_BACKUP, "utilisation"] == "50.0 %"


def test_topology_drills_down_to_a_site_and_a_link(promql, time_range):
    at = open_page("Topology", {"site": "qinghe", "link": CARRYING_BACKUP})
    assert_clean(at)
    shown = metrics(at)
    expected = promql.value(queries.site_probe_success("qinghe", time_range.window)).data
    assert shown["VIP probe success from qinghe"] == formatting.ratio(expected) == "0.00 %"
    subheaders = texts(at.subheader)
    assert "Site qinghe" in subheaders and f"Link {CARRYING_BACKUP}" in subheaders
    devices = at.dataframe[0].value
    assert set(devices["device"]) == {"qinghe-wan", "qinghe-client"}
    # the selectbox follows the query parameter, and changing it updates the URL
    at.selectbox(key="drill_site").set_value("anping").run()
    assert at.query_params["site"] == "anping"
    assert "Site anping" in texts(at.subheader)


def test_wan_capacity_compares_measured_with_the_planner(promql, time_range, lab_topo):
    at = open_page("WAN capacity")
    assert_clean(at)
    table = at.dataframe[0].value.set_index("link")
    r = time_range
    now = by(promql.instant(queries.link_utilisation(r.now_window)).data, "link")
    peak = by(
        promql.instant(queries.link_peak_utilisation(r.window, r.now_window, r.resolution)).data,
        "link",
    )
    plans = plan_links(lab_topo)
    assert len(table) == len(plans) == 24
    for plan in plans:
        row = table.loc[plan.link]
        assert row["utilisation now"] == formatting.ratio(now.get(plan.link), 1)
        assert row["peak in range"] == formatting.ratio(peak.get(plan.link), 1)
        assert row["planner demand"] == formatting.bits_per_second(plan.demand_bps)
        assert row["planner recommends"] == plan.recommended
    assert table.loc["baishan-private", "peak in range"] == "10.0 %"
    # the first link is charted against capacity and the planner's estimate
    first = plans[0]
    shown = metrics(at)
    assert shown["Capacity"] == formatting.bits_per_second(first.capacity_bps)
    assert shown["Recommended circuit"] == first.recommended
    assert at.get("vega_lite_chart"), "no capacity chart"


def test_server_groups_show_health_haproxy_and_replication(promql, time_range):
    at = open_page("Server groups")
    assert_clean(at)
    shown = metrics(at)
    assert shown["Web servers up"] == "3 / 4"
    assert shown["Database servers up"] == "2 / 2"
    servers = at.dataframe[0].value
    assert set(servers["group"]) == {"Web", "App", "Database", "Statistics", "Interface", "CTI"}
    web = servers[servers["group"] == "Web"].set_index("device")
    success = by(promql.instant(queries.probe_success_by_target(time_range.window)).data, "target")
    p95 = by(promql.instant(queries.probe_delay_by_target(0.95, time_range.window)).data, "target")
    for device in web.index:
        assert web.loc[device, "probe success"] == formatting.ratio(success[device])
        assert web.loc[device, "probe p95"] == formatting.seconds(p95[device])
    assert web.loc[SILENT_DEVICE, "SNMP"] == "DOWN"
    haproxy = next(df.value for df in at.dataframe if "backend" in df.value.columns)
    states = promql.instant(queries.haproxy_server_state()).data
    assert len(haproxy) == len(states) == 8
    down = haproxy[haproxy["state"] == "DOWN"]
    assert set(down["server"]) == {SILENT_DEVICE}
    db = next(df.value for df in at.dataframe if "replication lag" in df.value.columns)
    lag = db.set_index("device").loc[LAGGING_STANDBY[0], "replication lag"]
    assert lag == formatting.seconds(LAGGING_STANDBY[1]) == "2.50 s"


def test_alerts_show_firing_pending_and_evidence(promql):
    at = open_page("Alerts")
    assert_clean(at)
    alerts = promql.alerts().data
    shown = metrics(at)
    assert shown["Firing"] == str(sum(a["state"] == "firing" for a in alerts)) == "1"
    assert shown["Pending"] == str(sum(a["state"] == "pending" for a in alerts)) == "1"
    table = at.dataframe[0].value
    assert list(table["alert"]) == ["WanLinkDown", "BackupCarryingTraffic"]
    assert table.loc[0, "summary"] == f"{DOWN_LINK} is down"
    evidence = " ".join(texts(at.markdown))
    assert "SNMP poll: down at both ends" in evidence
    recent = at.dataframe[1].value
    assert "WanLinkDown" in set(recent["alert"])


def test_campaigns_page_shows_the_newest_campaign(campaigns_dir):
    at = open_page("Campaigns")
    assert_clean(at)
    latest = campaigns.latest(campaigns_dir)
    assert at.selectbox(key="campaign").value == len(campaigns.read_campaigns(campaigns_dir)) - 1
    shown, spreads = metrics(at), deltas(at)
    for name, label, kind in campaigns.KPI_FIELDS:
        est = latest.estimate(name)
        assert shown[label] == formatting.kind_format(kind, est.mean), label
        assert spreads[label] == formatting.spread(est.half_width, kind), label
    runs = at.dataframe[0].value
    assert len(runs) == 8
    assert any("figure-delay.png" in img.captions for img in at.get("image")), "no figure"


def test_time_range_picker_and_auto_refresh(promql, lab_topo):
    at = open_page("Overview")
    at.sidebar.selectbox(key="time_range").set_value("Last 15 minutes")
    at.sidebar.selectbox(key="auto_refresh").set_value("10 s").run()
    assert_clean(at)
    r = TimeRange.last(PRESETS["Last 15 minutes"], lab_topo.network)
    p95 = promql.value(queries.request_delay(0.95, r.window)).data
    assert metrics(at)["Request delay p95"] == formatting.seconds(p95)
    assert "trend per 30s" in " ".join(texts(at.caption))


def test_alertmanager_alerts_are_listed_when_configured(monkeypatch):
    alerts = [
        {
            "labels": {"alertname": "MarketingServiceDown", "service": "marketing"},
            "status": {"state": "suppressed", "silencedBy": ["s-1"]},
            "receivers": [{"name": "campaign-sink"}],
            "startsAt": "2026-02-01T10:00:00Z",
        }
    ]
    body = json.dumps(alerts).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/v2/alerts" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv(ENV["alertmanager"], f"http://127.0.0.1:{server.server_port}")
        at = open_page("Alerts")
        assert_clean(at)
        table = next(df.value for df in at.dataframe if "receivers" in df.value.columns)
        assert list(table["alert"]) == ["MarketingServiceDown"]
        assert table.loc[0, "silenced by"] == "s-1"
    finally:
        server.shutdown()
        server.server_close()
