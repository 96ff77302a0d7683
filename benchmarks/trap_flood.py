"""Benchmark: an SNMPv3 trap flood with random engine IDs against the trap receiver.

Sends N (default 4,096) unauthenticated SNMPv3 messages naming the configured
user, each from a new random engine ID, from a device's own address (so the
source check passes and only authentication stands in the way), then one
genuine authPriv trap from net-snmp's `snmptrap` with an engine ID the receiver
has never seen. Prints the receiver process' CPU seconds and RSS before/after
the flood, pysnmp's usmUserTable rows, the drop counters, and whether the
genuine trap was recorded (and how fast).

`--register-each` reproduces the cost of what the receiver did before issue 12:
register the user with pysnmp for every engine ID seen, authenticated or not
(a 1 MB password hash per key, plus MIB writes).

    .venv/bin/python benchmarks/trap_flood.py [--packets 4096] [--register-each]

Everything stays on 127.0.0.1; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "collectors"))

from trap_kit import events, receiving, send, until, usm_rows, v3_unauthenticated  # noqa: E402

from collectors.snmp import agents  # noqa: E402
from collectors.snmp.poller import Target  # noqa: E402
from collectors.snmp.session import UsmCredentials  # noqa: E402
from collectors.traps import TrapReceiver, TrapState  # noqa: E402

USER = UsmCredentials(agents.USER, "SHA", agents.AUTH_PASSWORD, "AES", agents.PRIV_PASSWORD)
DEVICE = Target("anping-wan", "127.0.0.1", site="anping", role="wan_router")
GENUINE_ENGINE = "0x80001f8880beefcafe01"


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_s() -> float:
    return sum(os.times()[:2])


def register_each(receiver: TrapReceiver, flood: list[bytes]) -> None:
    """The receiver before issue 12: every engine ID seen got the user, keys from passphrases."""
    from pysnmp.entity import config
    from pysnmp.proto.rfc1902 import OctetString

    from collectors.snmp.session import usm_user_data
    from collectors.trap_gate import read_v3_header

    auth = usm_user_data(USER)
    for datagram in flood[:4096]:
        engine_id = read_v3_header(datagram).engine_id
        config.add_v3_user(
            receiver.engine,
            auth.userName,
            auth.authentication_protocol,
            auth.authentication_key,
            auth.privacy_protocol,
            auth.privacy_key,
            securityEngineId=OctetString(engine_id),
        )


async def run(packets: int, old: bool) -> None:
    flood = [
        v3_unauthenticated(os.urandom(random.randint(5, 32)), USER.user) for _ in range(packets)
    ]
    state = TrapState([DEVICE])
    async with receiving(state=state, users=[USER], targets=[DEVICE]) as receiver:
        port = receiver.address[1]
        gc.collect()
        rss0, cpu0, wall0 = rss_mb(), cpu_s(), time.monotonic()
        if old:
            register_each(receiver, flood)
        for start in range(0, packets, 256):  # paced so the kernel keeps every datagram
            send(port, flood[start : start + 256])
            await until(lambda: state._dropped["auth"] >= min(start + 256, packets), 30)  # noqa: B023
        gc.collect()
        rss1, cpu1, wall1 = rss_mb(), cpu_s(), time.monotonic()
        command = [
            "snmptrap", "-v3", "-l", "authPriv", "-u", USER.user, "-a", "SHA",
            "-A", USER.auth_password, "-x", "AES", "-X", USER.priv_password,
            "-e", GENUINE_ENGINE, f"127.0.0.1:{port}", "", "1.3.6.1.6.3.1.1.5.3",
            "1.3.6.1.2.1.2.2.1.1.3", "i", "3",
        ]  # fmt: skip
        sent = time.monotonic()
        subprocess.run(command, check=True, env=dict(os.environ, MIBS=""))
        accepted = await until(lambda: events(receiver) >= 1, 5)
        latency = time.monotonic() - sent
        rows = usm_rows(receiver)
    mode = "register every engine (before)" if old else "gate (now)"
    print(f"mode: {mode}; {packets} unauthenticated v3 packets, random engine IDs")
    print(f"receiver CPU: {cpu1 - cpu0:.2f} s for the flood (wall {wall1 - wall0:.2f} s)")
    print(f"RSS: {rss0:.1f} MB before, {rss1:.1f} MB after ({rss1 - rss0:+.1f} MB)")
    print(f"pysnmp usmUserTable rows after the genuine trap: {rows}")
    print(f"drops: {dict(state._dropped)}")
    verdict = f"recorded in {latency * 1000:.0f} ms" if accepted else "DROPPED"
    if old:  # the gate in front still admits it; the receiver before had stopped learning
        verdict = "(not measured: the receiver before dropped it, having learned 4,096 engines)"
    print(f"genuine authPriv trap from a new engine: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=4096)
    parser.add_argument("--register-each", action="store_true", help="the receiver before")
    args = parser.parse_args()
    asyncio.run(run(args.packets, args.register_each))


if __name__ == "__main__":
    main()
