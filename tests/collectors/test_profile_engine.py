"""The profile language: what each key does to walked rows, and what a mistake says.

Walked tables are given as the poller hands them over (column -> row index -> value),
so each key's effect is checked on its own; the recordings tests
(test_snmp_profiles.py) check whole vendor profiles over UDP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.snmp.profiles import BUILTIN, load_profiles, read_profile, samples
from emops.errors import EmopsError

GENERIC = """\
description: fallback
promises: []
tables:
  sensor:
    columns:
      type: {oid: 1.3.6.1.2.1.99.1.1.1.1, syntax: Integer32}
      scale: {oid: 1.3.6.1.2.1.99.1.1.1.2, syntax: Integer32}
      precision: {oid: 1.3.6.1.2.1.99.1.1.1.3, syntax: Integer32}
      value: {oid: 1.3.6.1.2.1.99.1.1.1.4, syntax: Integer32}
  vrrp:
    columns:
      state: {oid: 1.3.6.1.2.1.68.1.3.1.3, syntax: Integer32}
  nbr:
    columns:
      rtr: {oid: 1.3.6.1.2.1.14.10.1.3, syntax: IpAddress}
      state: {oid: 1.3.6.1.2.1.14.10.1.6, syntax: Integer32}
metrics:
  - name: emops_sensor_temperature_celsius
    group: temperature
    table: sensor
    column: value
    where: {column: type, in: [8]}
    pow10:
      - {column: scale, times: 3, offset: -9}
      - {column: precision, times: -1}
    labels:
      entity: {index: 0}
  - name: emops_sensor_voltage_volts
    group: voltage
    table: sensor
    column: value
    where: {column: type, in: [3, 4]}
    pow10: [{column: scale, times: 3, offset: -9}]
    labels:
      entity: {index: 0}
  - name: emops_fhrp_master
    group: fhrp
    table: vrrp
    column: state
    map: {3: 1, 2: 0, 1: 0}
    labels:
      protocol: {value: vrrp}
      group: {index: "1:"}
      interface: {table: interfaces, column: name, index: 0, fallback: "ifIndex {}"}
  - name: emops_ospf_neighbor_state
    group: ospf
    table: nbr
    column: state
    labels:
      neighbor: {column: rtr}
      address: {index: "0:4"}
"""

VENDOR = """\
extends: generic
match:
  sysobjectid: [1.3.6.1.4.1.2011]
interfaces:
  exclude: ["^NULL", "^InLoopBack"]
tables:
  state:
    columns:
      temp: {oid: 1.3.6.1.4.1.2011.5.25.31.1.1.1.1.11, syntax: Integer32}
metrics:
  - name: emops_sensor_temperature_celsius
    group: temperature
    table: state
    column: temp
    labels:
      entity: {index: 0}
