"""Table walks: which row indexes a walk accepts, and the joint walk of empty tables."""

from __future__ import annotations

import asyncio

import pytest
from hostile_agent import Record, RecordingAgent, encode_value
from snmp_fakes import serve_udp

from collectors.snmp import ber
from collectors.snmp.oids import INTEGER32, Table
from collectors.snmp.session import SnmpError, V2cSession
from collectors.snmp.walk import RowMemory, WalkResult, walk_empty_tables, walk_table

FAN = "1.3.6.1.4.1.2011.5.25.31.1.1.10.1.7"  # hwEntityFanState: slot.fan
VRRP = "1.3.6.1.2.1.68.1.3.1.3"  # vrrpOperState: ifIndex.vrid


def table(name: str, oid: str) -> Table:
    return Table(name, {"state": ber.encode_oid(oid)}, {"state": INTEGER32})


def records(cells: dict[str, int]) -> list[Record]:
    return [
        (ber.encode_oid(o), ber.INTEGER, encode_value(ber.INTEGER, str(v)))
        for o, v in cells.items()
    ]


def walk(
    served: list[Record], tables: dict[str, Table], joint: bool = False, any_index: bool = False
) -> dict[str, WalkResult]:
    """Walk `tables` on an agent serving `served`: one walk each, or one joint walk."""

    async def run() -> dict[str, WalkResult]:
        transport, port = await serve_udp(RecordingAgent(served))
        session = V2cSession("127.0.0.1", port, "public", timeout=1.0, retries=0)
        try:
            if joint:
                return await walk_empty_tables(session, tables, RowMemory(), any_index=any_index)
            return {
                key: await walk_table(session, t, RowMemory(), any_index=any_index)
                for key, t in tables.items()
            }
        finally:
            session.close()
            transport.close()

    return asyncio.run(run())


def test_a_profile_table_keeps_multi_part_indexes() -> None:
    """Huawei fans are slot.fan, VRRP rows ifIndex.vrid: kept as tuples in a profile
    walk; in a built-in table (one Integer32 index) the same answer is malformed."""
    served = records({f"{FAN}.1.0": 1, f"{FAN}.1.1": 2, f"{FAN}.12.0": 1})
    got = walk(served, {"fan": table("fan", FAN)}, any_index=True)
    assert got["fan"].columns["state"] == {(1, 0): 1, (1, 1): 2, (12, 0): 1}
    with pytest.raises(SnmpError) as error:
        walk(served, {"fan": table("fan", FAN)})
    assert error.value.reason == "malformed"


def test_empty_tables_are_asked_in_one_request_and_rows_still_come() -> None:
    served = records({f"{VRRP}.7.10": 2, f"{VRRP}.7.20": 3})
    tables = {"fan": table("fan", FAN), "vrrp": table("vrrp", VRRP)}
    got = walk(served, tables, joint=True, any_index=True)
    assert got["fan"].columns["state"] == {}
    assert got["vrrp"].columns["state"] == {(7, 10): 2, (7, 20): 3}
    assert got["fan"].requests == got["vrrp"].requests == 2  # one repetition, then the rest
    nothing = walk(records({}), tables, joint=True, any_index=True)
    assert nothing["fan"].requests == 1
