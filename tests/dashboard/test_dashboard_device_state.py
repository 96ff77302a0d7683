"""The Device page's reading of a device's samples, for the cases the fixture does not hold.

A sensor without the device's own threshold is "no threshold", never "ok";
Cisco memory pools become a share of used + free; groups sort as numbers.
"""

from __future__ import annotations

from dashboard.device_state import DeviceState
from dashboard.prometheus import Sample


def gauge(name: str, value: float, **labels: str) -> Sample:
    return Sample({"__name__": name, "device": "r1", **labels}, value)


def test_no_threshold_is_said_not_taken_as_ok():
    state = DeviceState.read(
        [
            gauge("emops_sensor_temperature_celsius", 80.0, entity="CPU"),
            gauge("emops_optics_rx_power_dbm", -30.0, entity="Gi0/0/1"),
            gauge("emops_optics_rx_power_dbm", 1.5, entity="Gi0/0/2"),
            gauge("emops_optics_rx_power_high_dbm", 1.0, entity="Gi0/0/2"),
        ],
        [],
    )
    assert state.temperature_rows()[0]["status"] == "no threshold"
    assert state.temperature_rows()[0]["high threshold"] == "—"
    optics = {r["port"]: r for r in state.optics_rows()}
    assert optics["Gi0/0/1"]["status"] == "no threshold"
    assert optics["Gi0/0/1"]["tx"] == "—"
    assert optics["Gi0/0/2"]["status"] == "rx ABOVE high threshold"


def test_memory_pools_groups_and_profile():
    state = DeviceState.read(
        [
            gauge("emops_memory_pool_used_bytes", 300e6, pool="Processor"),
            gauge("emops_memory_pool_free_bytes", 100e6, pool="Processor"),
            gauge("emops_fhrp_master", 1.0, protocol="hsrp", group="10", interface="Vlan10"),
            gauge("emops_fhrp_master", 0.0, protocol="hsrp", group="9", interface="Vlan9"),
            gauge("emops_snmp_profile_info", 1.0, profile="cisco_ios", sysobjectid="1.3.6.1.4.1.9"),
            gauge("emops_snmp_profile_missing", 0.0, profile="cisco_ios", group="fans"),
            gauge("emops_snmp_profile_missing", 1.0, profile="cisco_ios", group="optics"),
            gauge("emops_ospf_neighbor_state", 5.0, neighbor="1.1.1.1", address="10.0.0.1"),
        ],
        [],
    )
    assert state.memory_rows() == [
        {"memory": "pool Processor", "in use": "75.0 %", "size": "400MB"}
    ]
    assert [r["group"] for r in state.fhrp_rows()] == ["9", "10"]
    assert state.profile == ("cisco_ios", "1.3.6.1.4.1.9")
    assert state.missing == ["optics"]
    assert state.snmp_up is None  # no poll result: not "down"
    assert state.ospf_rows()[0]["state"] == "exchangeStart (5)"
    assert state.ospf_rows()[0]["full"] == "NO"
    assert state.interface_rows() == [] and state.fan_rows() == []