"""


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    (tmp_path / "generic.yml").write_text(GENERIC)
    (tmp_path / "vendor.yml").write_text(VENDOR)
    return tmp_path


def values(profile, walked) -> dict[tuple[str, tuple[str, ...]], float]:
    found, _ = samples(profile, walked)
    return {(s.spec.name, s.labels): s.value for s in found}


SENSORS = {
    "sensor": {
        "type": {(1,): 8, (2,): 8, (3,): 4, (4,): 12},
        "scale": {(1,): 9, (2,): 8, (3,): 8, (4,): 9},
        "precision": {(1,): 1, (2,): 0, (3,): 0, (4,): 0},
        "value": {(1,): 415, (2,): 38000, (3,): 12050, (4,): 7},
    }
}


def test_entity_sensor_scale_and_precision_give_si_units(profiles: Path) -> None:
    got = values(read_profile(profiles / "generic.yml"), SENSORS)
    assert got[("emops_sensor_temperature_celsius", ("1",))] == pytest.approx(41.5)  # 415 / 10
    assert got[("emops_sensor_temperature_celsius", ("2",))] == pytest.approx(38.0)  # milli
    assert got[("emops_sensor_voltage_volts", ("3",))] == pytest.approx(12.05)
    assert ("emops_sensor_voltage_volts", ("4",)) not in got  # type 12 is rpm: neither


def test_absurd_exponents_cost_the_row_not_the_poll(profiles: Path) -> None:
    walked = {"sensor": {**SENSORS["sensor"], "scale": {(1,): 2**31 - 1, (2,): 8, (3,): 8}}}
    got = values(read_profile(profiles / "generic.yml"), walked)
    assert ("emops_sensor_temperature_celsius", ("1",)) not in got
    assert got[("emops_sensor_temperature_celsius", ("2",))] == pytest.approx(38.0)


def test_states_are_mapped_and_index_parts_become_labels(profiles: Path) -> None:
    walked = {
        "vrrp": {"state": {(5, 10): 3, (6, 20): 2, (7, 30): 9}},  # 9: no such state
        BUILTIN: {"name": {(5,): b"Vlanif10"}},
    }
    got = values(read_profile(profiles / "generic.yml"), walked)
    assert got == {
        ("emops_fhrp_master", ("vrrp", "10", "Vlanif10")): 1.0,
        ("emops_fhrp_master", ("vrrp", "20", "ifIndex 6")): 0.0,  # no ifName for 6
    }


def test_ip_addresses_render_dotted_from_octets_and_from_the_index(profiles: Path) -> None:
    walked = {
        "nbr": {"rtr": {(10, 0, 1, 2, 0): b"\x0a\xfe\x01\x01"}, "state": {(10, 0, 1, 2, 0): 8}}
    }
    got = values(read_profile(profiles / "generic.yml"), walked)
    assert got == {("emops_ospf_neighbor_state", ("10.254.1.1", "10.0.1.2")): 8.0}


def test_the_vendor_reading_wins_and_inherited_metrics_promise_nothing(profiles: Path) -> None:
    vendor = read_profile(profiles / "vendor.yml")
    assert vendor.groups == ("temperature",)
    walked = {**SENSORS, "state": {"temp": {(1,): 44}}}
    found, missing = samples(vendor, walked)
    got = {(s.spec.name, s.labels): s.value for s in found}
    assert got[("emops_sensor_temperature_celsius", ("1",))] == 44  # not the generic 41.5
    assert got[("emops_sensor_temperature_celsius", ("2",))] == pytest.approx(38.0)
    assert missing == []
    assert samples(vendor, {})[1] == ["temperature"]  # promised, none came
    assert [p.pattern for p in vendor.interface_exclude] == ["^NULL", "^InLoopBack"]


OPTICS = """\
promises: []
tables:
  sensor:
    columns:
      name: {oid: 1.3.6.1.2.1.47.1.1.1.1.7, syntax: DisplayString}
      status: {oid: 1.3.6.1.2.1.99.1.1.1.5, syntax: Integer32}
      power: {oid: 1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8, syntax: Integer32, range: [-1, 100000]}
metrics:
  - name: emops_optics_rx_power_dbm
    group: optics
    table: sensor
    column: power
    decibels: {reference: 1000}      # microwatts -> dBm
    where:
      - {column: name, matches: "Receive Power"}
      - {column: status, in: [1]}
      - {column: power, not_in: [-1]}
      - {index: 1, in: [1]}
    labels:
      entity: {column: name, strip: " Receive Power Sensor$"}
