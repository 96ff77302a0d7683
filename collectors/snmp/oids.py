"""What the poller reads, as numeric OIDs: no MIB files exist on these machines.

Columns of one table share an index and are walked together in one multi-column
GETBULK (ifTable and ifXTable share ifIndex, so they form one table here).

Each column carries its MIB syntax, and the walk (walk.py) holds every value to
it as it keeps it, once: the codec bounds each *tag*, but an agent may still send
a Counter64 in a Gauge32 column, a 64 KiB ifName or (over SNMPv3, decoded by
pysnmp) a value our codec never saw. Such an answer is malformed: nothing out of
its MIB's range becomes a metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.ber import encode_oid


@dataclass(frozen=True)
class Syntax:
    """What a column's MIB allows: integers in `values`, or octets up to `max_octets`."""

    name: str
    values: range | None = None
    max_octets: int = 0

    def misfit(self, value: object) -> str | None:
        """Why `value` is not of this syntax, or None if it is (or is NULL: absent)."""
        if value is None:
            return None
        if self.values is not None:
            if isinstance(value, int) and value in self.values:
                return None
        elif isinstance(value, bytes) and len(value) <= self.max_octets:
            return None
        shown = f"{len(value)} octets" if isinstance(value, bytes) else f"{value!r:.40}"
        return f"{shown} is not a {self.name}"


INTEGER32 = Syntax("Integer32", ber.INTEGER32)
COUNTER32 = Syntax("Counter32", ber.UNSIGNED32)
GAUGE32 = Syntax("Gauge32", ber.UNSIGNED32)
TIMETICKS = Syntax("TimeTicks", ber.UNSIGNED32)
COUNTER64 = Syntax("Counter64", ber.UNSIGNED64)
DISPLAY_STRING = Syntax("DisplayString", max_octets=255)  # SNMPv2-TC: SIZE (0..255)
OBJECT_IDENTIFIER = Syntax("OBJECT IDENTIFIER", max_octets=5 * ber.MAX_SUB_IDS)
IP_ADDRESS = Syntax("IpAddress", max_octets=4)  # SNMPv2-SMI: OCTET STRING (SIZE (4))
SYNTAXES = {  # by the name a device profile (collectors/profiles/) gives a column
    s.name: s
    for s in (
        INTEGER32,
        COUNTER32,
        GAUGE32,
        TIMETICKS,
        COUNTER64,
        DISPLAY_STRING,
        OBJECT_IDENTIFIER,
        IP_ADDRESS,
    )
}

SYS_UPTIME = encode_oid("1.3.6.1.2.1.1.3")  # SNMPv2-MIB sysUpTime; GETNEXT gives .0
SYS_OBJECT_ID = encode_oid("1.3.6.1.2.1.1.2")  # SNMPv2-MIB sysObjectID: picks the profile

IF_TABLE = "1.3.6.1.2.1.2.2.1"  # IF-MIB ifEntry
IF_X_TABLE = "1.3.6.1.2.1.31.1.1.1"  # IF-MIB ifXEntry
HR_STORAGE_TABLE = "1.3.6.1.2.1.25.2.3.1"  # HOST-RESOURCES-MIB hrStorageEntry
HR_STORAGE_RAM = encode_oid("1.3.6.1.2.1.25.2.1.2")  # hrStorageRam, a value of hrStorageType
HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"  # HOST-RESOURCES-MIB hrProcessorLoad


@dataclass(frozen=True)
class Table:
    """Columns walked together. `columns` maps our name -> encoded column OID,
    `syntax` our name -> its MIB syntax."""

    name: str
    columns: dict[str, bytes]
    syntax: Mapping[str, Syntax] = field(default_factory=dict)


def _table(name: str, columns: dict[str, tuple[str, Syntax]]) -> Table:
    return Table(
        name,
        {key: encode_oid(oid) for key, (oid, _) in columns.items()},
        {key: syntax for key, (_, syntax) in columns.items()},
    )


_IF_COLUMNS = {
    "descr": (f"{IF_TABLE}.2", DISPLAY_STRING),
    "speed": (f"{IF_TABLE}.5", GAUGE32),  # ifSpeed, bit/s; 2^32-1 when faster
    "admin_status": (f"{IF_TABLE}.7", INTEGER32),
    "oper_status": (f"{IF_TABLE}.8", INTEGER32),
    "in_discards": (f"{IF_TABLE}.13", COUNTER32),
    "in_errors": (f"{IF_TABLE}.14", COUNTER32),
    "out_discards": (f"{IF_TABLE}.19", COUNTER32),
    "out_errors": (f"{IF_TABLE}.20", COUNTER32),
    "name": (f"{IF_X_TABLE}.1", DISPLAY_STRING),
    "hc_in_octets": (f"{IF_X_TABLE}.6", COUNTER64),
    "hc_out_octets": (f"{IF_X_TABLE}.10", COUNTER64),
    "high_speed": (f"{IF_X_TABLE}.15", GAUGE32),
}
OCTETS_32 = {  # the 32-bit fallback, for rows without ifHCIn/OutOctets
    "in_octets": (f"{IF_TABLE}.10", COUNTER32),
    "out_octets": (f"{IF_TABLE}.16", COUNTER32),
}
INTERFACES = _table("interfaces", {**_IF_COLUMNS, **OCTETS_32})
INTERFACES_HC = _table("interfaces", _IF_COLUMNS)
"""INTERFACES without the 32-bit octets: walked while every row of the device has its
64-bit ones (same name: the walks share one row memory)."""

STORAGE = _table(
    "storage",
    {
        "type": (f"{HR_STORAGE_TABLE}.2", OBJECT_IDENTIFIER),
        "units": (f"{HR_STORAGE_TABLE}.4", INTEGER32),
        "size": (f"{HR_STORAGE_TABLE}.5", INTEGER32),
        "used": (f"{HR_STORAGE_TABLE}.6", INTEGER32),
    },
)

PROCESSORS = _table("processors", {"load": (HR_PROCESSOR_LOAD, INTEGER32)})

DEVICE_TABLES = (INTERFACES, STORAGE, PROCESSORS)
