"""Serving device-profile recordings to the real poller, and reading them back.

A recording (tests/collectors/recordings/*.snmprec) is served over UDP by the recording
agent and polled by the real Poller; the tests then compare what the exporter gives with
what the recording says, each read on its own: `recorded`/`column` parse the file
without the agent's parser, and `exported` reads the registry as Prometheus would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

from hostile_agent import Record, RecordingAgent, read_snmprec
from prometheus_client import CollectorRegistry
from snmp_fakes import serve_udp

from collectors.exposition import SnmpCollector
from collectors.snmp import ber
from collectors.snmp.poller import Poller, PollResult, Target
from collectors.snmp.profiles import load_profiles

RECORDINGS = Path(__file__).resolve().parent / "recordings"
DEVICE_KEYS = ("device", "site", "role")
Index = tuple[int, ...]
Series = tuple[str, frozenset[tuple[str, str]]]  # metric name, labels besides the device's


def device_labels(device: str) -> dict[str, str]:
    return {"device": device, "site": "hq", "role": "core_switch"}


def load(name: str) -> list[Record]:
    """The recording's records, as the agent serves them."""
    return read_snmprec(RECORDINGS / name)


def recorded(name: str) -> dict[str, str]:
    """OID -> value text of a recording, read independently of the agent's parser."""
    values = {}
    for line in (RECORDINGS / name).read_text().splitlines():
        if line and not line.startswith("#"):
            oid, _, value = line.split("|", 2)
            values[oid] = value
    return values


def column(values: Mapping[str, str], prefix: str) -> dict[Index, str]:
    """Row index (as a tuple of sub-identifiers) -> value text of one column."""
    cut = len(prefix) + 1
    return {
        tuple(int(a) for a in oid[cut:].split(".")): value
        for oid, value in values.items()
        if oid.startswith(prefix + ".")
    }


def numbers(values: Mapping[str, str], prefix: str) -> dict[Index, int]:
    return {index: int(text) for index, text in column(values, prefix).items()}


def without(records: Iterable[Record], prefix: str) -> list[Record]:
    cut = ber.encode_oid(prefix)
    return [r for r in records if not r[0].startswith(cut)]


def replaced(records: Iterable[Record], oid: str, tag: int, content: bytes) -> list[Record]:
    key = ber.encode_oid(oid)
    return [(k, tag, content) if k == key else (k, t, c) for k, t, c in records]


def poll(
    devices: Mapping[str, list[Record]], polls: int = 2
) -> tuple[dict[str, PollResult], CollectorRegistry]:
    """Serve each device's records on its own port, poll them all together `polls` times
    (the first poll picks the profile, the next walks it beside the built-in tables)
    and expose the last results in a fresh registry."""

    async def run() -> Poller:
        served = [await serve_udp(RecordingAgent(records)) for records in devices.values()]
        targets = [
            Target(device, "127.0.0.1", port, "2c", "public", site="hq", role="core_switch")
            for device, (_, port) in zip(devices, served, strict=True)
        ]
        poller = Poller(targets, timeout=1.0, retries=1)
        try:
            for _ in range(polls):
                await poller.poll_all()
        finally:
            poller.close()
            for transport, _ in served:
                transport.close()
        return poller

    poller = asyncio.run(run())
    registry = CollectorRegistry()
    registry.register(SnmpCollector(lambda: poller.results))
    return poller.results, registry


def profile_metric_names() -> set[str]:
    return {name for p in load_profiles().profiles.values() for name in (m.name for m in p.metrics)}


def exported(registry: CollectorRegistry, device: str) -> dict[Series, float]:
    """Every device-profile series of `device` the registry exposes (device labels cut)."""
    names = profile_metric_names()
    out: dict[Series, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name in names and sample.labels.get("device") == device:
                labels = {k: v for k, v in sample.labels.items() if k not in DEVICE_KEYS}
                out[(sample.name, frozenset(labels.items()))] = sample.value
    return out


def missing(registry: CollectorRegistry, device: str) -> dict[str, float]:
    """group -> emops_snmp_profile_missing of `device`."""
    return {
        s.labels["group"]: s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == "emops_snmp_profile_missing" and s.labels.get("device") == device
    }


class Expected:
    """The series a recording should give, built by the tests from the MIB's meaning
    (an oracle apart from the profile files): `add` keeps the first of one series, and
    a second row of the same labels gets " [index]" on its first label, as the
    exporter documents."""

    def __init__(self) -> None:
        self.series: dict[Series, float] = {}

    def add(self, name: str, value: float, index: Index = (), **labels: str) -> None:
        key = (name, frozenset(labels.items()))
        if key in self.series and index:
            first = next(iter(labels))
            labels[first] = f"{labels[first]} [{'.'.join(map(str, index))}]"
            key = (name, frozenset(labels.items()))
        self.series.setdefault(key, value)