"""


def test_where_conditions_all_hold_and_microwatts_become_dbm(tmp_path: Path) -> None:
    path = tmp_path / "optics.yml"
    path.write_text(OPTICS)
    rows = {(1, 1): "ok", (2, 1): "down", (3, 1): "unread", (4, 1): "tx", (5, 2): "second"}
    names = {
        (1, 1): b"Te1/0/1 Receive Power Sensor",
        (2, 1): b"Te1/0/2 Receive Power Sensor",
        (3, 1): b"Te1/0/3 Receive Power Sensor",
        (4, 1): b"Te1/0/4 Transmit Power Sensor",
        (5, 2): b"Te1/0/5 Receive Power Sensor",
    }
    walked = {
        "sensor": {
            "name": names,
            "status": {i: 2 if rows[i] == "down" else 1 for i in rows},
            "power": {i: -1 if rows[i] == "unread" else 500 for i in rows},
        }
    }
    got = values(read_profile(path), walked)
    # 500 uW = 10 log10(0.5) dBm; the down sensor, the -1 "no reading", the transmit
    # sensor and the row whose second index arc is 2 are all left out
    assert got == {("emops_optics_rx_power_dbm", ("Te1/0/1",)): pytest.approx(-3.0103, abs=1e-4)}
    walked["sensor"]["power"][(1, 1)] = 0
    assert values(read_profile(path), walked) == {}  # no light: no reading, never -inf


def test_a_range_narrows_the_column_to_the_mibs_constraint(tmp_path: Path) -> None:
    path = tmp_path / "optics.yml"
    path.write_text(OPTICS)
    syntax = read_profile(path).tables["sensor"].syntax["power"]
    assert syntax.misfit(100000) is None and syntax.misfit(-1) is None
    assert "Integer32 (-1..100000)" in (syntax.misfit(100001) or "")


def test_the_shipped_profiles_load() -> None:
    shipped = load_profiles()
    assert "generic" in shipped.profiles


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("extends: nothing\n", "extends", "no profile 'nothing'"),
        ("extends: vendor\n", "extends", "cycle"),
        ("interfaces: {exclude: ['(']}\n", "interfaces.exclude[0]", "regular expression"),
        (
            "tables: {t: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Integer32}}}}\n"
            "metrics: [{name: emops_x, group: g, table: t, column: v, map: {up: 1}}]\n",
            "metrics[0].map",
            "is not number",
        ),
        (
            "tables: {t: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Integer32}}}}\n"
            "metrics: [{name: emops_x, group: g, table: t, column: v,"
            " labels: {a: {index: '3:1'}}}]\n",
            "metrics[0].labels.a.index",
            "empty slice",
        ),
        (
            "tables: {t: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Integer32}}}}\n"
            "metrics: [{name: emops_x, group: g, table: t, column: v,"
            " where: {column: v, equals: 1, in: [2]}}]\n",
            "metrics[0].where",
            "has both equals: and in:",
        ),
        (
            "tables: {t: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Integer32}}}}\n"
            "metrics: [{name: emops_x, group: g, table: t, column: v}]\npromises: [cpu]\n",
            "promises[0]",
            "no metric of this profile has group 'cpu'",
        ),
        (
            "tables: {t: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Gauge32, range: [-5, 9]}}}}\n",
            "tables.t.columns.v.range",
            "outside Gauge32",
        ),
        (
            "tables: {t: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Integer32}}}}\n"
            "metrics: [{name: emops_x, group: g, table: t, column: v, where: [{column: v}]}]\n",
            "metrics[0].where[0]",
            "tests nothing",
        ),
        (
            "tables: {interfaces: {columns: {v: {oid: 1.3.6.1.4.1.1, syntax: Integer32}}}}\n",
            "tables.interfaces",
            "built-in",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_field(
    profiles: Path, text: str, field: str, words: str
) -> None:
    path = profiles / "broken.yml"
    if "extends: vendor" in text:  # vendor extends generic; make generic extend broken
        (profiles / "generic.yml").write_text("extends: broken\n" + GENERIC)
    path.write_text(text)
    with pytest.raises(EmopsError) as caught:
        read_profile(path)
    lines = str(caught.value).splitlines()
    assert any(field in line and words in line for line in lines), lines
    assert all(".yml:" in line for line in lines), lines  # file:line, where the fix goes
