"""Each shipped device profile against a recording of its platform, over real UDP.

One realistic device per family is served from tests/collectors/recordings/ and polled
by the real Poller next to the others; what the exporter gives is compared, series by
series, with what the recording says read through the MIB's own meaning (the `expect_*`
functions below, written from the MIB text, not from the profile files). Nothing is
hard-coded: change a value in a recording and only the recording changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from profile_kit import (
    Expected,
    Series,
    column,
    device_labels,
    exported,
    load,
    missing,
    numbers,
    poll,
    recorded,
)

ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
ENT_CLASS = "1.3.6.1.2.1.47.1.1.1.1.5"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
HW_OPTICS = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"
HW_FAN = "1.3.6.1.4.1.2011.5.25.31.1.1.10.1"
HW_POWER = "1.3.6.1.4.1.2011.5.25.31.1.1.18.1"
CPM = "1.3.6.1.4.1.9.9.109.1.1.1.1"
POOL = "1.3.6.1.4.1.9.9.48.1.1.1"
CEMP = "1.3.6.1.4.1.9.9.221.1.1.1.1"
ENVMON = "1.3.6.1.4.1.9.9.13.1"
CISCO_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"
HSRP_STATE = "1.3.6.1.4.1.9.9.106.1.2.1.1.15"
H3C_STATE = "1.3.6.1.4.1.25506.2.6.1.1.1.1"
H3C_XCVR = "1.3.6.1.4.1.25506.2.70.1.1.1"
HR_STORAGE = "1.3.6.1.2.1.25.2.3.1"
VRRP_STATE = "1.3.6.1.2.1.68.1.3.1.3"
VRRP3_STATUS = "1.3.6.1.2.1.207.1.1.1.1.6"
OSPF_NBR = "1.3.6.1.2.1.14.10.1"


def one(index: tuple[int, ...]) -> int:
    return index[0]


def names_by_index(rec: dict[str, str], prefix: str) -> dict[int, str]:
    return {one(i): text.strip() for i, text in column(rec, prefix).items()}


def fhrp(e: Expected, rec: dict[str, str], prefix: str, protocol: str, up: int) -> None:
    """VRRP (master(3)) and HSRP (active(6)): 1 for the device that forwards, else 0.
    A VRRPv3 group (ifIndex.vrid.addrtype) is read from its IPv4 row when it has one."""
    if_names = names_by_index(rec, IF_NAME)
    rows = numbers(rec, prefix)
    for index, state in sorted(rows.items(), key=lambda item: item[0][2:]):  # IPv4 rows first
        interface = if_names.get(index[0]) or f"ifIndex {index[0]}"
        labels = {"group": str(index[1]), "protocol": protocol, "interface": interface}
        e.add("emops_fhrp_master", float(state == up), **labels)


def ospf(e: Expected, rec: dict[str, str]) -> None:
    router_ids = column(rec, f"{OSPF_NBR}.3")
    for index, state in numbers(rec, f"{OSPF_NBR}.6").items():
        address = ".".join(map(str, index[:4]))
        e.add("emops_ospf_neighbor_state", state, neighbor=router_ids[index], address=address)


def expect_huawei(rec: dict[str, str]) -> Expected:
    """HUAWEI-ENTITY-EXTENT-MIB: CPU and memory of entities with memory, temperature and
    its threshold of entities with a sensor, voltage in mV, optics in 0.01 dBm where the
    module gives its thresholds (the V3.x definition), fans and supplies that are present."""
    e = Expected()
    names = names_by_index(rec, ENT_NAME)
    state = {c: numbers(rec, f"{HW_STATE}.{c}") for c in (5, 7, 9, 11, 12, 13)}
    for index, size in state[9].items():
        entity = names.get(one(index)) or str(one(index))
        if size:
            e.add("emops_cpu_utilization_ratio", state[5][index] / 100, entity=entity)
            e.add("emops_memory_utilization_ratio", state[7][index] / 100, entity=entity)
            e.add("emops_memory_size_bytes", size, entity=entity)
        if state[11].get(index) not in (0, None, 0x7FFFFFF, 2**31 - 1):  # 0x7FFFFFF: invalid
            e.add("emops_sensor_temperature_celsius", state[11][index], entity=entity)
            e.add("emops_sensor_temperature_high_celsius", state[12][index], entity=entity)
        if state[13].get(index):
            e.add("emops_sensor_voltage_volts", state[13][index] / 1000, entity=entity)
    optics = {c: numbers(rec, f"{HW_OPTICS}.{c}") for c in (8, 9, 13, 14)}
    for index, rx in optics[8].items():
        entity, tx, low = names[one(index)], optics[9][index], optics[13].get(index)
        if low is None:  # the 2011-era definition: microwatts, no thresholds
            for name, uw in (("emops_optics_rx_power_dbm", rx), ("emops_optics_tx_power_dbm", tx)):
                if uw > 0:
                    e.add(name, 10 * math.log10(uw / 1000), entity=entity)
            continue
        for name, value in (
            ("emops_optics_rx_power_dbm", rx),
            ("emops_optics_tx_power_dbm", tx),
            ("emops_optics_rx_power_low_dbm", low),
            ("emops_optics_rx_power_high_dbm", optics[14][index]),
        ):
            if value != -1:  # -1: no reading
                e.add(name, value / 100, entity=entity)
    for prefix, name, what, ok in (
        (HW_FAN, "emops_fan_ok", "fan", {1: 1, 2: 0}),  # present .6, state .7, descr .8
        (HW_POWER, "emops_power_supply_ok", "power", {1: 1, 2: 0, 3: 1}),  # .5, .6, .9
    ):
        present_col, state_col, descr_col = (6, 7, 8) if what == "fan" else (5, 6, 9)
        descr = column(rec, f"{prefix}.{descr_col}")
        states = numbers(rec, f"{prefix}.{state_col}")
        for index, present in numbers(rec, f"{prefix}.{present_col}").items():
            if present == 1 and states[index] in ok:
                entity = descr.get(index) or f"{what} {'.'.join(map(str, index))}"
                e.add(name, ok[states[index]], entity=entity)
    fhrp(e, rec, VRRP_STATE, "vrrp", 3)
    ospf(e, rec)
    return e


def expect_cisco(rec: dict[str, str]) -> Expected:
    """CISCO-PROCESS-MIB CPU by its physical entity; memory pools from
    CISCO-MEMORY-POOL-MIB first, then valid CISCO-ENHANCED-MEMPOOL-MIB pools (64-bit
    columns first); CISCO-ENVMON-MIB testpoints that are present and working, fans and
    supplies not 'notPresent'; CISCO-ENTITY-SENSOR-MIB celsius and volts with scale and
    precision; HSRP active, VRRPv3 master, OSPF neighbours."""
    e = Expected()
    names = names_by_index(rec, ENT_NAME)
    physical = numbers(rec, f"{CPM}.2")
    for index, busy in numbers(rec, f"{CPM}.8").items():
        entity = names.get(physical[index]) or str(one(index))
        e.add("emops_cpu_utilization_ratio", busy / 100, entity=entity)
    pool_names = column(rec, f"{POOL}.2")
    for c, name in ((5, "emops_memory_pool_used_bytes"), (6, "emops_memory_pool_free_bytes")):
        for index, value in numbers(rec, f"{POOL}.{c}").items():
            e.add(name, value, pool=pool_names[index])
    classic = set(pool_names.values())  # read first: a pool is never counted twice
    cemp_names, valid = column(rec, f"{CEMP}.3"), numbers(rec, f"{CEMP}.6")
    for hc, low, name in (
        (18, 7, "emops_memory_pool_used_bytes"),
        (20, 8, "emops_memory_pool_free_bytes"),
    ):
        high, low_values = numbers(rec, f"{CEMP}.{hc}"), numbers(rec, f"{CEMP}.{low}")
        for index in sorted(cemp_names):
            value = high.get(index, low_values.get(index))
            if valid[index] == 1 and value is not None and cemp_names[index] not in classic:
                e.add(name, value, index=index, pool=cemp_names[index])
    temp = {c: numbers(rec, f"{ENVMON}.3.1.{c}") for c in (3, 4, 6, 7)}
    descr = column(rec, f"{ENVMON}.3.1.2")
    for index, state in temp[6].items():
        if state in (1, 2, 3, 4):
            entity = descr[index].strip()
            value = temp[7].get(index, temp[3].get(index))  # ValueRev1, else the deprecated one
            e.add("emops_sensor_temperature_celsius", value, entity=entity)
            e.add("emops_sensor_temperature_high_celsius", temp[4][index], entity=entity)
    ok = {1: 1, 2: 0, 3: 0, 4: 0, 6: 0}
    for table, name in ((4, "emops_fan_ok"), (5, "emops_power_supply_ok")):
        descr = column(rec, f"{ENVMON}.{table}.1.2")
        for index, state in numbers(rec, f"{ENVMON}.{table}.1.3").items():
            if state in ok:
                e.add(name, ok[state], entity=descr[index].strip())
    sensor = {c: numbers(rec, f"{CISCO_SENSOR}.{c}") for c in (1, 2, 3, 4, 5)}
    directions = {" Receive Power Sensor": "rx", " Transmit Power Sensor": "tx"}
    for index, kind in sensor[1].items():
        if sensor[5][index] != 1 or abs(sensor[4][index]) == 10**9:  # not ok, or under/overflow
            continue
        value = sensor[4][index] * 10 ** (3 * (sensor[2][index] - 9) - sensor[3][index])
        name = names[one(index)]
        if kind == 8:
            e.add("emops_sensor_temperature_celsius", value, entity=name)
        elif kind in (3, 4):
            e.add("emops_sensor_voltage_volts", value, entity=name)
        elif kind == 14:  # dBm: a transceiver's receive or transmit power, by its name
            for suffix, way in directions.items():
                if name.endswith(suffix):
                    e.add(f"emops_optics_{way}_power_dbm", value, entity=name[: -len(suffix)])
    fhrp(e, rec, HSRP_STATE, "hsrp", 6)
    fhrp(e, rec, VRRP3_STATUS, "vrrp3", 3)
    ospf(e, rec)
    return e


def expect_h3c(rec: dict[str, str]) -> Expected:
    """HH3C-ENTITY-EXT-MIB like Huawei's (MemSize Unsigned32); fans (entPhysicalClass
    fan(7)) and supplies (powerSupply(6)) from hh3cEntityExtErrorStatus, normal(2) -> 1,
    a fault of the unit -> 0, absent or unsupported left out; transceivers with
    diagnostics in 0.01 dBm, named by ifName."""
    e = Expected()
    names = names_by_index(rec, ENT_NAME)
    classes = numbers(rec, ENT_CLASS)
    state = {c: numbers(rec, f"{H3C_STATE}.{c}") for c in (6, 8, 10, 12, 13, 19)}
    for index, size in state[10].items():
        entity = names[one(index)]
        if size:
            e.add("emops_cpu_utilization_ratio", state[6][index] / 100, entity=entity)
            e.add("emops_memory_utilization_ratio", state[8][index] / 100, entity=entity)
            e.add("emops_memory_size_bytes", size, entity=entity)
        if state[12][index] not in (0, 65535):  # 65535: no sensor
            e.add("emops_sensor_temperature_celsius", state[12][index], entity=entity)
            e.add("emops_sensor_temperature_high_celsius", state[13][index], entity=entity)
    fan_faults, psu_faults = {3, 41, 71, 81, 91}, {3, 51, 61, 71, 81, 91}
    for index, error in state[19].items():
        kind, entity = classes[index], names[one(index)]
        if kind == 7 and (error == 2 or error in fan_faults):
            e.add("emops_fan_ok", float(error == 2), entity=entity)
        if kind == 6 and (error == 2 or error in psu_faults):
            e.add("emops_power_supply_ok", float(error == 2), entity=entity)
    if_names = names_by_index(rec, IF_NAME)
    diagnostic = numbers(rec, f"{H3C_XCVR}.8")
    for c, name in ((12, "emops_optics_rx_power_dbm"), (9, "emops_optics_tx_power_dbm")):
        for index, value in numbers(rec, f"{H3C_XCVR}.{c}").items():
            if diagnostic[index] == 1 and value != 2**31 - 1:  # 2147483647: no reading
                e.add(name, value / 100, entity=if_names[one(index)])
    fhrp(e, rec, VRRP_STATE, "vrrp", 3)
    ospf(e, rec)
    return e


def expect_linux(rec: dict[str, str]) -> Expected:
    """net-snmp's "Memory buffers" and "Cached memory" hrStorage rows, in bytes; the
    keepalived VRRPv3 instance."""
    e = Expected()
    descr, units, used = (column(rec, f"{HR_STORAGE}.{c}") for c in (3, 4, 6))
    for index, text in descr.items():
        name = {"Memory buffers": "emops_memory_buffers_bytes"}.get(text)
        name = name or {"Cached memory": "emops_memory_cached_bytes"}.get(text)
        if name:
            e.add(name, int(used[index]) * int(units[index]))
    fhrp(e, rec, VRRP3_STATUS, "vrrp3", 3)
    return e


RECORDINGS: dict[str, tuple[str, Callable[[dict[str, str]], Expected], tuple[str, ...]]] = {
    "huawei_s12700e": ("huawei_vrp", expect_huawei, ("cpu", "memory", "temperature")),
    "huawei_ar6140": ("huawei_vrp", expect_huawei, ("cpu", "memory", "temperature")),
    "cisco_c9407r": ("cisco_ios", expect_cisco, ("cpu", "memory")),
    "cisco_c2960x": ("cisco_ios", expect_cisco, ("cpu", "memory")),
    "h3c_s6520x": ("h3c_comware", expect_h3c, ("cpu", "memory")),
    "linux_netsnmp": ("linux_netsnmp", expect_linux, ("memory",)),
}


@pytest.fixture(scope="module")
def polled() -> tuple:
    """Every recording polled together, each device on its own port."""
    return poll({device: load(f"{device}.snmprec") for device in RECORDINGS})


def close(got: dict[Series, float], want: dict[Series, float]) -> None:
    assert set(got) == set(want), (sorted(set(got) - set(want)), sorted(set(want) - set(got)))
    for key, value in want.items():
        assert math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-12), (key, got[key], value)


@pytest.mark.parametrize("device", sorted(RECORDINGS))
def test_every_series_matches_the_recording(polled: tuple, device: str) -> None:
    results, registry = polled
    profile, expect, promised = RECORDINGS[device]
    result = results[device]
    assert result.up and result.profile == profile
    assert result.errors_total == {}, "every table of the recording fits its MIB"
    close(exported(registry, device), expect(recorded(f"{device}.snmprec")).series)
    groups = missing(registry, device)
    assert [g for g in promised if groups[g] != 0] == [], groups
    assert set(groups.values()) <= {0.0}, groups  # no group flagged on a healthy recording


def test_device_labels_are_kept(polled: tuple) -> None:
    _, registry = polled
    labels = device_labels("huawei_s12700e") | {"entity": "MPU Board 9"}
    assert registry.get_sample_value("emops_sensor_temperature_high_celsius", labels) == 70


@pytest.mark.parametrize(
    ("device", "metric", "entity", "value"),
    [
        ("cisco_c9407r", "emops_fan_ok", "Fan Tray 1 Fan 3", 0),  # notFunctioning
        ("cisco_c9407r", "emops_fan_ok", "Fan Tray 2 Fan 1", None),  # notPresent
        ("cisco_c9407r", "emops_power_supply_ok", "Power Supply 2", 0),  # critical
        ("cisco_c9407r", "emops_power_supply_ok", "Power Supply 3", None),  # notPresent
        ("cisco_c2960x", "emops_fan_ok", "Switch#2, Fan#1", 0),  # critical
        ("cisco_c2960x", "emops_power_supply_ok", "Sw1, RPS", None),  # notPresent
        ("h3c_s6520x", "emops_fan_ok", "Fan 2", 0),  # fanError
        ("h3c_s6520x", "emops_fan_ok", "Fan 3", None),  # entityAbsent
        ("h3c_s6520x", "emops_power_supply_ok", "PSU 2", 0),  # psuError
        ("h3c_s6520x", "emops_power_supply_ok", "PSU 1", 1),
    ],
)
def test_failed_units_read_0_and_absent_ones_are_left_out(
    polled: tuple, device: str, metric: str, entity: str, value: int | None
) -> None:
    _, registry = polled
    labels = device_labels(device) | {"entity": entity}
    assert registry.get_sample_value(metric, labels) == value
