"""lab up is idempotent, refuses bad input before changing anything, and lab down
leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lab import kernel
from lab.bringup import NFT_TABLE, lab_down, lab_up, read_state
from lab.paths import lab_dir
from lab.plan import FABRIC_NS, MGMT_BRIDGE

pytestmark = pytest.mark.root
ROOT = Path(__file__).resolve().parents[2]
LAB = str(ROOT / "inventory" / "lab")


def emops(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(ROOT / ".venv" / "bin" / "emops"), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120)


def kernel_snapshot() -> tuple[set[str], set[str]]:
    return kernel.netns_list(), set(kernel.links())


def anchors(devices: set[str]) -> list[int]:
    """Anchor processes of these devices still alive."""
    wanted = {f"emops-device:{d}".encode() for d in devices}
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().split(b"\0")[0] in wanted:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_second_up_changes_nothing(twin):
    before = {
        ns: {n: i["ifindex"] for n, i in kernel.links(ns).items()} for ns in twin["namespaces"]
    }
    lab_up(LAB, len(twin["sites"]) - 1, echo=lambda _: None)
    after = {
        ns: {n: i["ifindex"] for n, i in kernel.links(ns).items()} for ns in twin["namespaces"]
    }
    assert after == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lab", "up", "--sites", "0"], "--sites: 0 must be 1 or more"),
        (["lab", "up", "--sites", "13"], "--sites: 13 is out of range"),
        (["lab", "up", "--sites", "x"], "is not a whole number"),
    ],
)
def test_bad_site_counts_are_refused_before_any_change(twin, args, message):
    before = kernel_snapshot()
    result = emops(*args)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert kernel_snapshot() == before


def test_an_inventory_link_to_a_missing_device_is_refused(twin, tmp_path):
    inventory = tmp_path / "lab"
    shutil.copytree(LAB, inventory)
    links = inventory / "group_vars" / "all" / "links.yml"
    data = yaml.safe_load(links.read_text())
    data["links"][0]["b"]["device"] = "hq-core9"
    links.write_text(yaml.safe_dump(data))
    before = kernel_snapshot()
    result = emops("lab", "up", "-i", str(inventory))
    assert result.returncode == 2
    assert "unknown device 'hq-core9'" in result.stderr and "Traceback" not in result.stderr
    assert kernel_snapshot() == before


def test_without_root_it_says_so(twin, monkeypatch, capsys):
    from control.emops_cli import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # an ordinary user
    before = kernel_snapshot()
    assert main(["lab", "up"]) == 2
    assert capsys.readouterr().err.strip() == (
        "emops: error: user: emops lab needs root (network namespaces, veth, tc) "
        "(run it as root, e.g. sudo .venv/bin/emops lab up)"
    )
    assert kernel_snapshot() == before


def test_down_removes_everything_even_half_built(twin):
    sites = len(twin["sites"]) - 1
    namespaces = set(twin["namespaces"])
    try:
        lab_down(LAB, echo=lambda _: None)
        left = kernel.netns_list() & namespaces
        host_links = kernel.links()
        assert left == set()
        assert MGMT_BRIDGE not in host_links
        assert not [n for n in host_links if n.startswith("mg") and n[2:].isdigit()]
        assert f"inet {NFT_TABLE}" not in kernel.run(["nft", "list", "tables"])
        assert not lab_dir().exists()
        assert anchors(namespaces) == []

        # a half-built twin (crash after the namespaces, before links): down cleans it too
        kernel.ip_batch(f"netns add {ns}" for ns in ("hq-core1", "hq-fw", FABRIC_NS))
        lab_down(LAB, echo=lambda _: None)
        assert kernel.netns_list() & namespaces == set()
    finally:
        lab_up(LAB, sites, echo=lambda _: None)  # leave the session's twin as it found it
    assert read_state() is not None
    assert os.path.exists(lab_dir() / "limit")
