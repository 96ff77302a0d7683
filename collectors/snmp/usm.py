"""SNMPv3 User-based Security Model for the poller's own session path.

Why not pysnmp here: its engine spends most of a v3 poll in generic ASN.1 and
MIB machinery (about 6x snmp_exporter's CPU per OID). A poll needs one request
shape (GetBulkRequest in a scopedPDU) and one answer shape, so the message is
written out by hand as the v2c one is (`ber`), and only the cryptography is
taken from libraries: hashlib and hmac for keys and digests, the `cryptography`
package for AES and DES (CFB and DES live in its `decrepit` corner, kept for
protocols like this one). Nothing cryptographic is written here.

What is implemented, by RFC:
- RFC 3414: password to key (1 MB of the repeated password, hashed once per user
  and kept), key localisation per authoritative engine (cached per engine ID),
  HMAC-MD5-96 and HMAC-SHA-96, engine discovery, boots/time window;
- RFC 7860: HMAC-SHA-2 (224/256/384/512, truncated to 16/24/32/48 octets);
- RFC 3826: AES-128 in CFB mode, IV = boots | time | 64-bit salt;
- AES-192/256 as net-snmp does them: the localised privacy key extended by
  Blumenthal's rule (draft-blumenthal-aes-usm-04: K = K | H(K) until long enough);
- DES-CBC (RFC 3414 section 8) only when a user asks for it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from collectors.snmp import ber

MEGABYTE: Final = 1_048_576
TIME_WINDOW_S: Final = 150  # RFC 3414 section 3.2 (7): the receiver's window
MAX_MESSAGE: Final = 65507  # msgMaxSize we announce (the largest UDP payload)
FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE = 0x01, 0x02, 0x04
# usmStats counters a Report carries (SNMP-USER-BASED-SM-MIB), by what they mean
REPORTS: Final = {
    ber.encode_oid("1.3.6.1.6.3.15.1.1.1"): "unsupported_level",
    ber.encode_oid("1.3.6.1.6.3.15.1.1.2"): "not_in_time_window",
    ber.encode_oid("1.3.6.1.6.3.15.1.1.3"): "unknown_user",
    ber.encode_oid("1.3.6.1.6.3.15.1.1.4"): "unknown_engine_id",
    ber.encode_oid("1.3.6.1.6.3.15.1.1.5"): "wrong_digest",
    ber.encode_oid("1.3.6.1.6.3.15.1.1.6"): "decryption_error",
}


@dataclass(frozen=True)
class AuthProtocol:
    hash_name: str
    mac_length: int  # octets of msgAuthenticationParameters


AUTH: Final = {
    "MD5": AuthProtocol("md5", 12),
    "SHA": AuthProtocol("sha1", 12),
    "SHA224": AuthProtocol("sha224", 16),
    "SHA256": AuthProtocol("sha256", 24),
    "SHA384": AuthProtocol("sha384", 32),
    "SHA512": AuthProtocol("sha512", 48),
}
PRIV_KEY_LENGTH: Final = {"DES": 16, "AES": 16, "AES192": 24, "AES256": 32}  # DES: key + pre-IV


class UsmError(Exception):
    """A message that fails the USM's checks; `reason` is the exporter's label value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@lru_cache(maxsize=256)
