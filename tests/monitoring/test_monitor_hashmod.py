"""hashmod: the Python function agrees with Prometheus' definition, and with Prometheus itself."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import time
import urllib.request

import pytest
import yaml
from monitor_helpers import ROOT, free_port, tool

from emops.monitoring import devices_of_shard, hashmod, shard_port
from emops.monitoring.hashmod import hashmod_labels
from emops.topology import load_topology


def reference(value: str, modulus: int) -> int:
    """Prometheus' relabel.go, spelled out independently: md5, last 8 bytes, big-endian."""
    digest = hashlib.md5(value.encode()).digest()
    (tail,) = struct.unpack(">Q", digest[8:16])
    return tail % modulus


@pytest.mark.parametrize("modulus", [1, 2, 3, 4, 7, 16, 1000])
def test_matches_the_definition_for_every_lab_device(modulus):
    for device in load_topology(ROOT / "inventory" / "lab").devices:
        assert hashmod(device, modulus) == reference(device, modulus)


def test_known_values():
    # md5("") = d41d8cd98f00b204e9800998ecf8427e: last 8 bytes e9800998ecf8427e
    assert hashmod("", 2**64 - 1) == 0xE9800998ECF8427E % (2**64 - 1)
    assert hashmod("hq-core1", 1) == 0
    assert hashmod_labels(["a", "b"], 5) == hashmod("a;b", 5)


def test_rejects_a_zero_modulus():
    with pytest.raises(ValueError):
        hashmod("x", 0)


def test_shards_partition_the_devices_and_have_distinct_ports():
    devices = list(load_topology(ROOT / "inventory" / "province").devices)
    shards = [devices_of_shard(devices, k, 4) for k in range(4)]
    assert sorted(d for s in shards for d in s) == sorted(devices)
    assert all(shards), "4 shards over the province should all get devices"
    ports = [shard_port(k) for k in range(8)]
    assert ports[0] == 9610 and len(set(ports)) == 8
    assert not {9611, 9612} & set(ports), "app collector and alert sink keep their ports"


@pytest.mark.slow
def test_prometheus_itself_assigns_the_same_shards(tmp_path):
    """Start the real Prometheus with hashmod relabelling and read its targets' labels."""
    binary = tool("prometheus")
    devices = sorted(str(d) for d in load_topology(ROOT / "inventory" / "lab").devices)
    modulus = 5
    config = {
        "global": {"scrape_interval": "1h"},
        "scrape_configs": [
            {
                "job_name": "hash",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{i + 1}"], "labels": {"device": d}}
                    for i, d in enumerate(devices)
                ],
                "relabel_configs": [
                    {
                        "source_labels": ["device"],
                        "modulus": modulus,
                        "target_label": "shard",
                        "action": "hashmod",
                    }
                ],
            }
        ],
    }
    (tmp_path / "p.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'p.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        targets = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(targets) < len(devices):
            try:
                url = f"http://127.0.0.1:{port}/api/v1/targets?state=active"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    targets = json.load(resp)["data"]["activeTargets"]
            except OSError:
                pass
            time.sleep(0.2)
        got = {t["labels"]["device"]: int(t["labels"]["shard"]) for t in targets}
        assert got == {d: hashmod(d, modulus) for d in devices}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
