"""Bad vendor data costs the device what it broke, said per device; never the poll, and
never another device's scrape.

Each case takes a platform recording, breaks one thing the way agents do (a value of
the wrong type, an absurd number, a missing column), serves it beside the untouched
recording of the same device and a device of another family, and compares: the broken
device loses exactly the series of the broken table and says why
(`emops_snmp_errors_total{reason="profile_malformed"}`, `emops_snmp_profile_missing`),
the others keep every series.
"""

from __future__ import annotations

from functools import cache

import pytest
from hostile_agent import Record
from profile_kit import device_labels, exported, load, missing, poll, replaced, without

from collectors.snmp import ber

HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
HW_OPTICS = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"
MPU9 = 17367041  # huawei_s12700e.snmprec: "MPU Board 9"
XGE1 = 16842762  # its XGigabitEthernet1/0/1
CPM_BUSY = "1.3.6.1.4.1.9.9.109.1.1.1.1.8"
CISCO_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"
ENT_CLASS = "1.3.6.1.2.1.47.1.1.1.1.5"
OTHER = "h3c_s6520x"  # a device of another family, polled beside every case


def wide_integer(value: int) -> bytes:
    """A BER INTEGER content wider than Integer32 allows (10^12 takes 5 octets)."""
    return value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)


@cache
def other_alone() -> tuple[dict, dict]:
    """OTHER polled on its own: (errors, series), what it must give beside a broken one."""
    results, registry = poll({OTHER: load(f"{OTHER}.snmprec")})
    return dict(results[OTHER].errors_total), exported(registry, OTHER)


def compare(device: str, broken: list[Record], down_ok: bool = False) -> tuple[dict, dict, dict]:
    """Poll the untouched device ("good"), its broken copy ("bad") and OTHER together;
    returns (run, good series, bad series) and checks OTHER lost nothing."""
    devices = {"good": load(f"{device}.snmprec"), "bad": broken, OTHER: load(f"{OTHER}.snmprec")}
    results, registry = poll(devices)
    errors, series = other_alone()
    assert results[OTHER].up and results[OTHER].errors_total == errors
    assert exported(registry, OTHER) == series
    assert down_ok or results["bad"].up, "a broken vendor table never takes the device down"
    good, bad = exported(registry, "good"), exported(registry, "bad")
    return {"results": results, "registry": registry}, good, bad


def lost(good: dict, bad: dict) -> set[str]:
    """Metric names the broken device no longer gives (and nothing changed elsewhere)."""
    assert set(bad) <= set(good)
    assert all(bad[k] == good[k] for k in bad)
    return {name for name, _ in set(good) - set(bad)}


def malformed(run: dict, device: str) -> float:
    return run["results"][device].errors_total.get("profile_malformed", 0)


@pytest.mark.parametrize(
    ("tag", "content"),
    [
        (ber.OCTET_STRING, b"14%"),  # a string where hwEntityCpuUsage belongs
        (ber.COUNTER64, (10**12).to_bytes(5, "big")),  # 10^12 % as a Counter64: no Integer32
    ],
)
def test_an_absurd_huawei_cpu_costs_its_table_only(tag: int, content: bytes) -> None:
    broken = replaced(load("huawei_s12700e.snmprec"), f"{HW_STATE}.5.{MPU9}", tag, content)
    run, good, bad = compare("huawei_s12700e", broken)
    assert lost(good, bad) == {
        "emops_cpu_utilization_ratio",
        "emops_memory_utilization_ratio",
        "emops_memory_size_bytes",
        "emops_sensor_temperature_celsius",
        "emops_sensor_temperature_high_celsius",
        "emops_sensor_voltage_volts",
    }
    assert any(name.startswith("emops_optics_") for name, _ in bad)  # its other table stays
    assert malformed(run, "bad") > malformed(run, "good")
    gone = missing(run["registry"], "bad")
    assert (gone["cpu"], gone["memory"], gone["temperature"]) == (1, 1, 1)
    assert set(missing(run["registry"], "good").values()) == {0}


def test_an_undecodable_cpu_value_is_a_reason_for_that_device_only() -> None:
    """10^12 sent as an INTEGER takes 6 octets: no Integer32, and the packet carrying it
    cannot be read at all. Whichever walk's answer holds it fails (the vendor table, or a
    built-in walk whose GETBULK ran past its own table into it): the device says
    `malformed` or `profile_malformed`, no CPU of 10^10 is exported, the others keep all."""
    broken = replaced(
        load("huawei_s12700e.snmprec"), f"{HW_STATE}.5.{MPU9}", ber.INTEGER, wide_integer(10**12)
    )
    run, _, bad = compare("huawei_s12700e", broken, down_ok=True)
    result = run["results"]["bad"]
    assert result.errors_total.get("malformed", 0) + malformed(run, "bad") > malformed(run, "good")
    assert all(value < 1e6 for value in bad.values())
    assert set(missing(run["registry"], "good").values()) == {0}


