"""Prometheus' `hashmod` relabel action, reproduced bit for bit.

With `--shards N` the generated scrape config keeps, for collector shard k, only
the series whose `device` label hashes to k (Prometheus computes it); each SNMP
collector shard must poll exactly those devices, so it computes the same hash
with this function instead of guessing. The definition (Prometheus
`model/relabel/relabel.go`, unchanged since 1.x):

    value = ";".join(source label values)          # separator defaults to ";"
    digest = md5(value.encode("utf-8"))            # 16 bytes
    shard = int.from_bytes(digest[8:], "big") % modulus   # last 8 bytes, big-endian uint64
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

SEPARATOR = ";"  # Prometheus' default relabel separator


def hashmod(value: str, modulus: int) -> int:
    """The shard Prometheus' `action: hashmod` assigns to a label value."""
    if modulus < 1:
        raise ValueError(f"modulus must be 1 or more, not {modulus}")
    digest = hashlib.md5(value.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def hashmod_labels(values: Sequence[str], modulus: int) -> int:
    """`hashmod` over several source labels, joined as Prometheus joins them."""
    return hashmod(SEPARATOR.join(values), modulus)


def shard_port(shard: int, base: int = 9610) -> int:
    """The TCP port SNMP collector shard `shard` listens on.

    Shard 0 keeps the single collector's port (9610), so going from one
    collector to N leaves the first where it was; shards 1.. use 9621, 9622, ...
    because 9611 (application collector) and 9612 (alert sink) are taken.
    """
    if shard < 0:
        raise ValueError(f"shard must be 0 or more, not {shard}")
    return base if shard == 0 else base + 10 + shard


def devices_of_shard(devices: Sequence[str], shard: int, shards: int) -> list[str]:
    """The devices collector shard `shard` of `shards` polls (sorted)."""
    return sorted(d for d in devices if hashmod(d, shards) == shard)
