"""SNMP trap receiver (v2c and v3, pysnmp): linkDown/linkUp/coldStart.

Each trap updates metrics (docs/metrics.md, "SNMP traps") and writes one JSON
line event as it arrives. SNMPv3 traps are authenticated with keys localised
to the sender's engine ID, which no receiver knows in advance: the transport
peeks at each v3 message and registers the configured user for a new engine
ID before pysnmp processes it (the password still has to match).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import IO, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.links import UNLINKED, LinkRef
from collectors.snmp import ber
from collectors.snmp.poller import Target
from collectors.snmp.session import UsmCredentials, usm_user_data

log = logging.getLogger(__name__)

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAP_ADDRESS = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)
TRAPS = {
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 1): "coldStart",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 3): "linkDown",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 4): "linkUp",
}
IF_INDEX = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1)
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
MAX_LEARNED_ENGINES = 4096  # spoofed engine IDs cannot grow the user table without bound


@dataclass(frozen=True)
class TrapEvent:
    """One received trap, as written to the event log."""

    time: float
    source: str
    device: str
    trap: str  # linkDown, linkUp, coldStart, or the trap OID
    ifindex: int | None = None
    ifname: str = ""
    link: str = ""
    link_role: str = ""
    member: str = ""

    def json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class TrapState(Collector):
    """Counters and last link state from traps; a Collector of its own families."""

    def __init__(self, targets: Iterable[Target] = ()) -> None:
        self._lock = threading.Lock()  # traps arrive on the loop, scrapes on the HTTP thread
        self._labels = {t.device: (t.site, t.role) for t in targets}
        self._counts: dict[tuple[str, str], int] = {}
        self._links: dict[tuple[str, ...], tuple[float, float]] = {}  # labels -> (up, when)

    def record(self, event: TrapEvent) -> None:
        with self._lock:
            key = (event.device, event.trap)
            self._counts[key] = self._counts.get(key, 0) + 1
            if event.trap in ("linkDown", "linkUp") and event.ifname:
                site, role = self._labels.get(event.device, ("", ""))
                labels = (event.device, site, role, event.ifname, event.link)
                labels += (event.link_role, event.member)
                self._links[labels] = (1.0 if event.trap == "linkUp" else 0.0, event.time)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts = dict(self._counts)
            links = dict(self._links)
        traps = CounterMetricFamily(
            "emops_snmp_traps_total", "SNMP traps received", labels=["device", "trap"]
        )
        for (device, trap), n in sorted(counts.items()):
            traps.add_metric([device, trap], n)
        names = ["device", "site", "role", "ifname", "link", "link_role", "member"]
        oper = GaugeMetricFamily(
            "emops_interface_trap_oper_up", "State from the last linkDown/linkUp", labels=names
        )
        stamp = GaugeMetricFamily(
            "emops_interface_trap_timestamp_seconds", "When that trap arrived", labels=names
        )
        for labels, (up, when) in sorted(links.items()):
            oper.add_metric(list(labels), up)
            stamp.add_metric(list(labels), when)
        yield from (traps, oper, stamp)


def _decode(varbinds: Iterable[tuple[Any, Any]]) -> dict[tuple[int, ...], Any]:
    return {tuple(name): value for name, value in varbinds}


class TrapReceiver:
    """Listens on (host, port); each trap -> `state.record` and `sinks` (JSON lines)."""

    def __init__(
        self,
        host: str,
        port: int,
        state: TrapState,
        *,
        communities: Iterable[str] = (),
        users: Iterable[UsmCredentials] = (),
        targets: Iterable[Target] = (),
        links: Mapping[tuple[str, str], LinkRef] | None = None,
        ifname_of: Callable[[str, int], str | None] = lambda device, index: None,
        sink: IO[str] | None = None,
    ) -> None:
        self.address = (host, port)
        self.state = state
        self.communities = sorted(set(communities))
        self.users = {u.user.encode(): u for u in users}
        self.devices = {t.host: t.device for t in targets}
        self.links = links or {}
        self.ifname_of = ifname_of
        self.sink = sink
        self.engine: Any = None
        self._learned: set[tuple[bytes, bytes]] = set()

    def start(self) -> None:
        """Bind and start receiving (inside a running asyncio loop)."""
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config, engine
        from pysnmp.entity.rfc3413 import ntfrcv

        receiver = self

        class LearningTransport(udp.UdpAsyncioTransport):
            def datagram_received(self, datagram: bytes, address: Any) -> None:
                receiver._learn_engine(datagram)
                super().datagram_received(datagram, address)

        self.engine = engine.SnmpEngine()
        transport = LearningTransport().open_server_mode(self.address)
        config.add_transport(self.engine, udp.DOMAIN_NAME, transport)
        for i, community in enumerate(self.communities):
            config.add_v1_system(self.engine, f"trap-area-{i}", community)
        ntfrcv.NotificationReceiver(self.engine, self._received)

    def _learn_engine(self, datagram: bytes) -> None:
        peeked = ber.peek_v3_security(datagram)
        if peeked is None or peeked in self._learned or peeked[1] not in self.users:
            return
        if len(self._learned) >= MAX_LEARNED_ENGINES:
            return
        from pysnmp.entity import config
        from pysnmp.proto.rfc1902 import OctetString

        engine_id, user = peeked
        auth = usm_user_data(self.users[user])
        config.add_v3_user(
            self.engine,
            auth.userName,
            auth.authentication_protocol,
            auth.authentication_key,
            auth.privacy_protocol,
            auth.privacy_key,
            securityEngineId=OctetString(engine_id),
        )
        self._learned.add(peeked)

    def _received(
        self,
        snmp_engine: Any,
        state_reference: Any,
        context_engine_id: Any,
        context_name: Any,
        varbinds: Any,
        cb_ctx: Any,
    ) -> None:
        arrived = time.time()
        try:
            _, (source, _port) = snmp_engine.message_dispatcher.get_transport_info(state_reference)
        except Exception:
            source = ""
        try:
            event = self.event(arrived, str(source), _decode(varbinds))
        except Exception:  # one odd trap must not stop the receiver
            log.exception("cannot read a trap from %s", source)
            return
        self.state.record(event)
        if self.sink is not None:
            self.sink.write(event.json() + "\n")
            self.sink.flush()

    def event(self, arrived: float, source: str, values: dict[tuple[int, ...], Any]) -> TrapEvent:
        """The event for a trap's varbinds (OID tuple -> pysnmp value)."""
        trap_oid = tuple(values.get(SNMP_TRAP_OID, ()))
        trap = TRAPS.get(trap_oid, ".".join(map(str, trap_oid)) or "unknown")
        device = self.devices.get(source)
        if device is None and SNMP_TRAP_ADDRESS in values:
            agent = ".".join(str(b) for b in values[SNMP_TRAP_ADDRESS].asNumbers())
            device = self.devices.get(agent)
        device = device or source
        index = None
        names: dict[str, str] = {}
        for oid, value in values.items():
            if oid[:-1] == IF_INDEX:
                index = int(value)
            elif oid[:-1] in (IF_NAME, IF_DESCR):
                names.setdefault(str(oid[:-1] == IF_NAME), bytes(value.asOctets()).decode())
                index = index if index is not None else oid[-1]
        ifname = names.get("True") or names.get("False") or ""
        if not ifname and index is not None:
            ifname = self.ifname_of(device, index) or f"ifIndex{index}"
        ref = self.links.get((device, ifname), UNLINKED) if ifname else UNLINKED
        return TrapEvent(
            time=arrived,
            source=source,
            device=device,
            trap=trap,
            ifindex=index,
            ifname=ifname,
            link=ref.link,
            link_role=ref.link_role,
            member=ref.member,
        )

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close_dispatcher()
            self.engine = None
