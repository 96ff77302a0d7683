"""SNMP trap receiver (v1, v2c and v3, pysnmp): linkDown/linkUp/coldStart and friends.

Each trap updates metrics (docs/metrics.md, "SNMP traps") and writes one JSON
line event as it arrives. Nothing a sender controls can add series without
bound or be credited to another device:

- a datagram passes `collectors.trap_gate` first (known source, community or
  verified v3 HMAC, per-source rate), so pysnmp only ever sees, and only keeps
  v3 engine state for, authenticated traps; every drop is counted by reason;
- a trap belongs to the device at its source address; snmpTrapAddress.0 (a v1
  trap's agent-addr, as pysnmp translates it) is believed only from a relay the
  inventory declares (`snmp.trap_relays`);
- trap OIDs outside `TRAPS` count as `trap="other"`, an interface name the
  device is not known to have as `ifname="unknown"`.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address
from typing import IO, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.links import UNLINKED, LinkRef
from collectors.snmp.poller import PollResult, Target
from collectors.snmp.session import RECEIVE_BUFFER_BYTES, UsmCredentials, usm_user_data
from collectors.targets import TrapSettings
from collectors.trap_gate import DROP_REASONS, MAX_ENGINES, RateLimit, TrapGate

log = logging.getLogger(__name__)

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAP_ADDRESS = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)
TRAPS = {  # the `trap` label's values; anything else is "other"
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 1): "coldStart",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 2): "warmStart",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 3): "linkDown",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 4): "linkUp",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 5): "authenticationFailure",
    (1, 3, 6, 1, 2, 1, 68, 0, 1): "vrrpTrapNewMaster",
    (1, 3, 6, 1, 2, 1, 68, 0, 2): "vrrpTrapAuthFailure",
    (1, 3, 6, 1, 2, 1, 14, 16, 2, 2): "ospfNbrStateChange",
    (1, 3, 6, 1, 2, 1, 14, 16, 2, 16): "ospfIfStateChange",
}
OTHER_TRAP = "other"
UNKNOWN_IFNAME = "unknown"
IF_INDEX = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1)
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
REPORTED_MAX = 64  # characters of an unrecognised name kept in the event log
NO_RELAYS = TrapSettings()  # the default: no relays, 100 traps/s per source, burst 200


@dataclass(frozen=True)
class TrapEvent:
    """One received trap, as written to the event log."""

    time: float
    source: str
    device: str
    trap: str  # a name of TRAPS, or "other"
    trap_oid: str = ""
    ifindex: int | None = None
    ifname: str = ""  # a known interface of the device, or "unknown"
    reported_ifname: str = ""  # what the trap said, when that is not a known interface
    link: str = ""
    link_role: str = ""
    member: str = ""

    def json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class TrapState(Collector):
    """Counters and last link state from traps; a Collector of its own families.

    Label values come only from the inventory (devices, interfaces), the poll
    (interface names) and fixed sets, so the series count is bounded."""

    def __init__(self, targets: Iterable[Target] = ()) -> None:
        self._lock = threading.Lock()  # traps arrive on the loop, scrapes on the HTTP thread
        self._labels = {t.device: (t.site, t.role) for t in targets}
        self._counts: dict[tuple[str, str], int] = {}
        self._links: dict[tuple[str, ...], tuple[float, float]] = {}  # labels -> (up, when)
        self._dropped = dict.fromkeys(DROP_REASONS, 0)

    def record(self, event: TrapEvent) -> None:
        with self._lock:
            key = (event.device, event.trap)
            self._counts[key] = self._counts.get(key, 0) + 1
            if event.trap in ("linkDown", "linkUp") and event.ifname:
                site, role = self._labels.get(event.device, ("", ""))
                labels = (event.device, site, role, event.ifname, event.link)
                labels += (event.link_role, event.member)
                self._links[labels] = (1.0 if event.trap == "linkUp" else 0.0, event.time)

    def drop(self, reason: str) -> None:
        """Count a datagram or trap that was not recorded (one of DROP_REASONS)."""
        with self._lock:
            self._dropped[reason] += 1

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts = dict(self._counts)
            links = dict(self._links)
            dropped = dict(self._dropped)
        traps = CounterMetricFamily(
            "emops_snmp_traps_total", "SNMP traps received", labels=["device", "trap"]
        )
        for (device, trap), n in sorted(counts.items()):
            traps.add_metric([device, trap], n)
        drops = CounterMetricFamily(
            "emops_snmp_traps_dropped",
            "Trap datagrams not recorded, by reason (docs/collectors.md)",
            labels=["reason"],
        )
        for reason, n in dropped.items():
            drops.add_metric([reason], n)
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
        yield from (traps, drops, oper, stamp)


def _decode(varbinds: Iterable[tuple[Any, Any]]) -> dict[tuple[int, ...], Any]:
    return {tuple(name): value for name, value in varbinds}


def _text(value: Any) -> str:
    """An octet string as text; bytes that are not UTF-8 become U+FFFD, as the poller reads them."""
    octets = value.asOctets() if hasattr(value, "asOctets") else str(value).encode()
    return bytes(octets).decode("utf-8", "replace")


def _address(value: Any) -> str:
    """The dotted address of an IpAddress value, "" if it is not one."""
    octets = bytes(value.asOctets()) if hasattr(value, "asOctets") else b""
    return str(IPv4Address(octets)) if len(octets) == 4 else ""


class TrapReceiver:
    """Listens on (host, port); each admitted trap -> `state.record` and `sink` (JSON lines).

    `settings` are the inventory's relays and per-source rate limit; `polled()`
    is the poller's latest results (device -> PollResult), whose ifIndex -> ifName
    tables name the interfaces a trap refers to. At most `max_engines` SNMPv3
    engines are registered with pysnmp (the least recently heard is evicted)."""

    def __init__(
        self,
        host: str,
        port: int,
        state: TrapState,
        *,
        communities: Iterable[str] = (),
        users: Iterable[UsmCredentials] = (),
        targets: Iterable[Target] = (),
        settings: TrapSettings = NO_RELAYS,
        links: Mapping[tuple[str, str], LinkRef] | None = None,
        polled: Callable[[], Mapping[str, PollResult]] = dict,
        sink: IO[str] | None = None,
        max_engines: int = MAX_ENGINES,
    ) -> None:
        self.address = (host, port)
        self.state = state
        self.communities = sorted(set(communities))
        self.devices = {t.host: t.device for t in targets}
        self.relays = settings.relays
        self.links = links or {}
        self.model_ifnames: dict[str, set[str]] = {}
        for device, ifname in self.links:
            self.model_ifnames.setdefault(device, set()).add(ifname)
        self.polled = polled
        self.sink = sink
        self.engine: Any = None
        self.gate = TrapGate(
            sources=self.devices.keys() | self.relays,
            communities=self.communities,
            users=users,
            limit=RateLimit(settings.rate, settings.burst),
            max_engines=max_engines,
            learn=self._learn_engine,
            forget=self._forget_engine,
        )
        self._priv_keys: dict[str, Any] = {}  # user -> pysnmp's privacy master key

    def start(self) -> None:
        """Bind and start receiving (inside a running asyncio loop)."""
        # pysnmp (~0.2 s) loads when a receiver starts, so --print-config and bad input stay fast
        from pysnmp.carrier.asyncio.dgram import udp
        from pysnmp.entity import config, engine
        from pysnmp.entity.rfc3413 import ntfrcv

        receiver = self

        class GatedTransport(udp.UdpAsyncioTransport):
            def datagram_received(self, datagram: bytes, address: Any) -> None:
                reason = receiver.gate.admit(datagram, address[0])
                if reason is None:
                    super().datagram_received(datagram, address)
                else:
                    receiver.state.drop(reason)

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)  # bursts
        try:
            sock.bind(self.address)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.engine = engine.SnmpEngine()
        transport = GatedTransport().open_server_mode(sock=sock)
        config.add_transport(self.engine, udp.DOMAIN_NAME, transport)
        for i, community in enumerate(self.communities):
            config.add_v1_system(self.engine, f"trap-area-{i}", community)
        ntfrcv.NotificationReceiver(self.engine, self._received)

    def _learn_engine(self, engine_id: bytes, creds: UsmCredentials) -> None:
        """Register `creds` for an engine whose message just authenticated."""
        # pysnmp: loaded by start(), kept off the module's top for the same reason
        from pysnmp.entity import config
        from pysnmp.proto.rfc1902 import OctetString

        auth = usm_user_data(creds)
        user = self.gate.users[creds.user.encode()]
        if creds.user not in self._priv_keys and auth.privacy_key:
            service = config.PRIV_SERVICES[auth.privacy_protocol]  # once: a 1 MB hash
            key = service.hash_passphrase(auth.authentication_protocol, auth.privacy_key)
            self._priv_keys[creds.user] = key
        config.add_v3_user(
            self.engine,
            auth.userName,
            auth.authentication_protocol,
            user.auth_master or None,
            auth.privacy_protocol,
            self._priv_keys.get(creds.user),
            securityEngineId=OctetString(engine_id),
            authKeyType=config.USM_KEY_TYPE_MASTER,
            privKeyType=config.USM_KEY_TYPE_MASTER,
        )

    def _forget_engine(self, engine_id: bytes, creds: UsmCredentials) -> None:
        # pysnmp: loaded by start(), kept off the module's top for the same reason
        from pysnmp.entity import config
        from pysnmp.proto.rfc1902 import OctetString

        config.delete_v3_user(self.engine, creds.user, securityEngineId=OctetString(engine_id))

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
        except Exception as exc:  # one odd trap must not stop the receiver, nor fill the log
            log.warning("dropped a malformed trap from %s: %s", source, exc)
            self.state.drop("malformed")
            return
        if event is None:
            self.state.drop("unknown_source")
            return
        self.state.record(event)
        if self.sink is not None:
            self.sink.write(event.json() + "\n")
            self.sink.flush()

    def device_of(self, source: str, values: Mapping[tuple[int, ...], Any]) -> str | None:
        """The device a trap is from: its source's, or the one a declared relay names."""
        if source in self.relays and SNMP_TRAP_ADDRESS in values:
            return self.devices.get(_address(values[SNMP_TRAP_ADDRESS]))
        return self.devices.get(source)

    def event(
        self, arrived: float, source: str, values: Mapping[tuple[int, ...], Any]
    ) -> TrapEvent | None:
        """The event for a trap's varbinds (OID tuple -> pysnmp value); None if no
        known device sent it."""
        device = self.device_of(source, values)
        if device is None:
            return None
        trap_oid = tuple(values.get(SNMP_TRAP_OID, ()))
        index = None
        names: dict[tuple[int, ...], str] = {}
        for oid, value in values.items():
            if oid[:-1] == IF_INDEX:
                index = int(value)
            elif oid[:-1] in (IF_NAME, IF_DESCR):
                names[oid[:-1]] = _text(value)
                index = index if index is not None else oid[-1]
        reported = names.get(IF_NAME) or names.get(IF_DESCR) or ""
        ifname = self._known_ifname(device, index, reported)
        ref = self.links.get((device, ifname), UNLINKED)
        return TrapEvent(
            time=arrived,
            source=source,
            device=device,
            trap=TRAPS.get(trap_oid, OTHER_TRAP),
            trap_oid=".".join(map(str, trap_oid)),
            ifindex=index,
            ifname=ifname,
            reported_ifname=reported[:REPORTED_MAX] if ifname == UNKNOWN_IFNAME else "",
            link=ref.link,
            link_role=ref.link_role,
            member=ref.member,
        )

    def _known_ifname(self, device: str, index: int | None, reported: str) -> str:
        """The reported name if the device has it, else the name polled at `index`,
        else "unknown" ("" for a trap about no interface)."""
        result = self.polled().get(device)
        polled = {i.index: i.name for i in result.interfaces} if result else {}
        if reported and (
            reported in polled.values() or reported in self.model_ifnames.get(device, ())
        ):
            return reported
        if index is not None and polled.get(index):
            return polled[index]
        return UNKNOWN_IFNAME if reported or index is not None else ""

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close_dispatcher()
            self.engine = None
