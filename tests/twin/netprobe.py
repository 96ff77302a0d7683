"""Probes run inside a twin namespace (`ip netns exec NS python netprobe.py ...`).

    netprobe.py icmp 198.18.110.1 --interval 0.02 --duration 6
    netprobe.py http http://198.18.100.10/customers/7 --duration 8 --timeout 2

Each prints one JSON object on stdout: for `icmp`, echo requests sent and
answered and the longest run of unanswered ones (the outage, in seconds); for
`http`, every request's start time, status (or error) and whether the
`X-Emops-Checksum` of the answer matched its body.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import socket
import struct
import time
from urllib.parse import urlsplit


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp(target: str, interval: float, duration: float) -> dict:
    """Echo requests every `interval` seconds; the longest unanswered run is the outage."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    sent: dict[int, float] = {}
    answered: set[int] = set()
    start = time.monotonic()
    seq = 0
    next_send = start
    while (now := time.monotonic()) < start + duration + 0.5:
        if now >= next_send and now < start + duration:
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
            payload = struct.pack("!d", now)
            packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq & 0xFFFF)
            sock.sendto(packet + payload, (target, 0))
            sent[seq] = now - start
            seq += 1
            next_send += interval
        ready, _, _ = select.select([sock], [], [], max(0.0, min(next_send - now, 0.01)))
        if ready:
            data, (source, _port) = sock.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            kind, _code, _sum, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
            if kind == 0 and rid == ident and source == target:
                answered.add(rseq)
    outages, run = [], 0  # runs of two or more unanswered requests
    for s in [*range(seq), None]:
        if s is not None and s not in answered:
            run += 1
            continue
        if run >= 2:
            first = (s if s is not None else seq) - run
            outages.append({"at_s": round(sent[first], 3), "s": round(run * interval, 3)})
        run = 0
    return {
        "sent": seq,
        "answered": len(answered),
        "outage_s": max((o["s"] for o in outages), default=0.0),
        "outages": outages,
        "interval_s": interval,
    }


def http_loop(url: str, duration: float, timeout: float, pause: float) -> dict:
    """Sequential requests (a new connection each) for `duration` seconds."""
    from emops.marketing_contract import HEADER, ChecksumMismatch, verify_json

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    results = []
    start = time.monotonic()
    while (t := time.monotonic() - start) < duration:
        entry: dict = {"t": round(t, 3)}
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read()
            entry["status"] = resp.status
            try:
                verify_json(body, resp.getheader(HEADER))
                entry["ok"] = resp.status == 200
            except (ChecksumMismatch, ValueError):
                entry["ok"] = False
                entry["error"] = "checksum"
        except (OSError, http.client.HTTPException) as exc:
            entry |= {"ok": False, "error": type(exc).__name__}
        finally:
            conn.close()
        entry["elapsed"] = round(time.monotonic() - start - t, 3)
        results.append(entry)
        time.sleep(pause)
    failed = [r for r in results if not r["ok"]]
    return {"requests": len(results), "failed": len(failed), "failures": failed}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("icmp")
    p.add_argument("target")
    p.add_argument("--interval", type=float, default=0.02)
    p.add_argument("--duration", type=float, default=5.0)
    p = sub.add_parser("http")
    p.add_argument("url")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--pause", type=float, default=0.02)
    args = parser.parse_args()
    if args.mode == "icmp":
        out = icmp(args.target, args.interval, args.duration)
    else:
        out = http_loop(args.url, args.duration, args.timeout, args.pause)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
