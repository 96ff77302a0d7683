"""The default twin as users rely on it: devices, cabling, shaping, SSH, faults."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from emops.topology.model import LAB_PREFIX
from lab import kernel
from lab.bringup import NFT_TABLE, lab_status, verify_isolation
from lab.faults import Lab, ground_truth
from lab.paths import ground_truth_file
from lab.plan import FABRIC_NS, MGMT_BRIDGE
from lab.processes import device_pid, device_processes, proc_state
from lab.services import service_status
from lab.sshd import ssh_command

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def lab(twin) -> Lab:
    return Lab.attach()


def ssh(address: str, command: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ssh_command(address), command], capture_output=True, text=True, timeout=timeout
    )


def test_every_device_has_its_namespace_runtime_and_sshd(twin, lab):
    present = kernel.netns_list()
    assert set(lab.plan.namespaces) | {FABRIC_NS} <= present
    for device in lab.plan.namespaces:
        assert device_pid(device) is not None, device
        assert service_status(device)["sshd"]["running"], device


def test_links_exist_up_and_addressed_as_the_inventory_says(lab):
    per_ns = {ns: kernel.links(ns) for ns in {*lab.plan.namespaces, FABRIC_NS}}
    per_ns[None] = kernel.links()
    addresses = {
        ns: {
            (i["ifname"], f"{a['local']}/{a['prefixlen']}")
            for i in kernel.addresses(ns)
            for a in i.get("addr_info", [])
            if a["family"] == "inet"
        }
        for ns in lab.plan.namespaces
    }
    for veth in lab.plan.veths:
        for port in (veth.a, veth.b):
            info = per_ns[port.netns][port.ifname]
            assert "UP" in info["flags"], (veth.link, port)
            if port.address:
                assert (port.ifname, str(port.address)) in addresses[port.netns]
        if veth.bridge:
            assert per_ns[veth.b.netns][veth.b.ifname].get("master") == veth.bridge


def test_wan_and_lag_links_are_shaped_at_their_inventory_rate(lab):
    status = lab_status()
    shaped = [link for link in status["links"] if link["rate_bps"]]
    assert {link["link"] for link in shaped} >= {"anping-private", "anping-backup", "hq-core-lag"}
    for link in shaped:
        assert [end["rate_bps"] for end in link["ends"]] == [link["rate_bps"]] * 2, link


def _layer2_rate(lab: Lab, link: str, member: int | None, seconds: float = 4.0) -> float:
    """Push TCP through one link with iperf3 and read the sender's layer-2 byte counter."""
    veth = next(v for v in lab.plan.veths_of(link) if v.member == member)
    server, client = veth.b, veth.a
    srv = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            server.netns,
            "iperf3",
            "-s",
            "-1",
            "-B",
            str(server.address.ip),
            "-p",
            "5301",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        counter = Path(f"/sys/class/net/{client.ifname}/statistics/tx_bytes")

        def tx_bytes() -> int:
            out = subprocess.run(
                ["ip", "netns", "exec", client.netns, "cat", str(counter)],
                capture_output=True,
                text=True,
                check=True,
            )
            return int(out.stdout)

        cli = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                client.netns,
                "iperf3",
                "-c",
                str(server.address.ip),
                "-p",
                "5301",
                "-t",
                str(seconds + 2),
                "-B",
                str(client.address.ip),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # past TCP slow start
        start_bytes, start = tx_bytes(), time.monotonic()
        time.sleep(seconds)
        rate = (tx_bytes() - start_bytes) * 8 / (time.monotonic() - start)
        cli.wait(timeout=30)
        return rate
    finally:
        if srv.poll() is None:
            srv.kill()
        srv.wait()


@pytest.mark.parametrize(
    ("link", "member", "rate"),
    [
        ("anping-backup", 0, 2e6),  # one E1 of a 4 x 2M bundle
        ("changle-private", None, 155e6),
    ],
)
def test_measured_throughput_is_within_10_percent_of_the_rate_at_layer_2(lab, link, member, rate):
    measured = _layer2_rate(lab, link, member)
    assert abs(measured - rate) / rate < 0.10, f"{link}: {measured / 1e6:.2f} Mbit/s"