def test_an_optics_value_of_the_wrong_type_costs_only_the_optics() -> None:
    broken = replaced(
        load("huawei_s12700e.snmprec"), f"{HW_OPTICS}.8.{XGE1}", ber.OCTET_STRING, b"-3.12dBm"
    )
    run, good, bad = compare("huawei_s12700e", broken)
    assert lost(good, bad) == {
        "emops_optics_rx_power_dbm",
        "emops_optics_tx_power_dbm",
        "emops_optics_rx_power_low_dbm",
        "emops_optics_rx_power_high_dbm",
    }
    assert malformed(run, "bad") > malformed(run, "good")
    labels = device_labels("bad") | {"profile": "huawei_vrp", "group": "cpu"}
    assert run["registry"].get_sample_value("emops_snmp_profile_missing", labels) == 0


def test_a_missing_memory_size_column_leaves_cpu_and_memory_missing() -> None:
    """Without hwEntityMemSize nothing says which entities have a CPU: none is guessed."""
    broken = without(load("huawei_s12700e.snmprec"), f"{HW_STATE}.9")
    run, good, bad = compare("huawei_s12700e", broken)
    assert lost(good, bad) == {
        "emops_cpu_utilization_ratio",
        "emops_memory_utilization_ratio",
        "emops_memory_size_bytes",
    }
    assert malformed(run, "bad") == malformed(run, "good")  # absent is not malformed
    gone = missing(run["registry"], "bad")
    assert (gone["cpu"], gone["memory"], gone["temperature"]) == (1, 1, 0)


def test_a_cisco_cpu_beyond_gauge32_costs_the_cpu_table() -> None:
    broken = replaced(
        load("cisco_c9407r.snmprec"), f"{CPM_BUSY}.1", ber.COUNTER64, (10**12).to_bytes(5, "big")
    )
    run, good, bad = compare("cisco_c9407r", broken)
    assert lost(good, bad) == {"emops_cpu_utilization_ratio"}
    assert missing(run["registry"], "bad")["cpu"] == 1


def test_a_sensor_scale_outside_its_mib_range_costs_the_sensor_table() -> None:
    """entSensorScale is SensorDataScale (1..17): 2^31-1 is malformed, so the sensor
    table goes (CISCO-ENTITY-SENSOR temperatures, voltages, DOM optics) and CISCO-ENVMON
    readings stay."""
    broken = replaced(
        load("cisco_c9407r.snmprec"), f"{CISCO_SENSOR}.2.3010", ber.INTEGER, b"\x7f\xff\xff\xff"
    )
    run, good, bad = compare("cisco_c9407r", broken)
    assert lost(good, bad) == {
        "emops_sensor_temperature_celsius",  # the CISCO-ENTITY-SENSOR ones
        "emops_sensor_voltage_volts",
        "emops_optics_rx_power_dbm",
        "emops_optics_tx_power_dbm",
    }
    envmon = ("emops_sensor_temperature_celsius", frozenset({("entity", "Inlet Temp Sensor")}))
    coretemp = ("emops_sensor_temperature_celsius", frozenset({("entity", "Temp: Coretemp R0")}))
    assert envmon in bad and coretemp in good and coretemp not in bad
    assert malformed(run, "bad") > malformed(run, "good")


@pytest.mark.parametrize(
    ("device", "oid", "tag", "content", "group"),
    [  # values their base type allows and their MIB's range does not
        ("huawei_s12700e", f"{HW_STATE}.5.{MPU9}", ber.INTEGER, (5000).to_bytes(2, "big"), "cpu"),
        ("cisco_c9407r", f"{CPM_BUSY}.1", ber.GAUGE32, (4 * 10**9).to_bytes(5, "big"), "cpu"),
    ],
)
def test_a_percentage_beyond_100_is_malformed_not_exported(
    device: str, oid: str, tag: int, content: bytes, group: str
) -> None:
    run, good, bad = compare(device, replaced(load(f"{device}.snmprec"), oid, tag, content))
    assert "emops_cpu_utilization_ratio" in lost(good, bad)
    assert all(value <= 1 for (name, _), value in bad.items() if name.endswith("_ratio"))
    assert malformed(run, "bad") > malformed(run, "good")
    assert missing(run["registry"], "bad")[group] == 1


def test_h3c_without_entity_classes_gives_no_fans_or_supplies_rather_than_guesses() -> None:
    broken = without(load("h3c_s6520x.snmprec"), ENT_CLASS)
    run, good, bad = compare("h3c_s6520x", broken)
    assert lost(good, bad) == {"emops_fan_ok", "emops_power_supply_ok"}
    assert missing(run["registry"], "bad")["cpu"] == 0
