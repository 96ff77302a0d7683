"""The Device page and the health columns, in AppTest against a real Prometheus.

The fixture exporter (promfixture.py) gives a vendor-profiled core switch one
fault in every group, a router whose profile promises fans and optics it does
not return, and a web server whose agent is silent; each must show as such,
and every number equals PromQL's answer through the page's formatting.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pagetest import metrics, open_page, texts
from promfixture import (
    CPU,
    ERRORS_PER_S,
    FULL_DEVICE,
    GAP_DEVICE,
    HOST_MEMORY,
    OSPF_NEIGHBOURS,
    RX_DBM,
    SILENT_DEVICE,
    TEMPERATURE,
    UPTIME_S,
    VENDOR_PROFILE,
)

from dashboard import formatting, queries
from dashboard.prometheus import PrometheusClient
from dashboard.timerange import DEFAULT_PRESET, PRESETS, TimeRange

pytestmark = pytest.mark.usefixtures("dashboard_env")


@pytest.fixture
def promql(prometheus) -> PrometheusClient:
    return PrometheusClient(prometheus.url, ttl_s=0, backoff_s=0)


@pytest.fixture
def time_range(lab_topo) -> TimeRange:
    return TimeRange.last(PRESETS[DEFAULT_PRESET], lab_topo.network)


def table(at, column: str) -> pd.DataFrame:
    """The page's table that has `column`."""
    found = [df.value for df in at.dataframe if column in df.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def captions(at) -> str:
    return " ".join(texts(at.caption))


def charts(at) -> list:
    return at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")


def test_every_device_query_is_accepted(promql, time_range):
    r = time_range
    expressions = [
        queries.device_cpu(),
        queries.device_memory(),
        queries.device_temperature_max(),
        queries.device_uptime(),
        queries.device_gauges(FULL_DEVICE),
        queries.interface_rates(FULL_DEVICE, r.now_window),
        queries.device_cpu_history(FULL_DEVICE),
        queries.device_temperature_history(FULL_DEVICE),
        queries.interface_bits_per_second(FULL_DEVICE, "receive", r.point_window),
        queries.interface_errors_per_second(FULL_DEVICE, r.point_window),
    ]
    for expr in expressions:
        answer = promql.instant(expr)
        assert not answer.stale, (expr, answer.error)
        assert answer.data, expr


def test_device_page_shows_health_sensors_optics_interfaces_and_protocols(promql, time_range):
    at = open_page("Device", {"device": FULL_DEVICE})
    assert not at.exception, at.exception
    assert not at.error and not at.warning, (texts(at.error), texts(at.warning))
    assert at.selectbox(key="drill_device").value == FULL_DEVICE
    shown = metrics(at)
    assert shown["SNMP"] == "up"
    assert shown["CPU"] == formatting.ratio(promql.value(queries.device_cpu(FULL_DEVICE)).data, 1)
    assert shown["CPU"] == formatting.ratio(max(CPU.values()), 1) == "35.0 %"
    assert shown["Memory"] == "42.0 %"
    assert shown["Temperature max"] == formatting.celsius(71.0)
    assert shown["Uptime"] == formatting.uptime(UPTIME_S) == "3 d 2 h"
    assert f"Profile in use: **{VENDOR_PROFILE[0]}** (sysObjectID {VENDOR_PROFILE[1]})" in texts(
        at.caption
    )
    cpu = table(at, "CPU").set_index("CPU")
    assert cpu.loc["LPU Board 1", "utilisation"] == "12.0 %"
    assert cpu.loc["all processors (mean)", "utilisation"] == "25.0 %"
    # sensors against the device's own thresholds
    temperature = table(at, "temperature").set_index("sensor")
    now, high = TEMPERATURE["LPU Board 1"]
    assert temperature.loc["LPU Board 1", "temperature"] == formatting.celsius(now)
    assert temperature.loc["LPU Board 1", "high threshold"] == formatting.celsius(high)
    assert temperature.loc["LPU Board 1", "status"] == "ABOVE high threshold"
    assert temperature.loc["MPU Board 0", "status"] == "ok"
    assert table(at, "voltage").loc[0, "voltage"] == "12.05 V"
    assert table(at, "fan").set_index("fan")["state"].to_dict() == {
        "FAN 1": "ok",
        "FAN 2": "FAILED",
    }
    assert set(table(at, "power supply")["state"]) == {"ok"}
    # optics: the first port is below its low alarm
    optics = table(at, "port")
    weak = optics[optics["rx"] == formatting.dbm(RX_DBM[1])]
    assert list(weak["status"]) == ["rx BELOW low threshold"]
    assert set(optics["status"]) == {"ok", "rx BELOW low threshold"}
    # interfaces: rates equal PromQL's, errors on the first port
    interfaces = table(at, "interface").set_index("interface")
    rates = promql.instant(queries.interface_rates(FULL_DEVICE, time_range.now_window)).data
    sent = {s.labels["ifname"]: s.value for s in rates if s.labels["counter"] == "transmit_bytes"}
    assert sent and set(sent) == set(interfaces.index)
    for ifname, value in sent.items():
        assert interfaces.loc[ifname, "out"] == formatting.bits_per_second(8 * value), ifname
    erring = interfaces[interfaces["in errors"] != formatting.per_second(0)]
    assert list(erring["in errors"]) == [formatting.per_second(ERRORS_PER_S)] == ["0.5 /s"]
    assert set(interfaces["admin"]) == {"up"}
    # FHRP per group, OSPF neighbours with the one not full flagged
    fhrp = table(at, "protocol").set_index("group")
    assert fhrp.loc["10", "state"] == "master" and fhrp.loc["20", "state"] == "backup"
    ospf = table(at, "neighbour").set_index("neighbour")
    assert len(ospf) == len(OSPF_NEIGHBOURS)
    assert ospf.loc["10.255.0.2", "state"] == "full (8)" and ospf.loc["10.255.0.2", "full"] == "yes"
    assert (
        ospf.loc["10.255.0.3", "state"] == "attempt (2)" and ospf.loc["10.255.0.3", "full"] == "NO"
    )
    # history over the range: one chart each, none replaced by "no data"
    assert len(charts(at)) == 6
    assert "No data from this device" not in captions(at)


def test_a_silent_device_says_no_data_for_each_section():
    at = open_page("Device", {"device": SILENT_DEVICE})
    assert not at.exception and not at.error, at.exception
    shown = metrics(at)
    assert shown["SNMP"] == "DOWN"
    assert {shown[k] for k in ("CPU", "Memory", "Temperature max", "Uptime")} == {"—"}
    said = captions(at)
    for what in ("CPU", "memory", "temperature", "voltage", "fans", "power supplies", "optics",
                 "interfaces", "FHRP (VRRP / HSRP)", "OSPF neighbours",
                 "CPU utilisation in the selected range",
                 "traffic sent in the selected range"):  # fmt: skip
        assert f"No data from this device for {what}." in said, what
    assert not charts(at), "an empty chart instead of 'no data'"
    assert texts(at.warning) == [
        f"{SILENT_DEVICE}'s SNMP agent is not answering its poll (emops_snmp_up is 0): what "
        "follows is whatever Prometheus still holds from it."
    ]


def test_groups_the_profile_promises_but_lacks_are_a_warning():
    device, gaps = GAP_DEVICE
    at = open_page("Device", {"device": device})
    assert not at.exception
    warnings = " ".join(texts(at.warning))
    assert f"The {VENDOR_PROFILE[0]} profile promises fans, optics" in warnings
    assert "power" not in warnings  # missing 0: the device did return it
    said = captions(at)
    for group in gaps:
        assert f"No data from this device for {group}, which its profile promises" in said
    assert table(at, "power supply") is not None
    assert "No errors and discards in the selected range: every interface at 0 /s." in said


def test_an_unknown_device_in_the_address_is_refused():
    at = open_page("Device", {"device": "hq-core9"})
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "Unknown device 'hq-core9' in the address (?device=hq-core9)" in errors
    assert "not in the inventory" in errors
    assert at.selectbox(key="drill_device").value is None
    assert not at.metric and "Health" not in texts(at.subheader), "showed another device"
    at.selectbox(key="drill_device").set_value("anping-wan").run()
    assert at.query_params["device"] == "anping-wan"
    assert not at.error and metrics(at)["SNMP"] == "up"


def test_server_groups_and_topology_show_health_columns(promql):
    at = open_page("Server groups")
    assert not at.exception and not at.error and not at.warning
    servers = table(at, "probe success").set_index("device")
    memory = promql.instant(queries.device_memory()).data
    db1_memory = next(s.value for s in memory if s.labels["device"] == "hq-db1")
    used, size, buffers, cached = HOST_MEMORY
    assert db1_memory == pytest.approx((used - buffers - cached) / size)
    assert servers.loc["hq-db1", "memory"] == formatting.ratio(db1_memory, 1) == "50.0 %"
    assert servers.loc["hq-db1", "CPU"] == "50.0 %"
    assert servers.loc["hq-db1", "uptime"] == "3 d 2 h"
    assert servers.loc["hq-db1", "temperature max"] == "—"  # a server without the sensor group
    assert servers.loc[SILENT_DEVICE, "CPU"] == servers.loc[SILENT_DEVICE, "uptime"] == "—"
    assert servers.loc["hq-db1", "details"] == "device?device=hq-db1"  # opens its Device page

    at = open_page("Topology", {"site": "hq"})
    assert not at.exception and not at.error
    devices = at.dataframe[0].value.set_index("device")
    assert devices.loc[FULL_DEVICE, "CPU"] == "35.0 %"
    assert devices.loc[FULL_DEVICE, "temperature max"] == "71.0 °C"
    assert devices.loc[FULL_DEVICE, "memory"] == "42.0 %"
    assert devices.loc["hq-web1", "uptime"] == formatting.uptime(UPTIME_S)
    assert devices.loc[FULL_DEVICE, "details"] == f"device?device={FULL_DEVICE}"
    every = table(at, "temperature max")
    assert len(open_page("Topology").dataframe) >= 2
    assert FULL_DEVICE in set(every["device"])