def test_every_device_answers_ssh_with_its_own_hostname(twin):
    for device, address in twin["devices"].items():
        result = ssh(address, "hostname")
        assert result.stdout.strip() == device, result.stderr


def test_the_twin_cannot_route_out(lab):
    assert verify_isolation(lab.plan) == []
    for ns in lab.plan.namespaces:
        assert not any(r.get("dst") == "default" for r in kernel.routes(ns)), ns
    tables = kernel.run(["nft", "list", "tables"])
    assert f"inet {NFT_TABLE}" in tables
    mgmt = next(b for b in lab.plan.bridges if b.name == MGMT_BRIDGE)
    assert mgmt.address.ip in LAB_PREFIX


def _oper(ns: str, ifname: str) -> tuple[bool, str]:
    info = kernel.links(ns)[ifname]
    return "UP" in info["flags"], info["operstate"]


def test_link_fault_and_repair_reach_the_kernel_and_the_ground_truth(lab):
    before = len(ground_truth())
    lab.link_down("anping-private")
    assert _oper("anping-wan", "private") == (False, "DOWN")
    assert _oper("hq-wan-private", "p-anping")[0] is False
    lab.link_up("anping-private")
    assert _oper("anping-wan", "private")[0] is True
    events = ground_truth()[before:]
    assert [(e["event"], e["kind"], e["target"]) for e in events] == [
        ("fault", "link", "anping-private"),
        ("repair", "link", "anping-private"),
    ]
    assert events[0]["time"] < events[1]["time"]
    assert ground_truth_file().read_text().count("\n") == len(ground_truth())


def test_one_bundle_member_can_fail_alone(lab):
    lab.link_down("anping-backup", member=1)
    try:
        states = {n: _oper("anping-wan", n)[0] for n in ("backup1", "backup2", "backup3")}
        assert states == {"backup1": True, "backup2": False, "backup3": True}
    finally:
        lab.link_up("anping-backup", member=1)
    assert ground_truth()[-2]["member"] == 1


def test_device_down_freezes_it_and_up_restores_it(twin, lab):
    address = twin["devices"]["hq-web2"]
    lab.device_down("hq-web2")
    try:
        pids = device_processes("hq-web2")
        assert pids and all(proc_state(pid) == "T" for pid in pids)
        assert all("UP" not in i["flags"] for n, i in kernel.links("hq-web2").items() if n != "lo")
    finally:
        lab.device_up("hq-web2")
    assert all(proc_state(pid) != "T" for pid in device_processes("hq-web2"))
    assert ssh(address, "hostname").stdout.strip() == "hq-web2"
    assert [e["kind"] for e in ground_truth()[-2:]] == ["device", "device"]


def test_daemon_stop_and_start_by_name(twin, lab):
    address = twin["devices"]["hq-app1"]
    lab.daemon_stop("hq-app1", "sshd")
    assert not service_status("hq-app1")["sshd"]["running"]
    assert ssh(address, "hostname", timeout=15).returncode != 0
    lab.daemon_start("hq-app1", "sshd")
    assert ssh(address, "hostname").stdout.strip() == "hq-app1"
    assert [(e["event"], e.get("daemon")) for e in ground_truth()[-2:]] == [
        ("fault", "sshd"),
        ("repair", "sshd"),
    ]


def test_unknown_fault_targets_are_clear_errors(lab):
    from emops.errors import EmopsError

    with pytest.raises(EmopsError, match="no link 'nowhere'"):
        lab.link_down("nowhere")
    with pytest.raises(EmopsError, match="has no member 9"):
        lab.link_down("anping-backup", member=9)
    with pytest.raises(EmopsError, match="no device 'hq-mainframe'"):
        lab.device_down("hq-mainframe")


def test_cli_status_and_ground_truth(twin):
    out = subprocess.run(
        [".venv/bin/emops", "lab", "status", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    status = json.loads(out)
    assert status["up"] and set(status["devices"]) == set(twin["devices"])
