"""What a trap datagram must pass before pysnmp spends anything on it.

pysnmp decodes every message with pyasn1 and, for SNMPv3, can only check a
digest once the user is registered for the sender's engine ID (about 10 ms of
password hashing and MIB writes each). Registering on sight let 4,096 forged
engine IDs cost 42 CPU-s and 150 MB, and a v3 trap without any authentication
but the right user name was accepted. So each datagram is read here with the
hand-written BER reader and dropped, with a reason, unless in this order:

- its source address is a device of the inventory or a declared relay
  (`unknown_source`);
- it parses as SNMP (`malformed`);
- it carries a configured community, or (v3) a configured user at least at that
  user's security level, whose HMAC verifies with the key localised to its
  engine ID (`auth`): the check is one hash, no state is kept for a failure;
- its source still has tokens in its bucket (`rate_limited`).

Only then is a new v3 engine registered with pysnmp, in an LRU of
`max_engines`: engine state exists only for senders that proved the password.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from collectors.snmp.ber import (  # the same bounds-checked reader as the poller's codec
    MalformedPacket,
    V3Header,
    read_community,
    read_v3_header,
    read_version,
)
from collectors.snmp.session import UsmCredentials

DROP_REASONS = ("unknown_source", "malformed", "auth", "rate_limited")
# protocol -> (hash of RFC 3414 / RFC 7860, truncated HMAC length)
AUTH_HASHES: dict[str, tuple[Callable[..., Any], int]] = {
    "MD5": (hashlib.md5, 12),
    "SHA": (hashlib.sha1, 12),
    "SHA224": (hashlib.sha224, 16),
    "SHA256": (hashlib.sha256, 24),
    "SHA384": (hashlib.sha384, 32),
    "SHA512": (hashlib.sha512, 48),
}
FLAG_AUTH, FLAG_PRIV = 0x01, 0x02
MAX_ENGINES = 256
RATE, BURST = 100.0, 200.0  # traps per second per source, and the burst a source may send


def master_key(protocol: str, password: str) -> bytes:
    """RFC 3414 A.2.1 password-to-key: the hash of 1 MB of the repeated password."""
    digest, _ = AUTH_HASHES[protocol]
    text = password.encode()
    return bytes(digest((text * (1_048_576 // len(text) + 1))[:1_048_576]).digest())


@dataclass(frozen=True)
class V3User:
    """A configured user with its master key computed once (the 1 MB hash)."""

    creds: UsmCredentials
    auth_master: bytes = field(repr=False)

    @classmethod
    def of(cls, creds: UsmCredentials) -> V3User:
        key = master_key(creds.auth_protocol, creds.auth_password) if creds.auth_password else b""
        return cls(creds, key)

    @property
    def flags(self) -> int:
        """The msgFlags bits every message of this user must carry."""
        auth = FLAG_AUTH if self.creds.auth_password else 0
        return auth | (FLAG_PRIV if auth and self.creds.priv_password else 0)

    def local_key(self, engine_id: bytes) -> bytes:
        """RFC 3414 A.2.2 (and RFC 7860): H(Ku | engineID | Ku)."""
        digest, _ = AUTH_HASHES[self.creds.auth_protocol]
        return bytes(digest(self.auth_master + engine_id + self.auth_master).digest())


class RateLimit:
    """A token bucket per source address: `rate` traps a second, `burst` at once.

    Only sources that passed the address check get a bucket, so the table never
    outgrows the inventory's devices plus relays."""

    def __init__(
        self, rate: float = RATE, burst: float = BURST, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, when)

    def allow(self, source: str) -> bool:
        now = self.clock()
        tokens, at = self._buckets.get(source, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[source] = (tokens - 1.0 if allowed else tokens, now)
        return allowed


class TrapGate:
    """`admit(datagram, source)`: None to hand it to pysnmp, else why it is dropped.

    `learn(engine_id, creds)` registers an authenticated engine with pysnmp;
    `forget` removes the least recently used one beyond `max_engines`."""

    def __init__(
        self,
        *,
        sources: Collection[str],
        communities: Iterable[str] = (),
        users: Iterable[UsmCredentials] = (),
        limit: RateLimit | None = None,
        max_engines: int = MAX_ENGINES,
        learn: Callable[[bytes, UsmCredentials], None] = lambda engine_id, creds: None,
        forget: Callable[[bytes, UsmCredentials], None] = lambda engine_id, creds: None,
    ) -> None:
        self.sources = frozenset(sources)
        self.communities = frozenset(c.encode() for c in communities)
        self.users = {u.user.encode(): V3User.of(u) for u in users}
        self.limit = limit or RateLimit()
        self.max_engines = max(1, max_engines)
        self.learn, self.forget = learn, forget
        self.engines: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()  # -> localised key

    def admit(self, datagram: bytes, source: str) -> str | None:
        if source not in self.sources:
            return "unknown_source"
        header = None
        try:
            version = read_version(datagram)
            if version in (0, 1):  # v1, v2c
                authentic = read_community(datagram) in self.communities
            elif version == 3:
                header = read_v3_header(datagram)
                authentic = self._authentic(header, datagram)
            else:
                return "malformed"
        except (MalformedPacket, IndexError):
            return "malformed"
        if not authentic:
            return "auth"
        if not self.limit.allow(source):
            return "rate_limited"
        if header is not None:
            self._remember(header)
        return None

    def _authentic(self, header: V3Header, data: bytes) -> bool:
        """A configured user, its security level, and (with auth) a verified HMAC."""
        if not 5 <= len(header.engine_id) <= 32:  # RFC 3411 SnmpEngineID
            raise MalformedPacket("engine ID length")
        user = self.users.get(header.user)
        if user is None or header.flags & user.flags != user.flags:
            return False
        if not user.flags & FLAG_AUTH:
            return True  # a noAuthNoPriv user: nothing to verify
        digest, size = AUTH_HASHES[user.creds.auth_protocol]
        start, stop = header.auth_at
        if stop - start != size:
            return False
        key = self.engines.get((header.engine_id, header.user)) or user.local_key(header.engine_id)
        zeroed = data[:start] + bytes(size) + data[stop:]
        mac = hmac.new(key, zeroed, digest).digest()[:size]
        return hmac.compare_digest(mac, data[start:stop])

    def _remember(self, header: V3Header) -> None:
        """Keep the engine (most recent last); register a new one, evict the oldest."""
        key = (header.engine_id, header.user)
        if key in self.engines:
            self.engines.move_to_end(key)
            return
        user = self.users[header.user]
        self.engines[key] = user.local_key(header.engine_id)
        self.learn(header.engine_id, user.creds)
        while len(self.engines) > self.max_engines:
            (engine_id, name), _ = self.engines.popitem(last=False)
            self.forget(engine_id, self.users[name].creds)
