"""The paper's bandwidth formulas (section 3.3.1) and the overhead factor O.

The paper lost its formula images; the ping-pong form is the published one from
Cole and Ramaswamy as quoted in docs/design.md, the bulk form is 8*F*O/R. Both
are derived step by step, with worked examples, in docs/capacity.md.

Everything here is pure arithmetic on base units (bit/s, bytes, seconds); the
CLI parses `30s`, `900B`, `2M` with emops.units first. Every function checks
its arguments and raises EmopsError naming the CLI flag (`--think-time`), so a
planner sees which input is wrong rather than a ZeroDivisionError or a
negative bandwidth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from emops.errors import EmopsError

# Parameter name -> the CLI flag a user types; errors name the flag.
FLAGS: dict[str, str] = {
    "users": "--users",
    "think_time_s": "--think-time",
    "packets": "--packets",
    "packet_bytes": "--packet-size",
    "delay_s": "--delay",
    "link_bps": "--link-rate",
    "size_bytes": "--size",
    "required_time_s": "--required-time",
    "overhead": "--overhead",
    "mtu": "--mtu",
    "l2_bytes": "--l2-header",
    "ip_tcp_header_bytes": "--ip-tcp-header",
    "tcp_options_bytes": "--tcp-options",
    "wire_bytes": "--wire-overhead",
}


def _flag(name: str, fields: Mapping[str, str] | None) -> str:
    if fields and name in fields:
        return fields[name]
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def _check(
    value: object,
    name: str,
    fields: Mapping[str, str] | None,
    *,
    minimum: float,
    strict: bool,
    whole: bool = False,
) -> float:
    """`value` as a finite float that is >= minimum (> when strict), whole if asked."""
    field = _flag(name, fields)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EmopsError.of(field, f"{value!r} is not a number", "give a number")
    number = float(value)
    if not math.isfinite(number):
        raise EmopsError.of(field, f"{value!r} is not a finite number", "give a finite number")
    if whole and not number.is_integer():
        raise EmopsError.of(field, f"{value!r} is not a whole number", "give a count like 8")
    if number < minimum or (strict and number == minimum):
        need = f"more than {minimum:g}" if strict else f"at least {minimum:g}"
        raise EmopsError.of(field, f"{value!r} must be {need}", f"give a value {need}")
    return number


def _pingpong_args(
    users: float,
    think_time_s: float,
    packets: float,
    packet_bytes: float,
    delay_s: float,
    fields: Mapping[str, str] | None,
) -> tuple[float, float, float, float, float]:
    return (
        _check(users, "users", fields, minimum=0, strict=False, whole=True),
        _check(think_time_s, "think_time_s", fields, minimum=0, strict=True),
        _check(packets, "packets", fields, minimum=1, strict=False, whole=True),
        _check(packet_bytes, "packet_bytes", fields, minimum=0, strict=True),
        _check(delay_s, "delay_s", fields, minimum=0, strict=False),
    )


def pingpong_bps(
    users: float,
    think_time_s: float,
    packets: float,
    packet_bytes: float,
    delay_s: float,
    *,
    fields: Mapping[str, str] | None = None,
) -> float:
    """Bits/s per direction of N users in ping-pong exchanges: the paper's formula.

    B = 8*N*K*M / (T + K*P). Each user moves K packets of M bytes each way per
    transaction, one transaction every T + K*P seconds (think time plus one
    one-way delay per packet). This is the published form the paper cites, so
    emops reports it as "the paper's formula" even though it is the larger
    (more conservative) of the two ping-pong estimates.
    """
    n, t, k, m, p = _pingpong_args(users, think_time_s, packets, packet_bytes, delay_s, fields)
    return 8 * n * k * m / (t + k * p)


def pingpong_refined_bps(
    users: float,
    think_time_s: float,
    packets: float,
    packet_bytes: float,
    delay_s: float,
    link_bps: float | None = None,
    *,
    fields: Mapping[str, str] | None = None,
) -> float:
    """Bits/s per direction of a strict ping-pong, from first principles.

    B = 8*N*K*M / (T + 2*K*P + 2*K*8*M/C). In a strict ping-pong every packet
    waits for its answer, so a transaction is K round trips (2*K*P of delay), and
    on a link of rate C each of its 2K packets (K each way) also takes 8*M/C to
    serialise. The cycle is therefore never shorter than the published T + K*P,
    the same bits are spread over a longer cycle, and the result is never more
    than pingpong_bps (equal only when P = 0 and C is not given).
    """
    n, t, k, m, p = _pingpong_args(users, think_time_s, packets, packet_bytes, delay_s, fields)
    serialisation = 0.0
    if link_bps is not None:
        c = _check(link_bps, "link_bps", fields, minimum=0, strict=True)
        serialisation = 2 * k * (8 * m / c)
    return 8 * n * k * m / (t + 2 * k * p + serialisation)


def bulk_bps(
    size_bytes: float,
    required_time_s: float,
    overhead: float = 1.05,
    *,
    fields: Mapping[str, str] | None = None,
) -> float:
    """Bits/s to move F bytes within R seconds with overhead factor O: 8*F*O/R.

    A bulk transfer takes whatever bandwidth it is given, so it has no demand of
    its own: the end user's tolerated time R is what turns its size into a rate.
    O (>= 1) adds the headers every segment carries on the wire; see
    overhead_factor.
    """
    f = _check(size_bytes, "size_bytes", fields, minimum=0, strict=True)
    r = _check(required_time_s, "required_time_s", fields, minimum=0, strict=True)
    o = _check(overhead, "overhead", fields, minimum=1, strict=False)
    return 8 * f * o / r


def overhead_factor(
    mtu: float = 1500,
    l2_bytes: float = 14,
    ip_tcp_header_bytes: float = 40,
    tcp_options_bytes: float = 0,
    wire_bytes: float = 24,
    *,
    fields: Mapping[str, str] | None = None,
) -> float:
    """The bulk overhead factor O: bytes on the link per byte of TCP payload.

    O = (MTU + L2 header + wire overhead) / (MTU - IP/TCP headers - TCP options)
    for full-size segments. The defaults (Ethernet, 1500 MTU, 20 IP + 20 TCP,
    14 header + 24 of FCS, preamble and inter-frame gap) give 1538/1460 = 1.0534,
    the ~1.05 the paper's planners use. With TCP timestamps (tcp_options_bytes=12)
    and wire_bytes=0 it is 1514/1448 = 1.0456, which is what a Linux tbf shaper
    counts (it sees the Ethernet frame without FCS, preamble or gap).
    """
    mtu_v = _check(mtu, "mtu", fields, minimum=0, strict=True)
    l2 = _check(l2_bytes, "l2_bytes", fields, minimum=0, strict=False)
    hdr = _check(ip_tcp_header_bytes, "ip_tcp_header_bytes", fields, minimum=0, strict=False)
    opt = _check(tcp_options_bytes, "tcp_options_bytes", fields, minimum=0, strict=False)
    wire = _check(wire_bytes, "wire_bytes", fields, minimum=0, strict=False)
    payload = mtu_v - hdr - opt
    if payload <= 0:
        raise EmopsError.of(
            _flag("mtu", fields),
            f"{mtu!r} leaves no payload after {hdr + opt:g} bytes of IP/TCP headers",
            "give an MTU larger than the headers (1500 for Ethernet)",
        )
    return (mtu_v + l2 + wire) / payload
