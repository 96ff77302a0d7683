"""site.yml turns the bare twin into the working province network, and it holds up.

One provisioning per module: site.yml (failed=0, unreachable=0 everywhere),
again (changed=0 everywhere), then --check --diff (no change, no failure).
Then what a user of the network sees: municipal clients get correct data
through their WAN link, the firewall and the load balancer's VIP; the firewall
blocks what it must; VRRP, WAN, load-balancer, web-server and database
failover within the bounds of the design. Every fault is repaired.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emops.marketing_contract import HEADER, header_value
from lab import kernel
from lab.faults import Lab
from lab.processes import exec_in_device

from .kit import MEASURED, ROOT, VIP, clients, curl, netns, wait_for_service

pytestmark = [pytest.mark.root, pytest.mark.slow]
PROBE = str(Path(__file__).with_name("netprobe.py"))


@pytest.fixture(scope="module")
def lab(provisioned) -> Lab:
    return Lab.attach()


def probe(ns: str, *args: str) -> subprocess.Popen[str]:
    """Start netprobe.py inside a namespace; .communicate() gives its JSON."""
    argv = ["ip", "netns", "exec", ns, sys.executable, PROBE, *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc: subprocess.Popen[str], timeout: float = 60) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out)


def tcp_open(ns: str, host: str, port: int, timeout: float = 2) -> bool:
    code = f"import socket; socket.create_connection(('{host}', {port}), timeout={timeout})"
    return netns(ns, sys.executable, "-c", code, timeout=timeout + 10).returncode == 0


def sql(device: str, query: str, db: str = "marketing") -> str:
    argv = ["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql"]
    argv += ["-h", "/run/postgresql", "-d", db, "-v", "ON_ERROR_STOP=1", "-qtAc", query]
    done = exec_in_device(device, argv, capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def healthy(provisioned) -> dict:
    """Each failover test starts from a healthy service (the last one's repair settled)."""
    wait_for_service(clients=tuple(clients(provisioned)))
    return provisioned


def vrrp_holder(address: str, devices: tuple[str, ...]) -> list[str]:
    """Which of the devices currently hold this virtual address."""
    holders = []
    for dev in devices:
        for iface in kernel.addresses(dev):
            if any(a.get("local") == address for a in iface.get("addr_info", [])):
                holders.append(dev)
    return holders


def wait_for(check, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def fw_counter(flow: str) -> int:
    out = netns("hq-fw", "nft", "list", "chain", "inet", "emops_fw", "forward").stdout
    for line in out.splitlines():
        if f'comment "{flow}"' in line:
            return int(re.search(r"packets (\d+)", line).group(1))
    raise AssertionError(f"no rule for flow {flow}")


# --- the service, end to end --------------------------------------------------------------


def test_every_city_gets_correct_data_through_wan_firewall_and_vip(provisioned):
    before = fw_counter("city-users-to-marketing")
    for client in clients(provisioned):
        city = client.removesuffix("-client")
        route = netns(f"{city}-wan", "ip", "route", "get", VIP).stdout
        assert " dev private " in route, f"{city} reaches HQ over its private link: {route}"
        for customer in (1, 4242, 99_999):
            status, headers, body = curl(client, f"http://{VIP}/customers/{customer}")
            assert status == 200, body
            row = json.loads(
                sql(
                    "hq-db1",
                    "SELECT row_to_json(c) FROM (SELECT id, name, city, county, address, "
                    f"meter_id, tariff, balance_fen FROM customers WHERE id = {customer}) c",
                )
            )
            assert json.loads(body)["data"] == row
            assert headers[HEADER.lower()] == header_value(row), "checksum = ground truth"
    assert fw_counter("city-users-to-marketing") > before, "the firewall flow carried them"


def test_firewall_allows_the_flows_and_blocks_the_rest(provisioned):
    assert not tcp_open("anping-client", "198.18.130.11", 5432), "client -> database"
    assert not tcp_open("anping-client", "198.18.110.11", 80), "client -> web server, past the LB"
    assert not tcp_open("anping-client", "198.18.120.11", 8080), "client -> app server"
    assert not tcp_open("hq-web1", "198.18.130.11", 5432), "web tier -> database"
    assert tcp_open("hq-app1", "198.18.130.11", 5432), "app -> database is allowed"
    assert tcp_open("hq-stats1", "198.18.130.12", 5432), "stats -> standby is allowed"
    assert tcp_open("anping-client", "198.18.160.11", 5038), "agents -> CTI is allowed"
    status, _h, body = curl("anping-client", "http://198.18.160.11:5038/")
    assert status == 200 and json.loads(body)["service"] == "cti"


def test_snmpv3_agent_answers_on_the_management_address(provisioned):
    from emops.secrets import Decryptor, password_file
    from emops.topology import load_topology

    inventory = ROOT / "inventory" / "lab"
    topo = load_topology(inventory)
    dev = topo.devices["hq-core1"]
    snmp = Decryptor(password_file(inventory)).render(dict(dev.vars["snmp"]), dev.vars)
    argv = ["snmpget", "-v3", "-l", "authPriv", "-u", snmp["user"], "-a", "SHA"]
    argv += ["-A", snmp["auth_password"], "-x", "AES", "-X", snmp["priv_password"]]
    argv += ["-On", "-t", "2", "-r", "1", str(dev.mgmt_address), "1.3.6.1.2.1.1.5.0"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    assert "hq-core1" in done.stdout, done.stderr
    v2c = ["snmpget", "-v2c", "-c", "public", "-t", "1", "-r", "0", str(dev.mgmt_address)]
    assert (
        "hq-core1"
        not in subprocess.run(
            [*v2c, "1.3.6.1.2.1.1.5.0"], capture_output=True, text=True, timeout=20
        ).stdout
    ), "no v2c where snmp_v2c is not set"


def test_haproxy_exports_prometheus_metrics_on_the_management_address(provisioned):
    import urllib.request

    with urllib.request.urlopen("http://198.19.255.16:8404/metrics", timeout=5) as resp:
        text = resp.read().decode()
    up = re.findall(r'haproxy_server_status\{proxy="marketing_web",server="(hq-web\d)"', text)
    assert sorted(set(up)) == ["hq-web1", "hq-web2", "hq-web3", "hq-web4"]


# --- failover -----------------------------------------------------------------------------


def test_core_switch_failure_moves_vrrp_within_a_second(healthy, lab):
    cores = ("hq-core1", "hq-core2")
    assert vrrp_holder("198.18.110.1", cores) == ["hq-core1"]
    ping = probe("hq-web1", "icmp", "198.18.110.1", "--interval", "0.02", "--duration", "9")
    time.sleep(1.5)
    lab.device_down("hq-core1")
    try:
        wait_for(lambda: vrrp_holder("198.18.110.1", ("hq-core2",)), 3, "core2 to take VRRP")
        status, _h, _b = curl("anping-client", f"http://{VIP}/customers/7")
        assert status == 200, "core2 alone carries the clients' traffic"
        time.sleep(max(0.0, 4.5 - 1.5))
    finally:
        lab.device_up("hq-core1")
    wait_for(lambda: vrrp_holder("198.18.110.1", cores) == ["hq-core1"], 5, "preemption")
    outages = result(ping)
    MEASURED["vrrp_failover_s"] = [o["s"] for o in outages["outages"]]
    assert outages["answered"] > 0 and outages["outage_s"] < 1.0, outages
    status, _h, _b = curl("anping-client", f"http://{VIP}/customers/7")
    assert status == 200, "back on core1"


def _backup_tx(city: str) -> int:
    links = kernel.links(f"{city}-wan")
    total = 0
    for name in links:
        if name.startswith("backup"):
            stats = netns(f"{city}-wan", "cat", f"/sys/class/net/{name}/statistics/tx_packets")
            total += int(stats.stdout)
    return total


def test_wan_private_link_cut_moves_traffic_to_the_backup_bundle_and_back(healthy, lab):
    ping = probe("anping-client", "icmp", VIP, "--interval", "0.02", "--duration", "12")
    time.sleep(1.5)
    lab.link_down("anping-private")
    try:
        route = wait_for(
            lambda: (
                (r := netns("anping-wan", "ip", "route", "show", "198.18.100.0/24").stdout)
                and "backup" in r
                and r
            ),
            5,
            "the route to move to the backup bundle",
        )
        assert all(f"dev backup{i}" in route for i in range(1, 5)), f"ECMP over members: {route}"
        before = _backup_tx("anping")
        status, _h, _b = curl("anping-client", f"http://{VIP}/customers/11", timeout=10)
        assert status == 200
        assert _backup_tx("anping") > before, "the request crossed the backup members"
    finally:
        lab.link_up("anping-private")
    start = time.monotonic()
    wait_for(
        lambda: "dev private" in netns("anping-wan", "ip", "route", "get", VIP).stdout,
        15,
        "the route to come back to the private link",
    )
    MEASURED["wan_repair_s"] = round(time.monotonic() - start, 2)
    outages = result(ping)
    MEASURED["wan_outages_s"] = [o["s"] for o in outages["outages"]]
    assert outages["answered"] > 0 and outages["outage_s"] < 2.0, outages


def _loop(client: str, seconds: float) -> subprocess.Popen[str]:
    url = f"http://{VIP}/customers/123"
    return probe(client, "http", url, "--duration", str(seconds), "--timeout", "2")


def test_active_load_balancer_failure_loses_a_handful_of_requests(healthy, lab):
    lbs = ("hq-lb1", "hq-lb2")
    assert vrrp_holder(VIP, lbs) == ["hq-lb1"]
    loop = _loop("baishan-client", 10)
    time.sleep(2)
    lab.device_down("hq-lb1")
    try:
        wait_for(lambda: vrrp_holder(VIP, ("hq-lb2",)), 3, "hq-lb2 to take the VIP")
        time.sleep(2)
    finally:
        lab.device_up("hq-lb1")
    wait_for(lambda: vrrp_holder(VIP, lbs) == ["hq-lb1"], 5, "the VIP back on hq-lb1")
    out = result(loop)
    MEASURED["lb_failover_lost"] = f"{out['failed']}/{out['requests']}"
    assert out["requests"] > 20 and out["failed"] <= 5, out


def test_web_server_crash_loses_a_handful_of_requests(healthy, lab):
    loop = _loop("changle-client", 8)
    time.sleep(1.5)
    lab.daemon_stop("hq-web2", "nginx", kill=True)
    try:
        time.sleep(2.5)
    finally:
        lab.daemon_start("hq-web2", "nginx")
    out = result(loop)
    MEASURED["web_crash_lost"] = f"{out['failed']}/{out['requests']}"
    assert out["requests"] > 20 and out["failed"] <= 5, out


def test_standby_follows_the_primary(provisioned):
    sql("hq-db1", "CREATE TABLE IF NOT EXISTS emops_replication_probe (id serial PRIMARY KEY)")
    start = time.monotonic()
    row = sql("hq-db1", "INSERT INTO emops_replication_probe DEFAULT VALUES RETURNING id")
    seen = wait_for(
        lambda: (
            sql("hq-db2", f"SELECT count(*) FROM emops_replication_probe WHERE id = {row}") == "1"
        ),
        5,
        "the row on the standby",
        step=0.02,
    )
    MEASURED["replication_s"] = round(time.monotonic() - start, 3)
    assert seen and MEASURED["replication_s"] < 2
    assert sql("hq-db2", "SELECT pg_is_in_recovery()") == "t"
    status = sql("hq-db1", "SELECT state FROM pg_stat_replication WHERE application_name='hq_db2'")
    assert status == "streaming"


def test_statistics_read_the_standby_only(provisioned):
    from emops.marketing_contract import verify_export

    url = "http://198.18.140.11:8080/reports/export?city=anping"
    argv = ["ip", "netns", "exec", "hq-stats1", "curl", "-s", "-m", "30", "-D", "/dev/stderr", url]
    done = subprocess.run(argv, capture_output=True, timeout=40)
    head = done.stderr.decode().lower()
    assert head.startswith("http/1.1 200"), head
    assert "x-emops-source: replica" in head
    _csv, rows = verify_export(done.stdout)
    assert rows > 1000
    query = "SELECT count(*) FROM pg_stat_activity WHERE client_addr = '198.18.140.11'"
    assert int(sql("hq-db2", query)) > 0, "the stats server reads the standby"
    assert int(sql("hq-db1", query)) == 0, "and never the primary"
