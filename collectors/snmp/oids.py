"""What the poller reads, as numeric OIDs: no MIB files exist on these machines.

Columns of one table share an index and are walked together in one multi-column
GETBULK (ifTable and ifXTable share ifIndex, so they form one table here).
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.ber import encode_oid

SYS_UPTIME = encode_oid("1.3.6.1.2.1.1.3")  # SNMPv2-MIB sysUpTime; GETNEXT gives .0

IF_TABLE = "1.3.6.1.2.1.2.2.1"  # IF-MIB ifEntry
IF_X_TABLE = "1.3.6.1.2.1.31.1.1.1"  # IF-MIB ifXEntry
HR_STORAGE_TABLE = "1.3.6.1.2.1.25.2.3.1"  # HOST-RESOURCES-MIB hrStorageEntry
HR_STORAGE_RAM = encode_oid("1.3.6.1.2.1.25.2.1.2")  # hrStorageRam, a value of hrStorageType
HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"  # HOST-RESOURCES-MIB hrProcessorLoad


@dataclass(frozen=True)
class Table:
    """Columns walked together. `columns` maps our name -> encoded column OID."""

    name: str
    columns: dict[str, bytes]


INTERFACES = Table(
    "interfaces",
    {
        "descr": encode_oid(f"{IF_TABLE}.2"),
        "admin_status": encode_oid(f"{IF_TABLE}.7"),
        "oper_status": encode_oid(f"{IF_TABLE}.8"),
        "in_discards": encode_oid(f"{IF_TABLE}.13"),
        "in_errors": encode_oid(f"{IF_TABLE}.14"),
        "out_discards": encode_oid(f"{IF_TABLE}.19"),
        "out_errors": encode_oid(f"{IF_TABLE}.20"),
        "name": encode_oid(f"{IF_X_TABLE}.1"),
        "hc_in_octets": encode_oid(f"{IF_X_TABLE}.6"),
        "hc_out_octets": encode_oid(f"{IF_X_TABLE}.10"),
        "high_speed": encode_oid(f"{IF_X_TABLE}.15"),
    },
)

STORAGE = Table(
    "storage",
    {
        "type": encode_oid(f"{HR_STORAGE_TABLE}.2"),
        "units": encode_oid(f"{HR_STORAGE_TABLE}.4"),
        "size": encode_oid(f"{HR_STORAGE_TABLE}.5"),
        "used": encode_oid(f"{HR_STORAGE_TABLE}.6"),
    },
)

PROCESSORS = Table("processors", {"load": encode_oid(HR_PROCESSOR_LOAD)})

DEVICE_TABLES = (INTERFACES, STORAGE, PROCESSORS)