def password_key(password: bytes, hash_name: str) -> bytes:
    """RFC 3414 A.2: the digest of 1 MB of the repeated password (Ku).

    Done once per password and hash (cached): it is the costly step, and it does
    not depend on the agent. net-snmp refuses passwords under 8 octets; so do we.
    """
    if len(password) < 8:
        raise ValueError("an SNMPv3 password needs at least 8 characters")
    repeated = password * (MEGABYTE // len(password) + 1)
    return hashlib.new(hash_name, repeated[:MEGABYTE]).digest()


def localize(key: bytes, engine_id: bytes, hash_name: str) -> bytes:
    """RFC 3414 A.2: Kul = H(Ku | engineID | Ku)."""
    return hashlib.new(hash_name, key + engine_id + key).digest()


def extend_blumenthal(key: bytes, length: int, hash_name: str) -> bytes:
    """A localised key grown to `length` octets: K | H(K) | H(K | H(K)) ... (net-snmp's
    AES-192/256 with a hash shorter than the cipher key)."""
    while len(key) < length:
        key += hashlib.new(hash_name, key).digest()
    return key[:length]


@dataclass(frozen=True)
class User:
    """An SNMPv3 user with its keys localised to one authoritative engine."""

    name: bytes
    auth: AuthProtocol | None
    auth_key: bytes
    priv: str | None  # DES, AES, AES192, AES256
    priv_key: bytes

    @property
    def flags(self) -> int:
        return (FLAG_AUTH if self.auth else 0) | (FLAG_PRIV if self.priv else 0)


def localized_user(
    name: str,
    engine_id: bytes,
    auth_protocol: str = "",
    auth_password: str = "",
    priv_protocol: str = "",
    priv_password: str = "",
) -> User:
    """The user's keys for the engine `engine_id` (each password hashed once, ever)."""
    if not auth_password:
        return User(name.encode(), None, b"", None, b"")
    auth = AUTH[auth_protocol]
    auth_key = localize(
        password_key(auth_password.encode(), auth.hash_name), engine_id, auth.hash_name
    )
    if not priv_password:
        return User(name.encode(), auth, auth_key, None, b"")
    # RFC 3826 3.1.2.1 and 3414 8.1.1.1: the privacy key is localised with the auth hash
    priv_key = localize(
        password_key(priv_password.encode(), auth.hash_name), engine_id, auth.hash_name
    )
    priv_key = extend_blumenthal(priv_key, PRIV_KEY_LENGTH[priv_protocol], auth.hash_name)
    return User(name.encode(), auth, auth_key, priv_protocol, priv_key)


# --- privacy ------------------------------------------------------------------------


def _cipher(user: User, boots: int, engine_time: int, salt: bytes) -> Cipher:
    if user.priv == "DES":
        # single DES as 3DES with one key (K1 = K2 = K3); IV = pre-IV XOR salt
        iv = bytes(a ^ b for a, b in zip(user.priv_key[8:16], salt, strict=True))
        return Cipher(TripleDES(user.priv_key[:8] * 3), modes.CBC(iv))
    iv = struct.pack(">II", boots, engine_time) + salt
    return Cipher(algorithms.AES(user.priv_key), CFB(iv))  # CFB-128 (RFC 3826)


def encrypt(user: User, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    if user.priv == "DES" and len(data) % 8:
        data += b"\x00" * (8 - len(data) % 8)  # RFC 3414 8.1.1.2: pad to the block size
    encryptor = _cipher(user, boots, engine_time, salt).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def decrypt(user: User, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    if len(salt) != 8 or (user.priv == "DES" and len(data) % 8):
        raise UsmError("auth", "decryption error: bad salt or length")
    decryptor = _cipher(user, boots, engine_time, salt).decryptor()
    return decryptor.update(data) + decryptor.finalize()


# --- messages -----------------------------------------------------------------------


def _digest(user: User, message: bytes) -> bytes:
    assert user.auth is not None
    mac = hmac.new(user.auth_key, message, user.auth.hash_name).digest()
    return mac[: user.auth.mac_length]


def encode_request(
    user: User,
    engine_id: bytes,
    boots: int,
    engine_time: int,
    msg_id: int,
    pdu: bytes,
    salt: bytes = b"",
) -> bytes:
    """A reportable SNMPv3 message carrying `pdu`, authenticated and encrypted as
    `user` says (noAuthNoPriv with an empty user and engine: discovery)."""
    scoped = ber.tlv(
        ber.SEQUENCE, ber.tlv(ber.OCTET_STRING, engine_id) + ber.tlv(ber.OCTET_STRING, b"") + pdu
    )
    if user.priv:
        data = ber.tlv(ber.OCTET_STRING, encrypt(user, boots, engine_time, salt, scoped))
    else:
        data, salt = scoped, b""
    mac_length = user.auth.mac_length if user.auth else 0
    fields = (
        ber.tlv(ber.OCTET_STRING, engine_id)
        + ber.integer(boots)
        + ber.integer(engine_time)
        + ber.tlv(ber.OCTET_STRING, user.name)
    )
    content = fields + ber.tlv(ber.OCTET_STRING, b"\x00" * mac_length)
    params = ber.tlv(ber.SEQUENCE, content + ber.tlv(ber.OCTET_STRING, salt))
    carried = ber.tlv(ber.OCTET_STRING, params)
    head = ber.integer(3) + ber.tlv(
        ber.SEQUENCE,
        ber.integer(msg_id)
        + ber.integer(MAX_MESSAGE)
        + ber.tlv(ber.OCTET_STRING, bytes((user.flags | FLAG_REPORTABLE,)))
        + ber.integer(ber.USM),
    )
    body = head + carried + data
    message = ber.tlv(ber.SEQUENCE, body)
    if not user.auth:
        return message
    # where the zeroed MAC's content starts, from the lengths of what precedes it (the
    # engine ID or the salt may hold zeros: no searching)
    at = len(message) - len(body) + len(head) + len(carried) - len(params)
    at += len(params) - len(content) - len(ber.tlv(ber.OCTET_STRING, salt)) + len(fields) + 2
    return message[:at] + _digest(user, message) + message[at + mac_length :]


@dataclass(frozen=True)
class Answer:
    """A decoded, checked answer from the authoritative engine."""

    msg_id: int
    engine_id: bytes
    boots: int
    engine_time: int
    pdu_tag: int  # GET_RESPONSE or REPORT
    request_id: int
    error_status: int
    varbinds: list[ber.VarBind]
    authenticated: bool = False  # its digest was checked: its boots and time can be believed

    @property
    def report(self) -> str | None:
        """What a Report says (`not_in_time_window`, `unknown_user`...), None for a Response."""
        if self.pdu_tag != ber.REPORT:
            return None
        for oid, _ in self.varbinds:
            reason = REPORTS.get(oid[:-1] if oid.endswith(b"\x00") else oid)
            if reason:
                return reason
        return "report"


def decode_answer(data: bytes, user: User | None, h: ber.V3Header | None = None) -> Answer:
    """Parse and check one answer. `user` None (discovery, no keys yet): only a clear
    Report is accepted. Raises UsmError("auth", ...) for a wrong digest, an undecryptable
    PDU or a Response that is not authenticated; ber.MalformedPacket for what does not
    parse."""
    h = h or ber.read_v3_header(data)  # the receiving socket may have read it already
    keyed = user is not None and user.auth is not None
    if h.flags & FLAG_AUTH:
        if not keyed:
            raise UsmError("auth", "an authenticated answer to a request without keys")
        assert user is not None and user.auth is not None
        start, stop = h.auth_at
        if stop - start != user.auth.mac_length:
            raise UsmError("auth", "wrong digest length")
        zeroed = data[:start] + b"\x00" * (stop - start) + data[stop:]
        if not hmac.compare_digest(_digest(user, zeroed), data[start:stop]):
            raise UsmError("auth", "wrong digest")
    scoped = data[h.data_at[0] : h.data_at[1]]
    if h.flags & FLAG_PRIV:
        if user is None or not user.priv or not h.flags & FLAG_AUTH:
            raise UsmError("auth", "an encrypted answer without authentication or a key")
        secret = ber.octet_string(data, *h.data_at)
        scoped = decrypt(user, h.boots, h.engine_time, h.salt, secret)
    try:
        tag, request_id, status, _index, varbinds = ber.decode_scoped_pdu(scoped)
    except ber.MalformedPacket:
        if h.flags & FLAG_PRIV:  # the key was wrong: RFC 3414 calls it a decryption error
            raise UsmError("auth", "decryption error") from None
        raise
    if tag == ber.GET_RESPONSE and keyed and not h.flags & FLAG_AUTH:
        raise UsmError("auth", "an unauthenticated Response to an authenticated request")
    authentic = bool(h.flags & FLAG_AUTH)
    return Answer(
        h.msg_id, h.engine_id, h.boots, h.engine_time, tag, request_id, status, varbinds, authentic
    )


def new_salt_source() -> int:
    """The first 64-bit salt: random, so two runs never reuse an IV with one key."""
    return int.from_bytes(os.urandom(8), "big")
