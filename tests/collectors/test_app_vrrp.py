"""VRRP master detection from the addresses two real namespaces hold, and probes from inside one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from app_fakes import collect, registry_of, runner_for, web_target

from collectors.app.runner import AppRunner
from collectors.app.store import Store
from collectors.app.targets import AppPlan, VrrpInstance
from collectors.app.vantage import LocalVantage, NamespaceVantage
from collectors.app.vrrp import NetnsAddresses, masters, parse_ip_addr

ADDRESS = "198.18.254.1"
MASTER = "emops_vrrp_master"
HERE = Path(__file__).resolve().parent


def test_masters_is_a_pure_function_of_addresses() -> None:
    pair = VrrpInstance("marketing", "hq-lb", "198.18.100.10", ("hq-lb1", "hq-lb2"))
    held = {"hq-lb1": frozenset({"198.18.100.10", "198.18.100.11"})}  # hq-lb2 unknown
    assert list(masters((pair,), held)) == [("hq-lb1", "marketing", "hq-lb", 1.0)]
    held["hq-lb2"] = frozenset({"198.18.100.10"})  # split brain is visible as two 1s
    assert [m[-1] for m in masters((pair,), held)] == [1.0, 1.0]
    out = b'[{"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"addr_info":'
    out += b'[{"family":"inet","local":"127.0.0.1"},{"family":"inet6","local":"::1"}]},'
    out += b'{"ifname":"eth0","flags":["UP","LOWER_UP"],"addr_info":[]},'
    out += b'{"ifname":"eth1","flags":["BROADCAST","NO-CARRIER","UP"],'  # cable out
    out += b'"addr_info":[{"family":"inet","local":"198.18.100.10"}]}]'
    assert parse_ip_addr(out) == frozenset({"127.0.0.1"})


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def vrrp_runner(devices: tuple[str, ...]) -> AppRunner:
    plan = AppPlan(vrrp=(VrrpInstance("t-gw", "t-seg", ADDRESS, devices),))
    local = LocalVantage("hq", production=False)
    return AppRunner(plan, Store(), [], lambda _d: local, NetnsAddresses(), timeout=2.0)


def test_master_follows_the_address(vrrp_netns: tuple[str, str]) -> None:
    """The address moves from one namespace to the other; so does the master. A device whose
    namespace is missing is reported, without a master sample, and the others still count."""
    one, two = vrrp_netns
    gone = "emops-t-vrrp3"  # never created
    ip("-n", one, "addr", "add", f"{ADDRESS}/24", "dev", "vrrp0")
    runner = vrrp_runner((one, two, gone))
    get = collect(runner).get_sample_value
    labels = {"instance": "t-gw", "segment": "t-seg"}
    assert get(MASTER, labels | {"device": one}) == 1
    assert get(MASTER, labels | {"device": two}) == 0
    assert get(MASTER, labels | {"device": gone}) is None
    assert get("emops_collector_up", {"collector": "vrrp", "target": gone}) == 0
    key = {"collector": "vrrp", "target": gone, "reason": "no_netns"}
    assert get("emops_collector_errors_total", key) == 1
    assert get("emops_collector_up", {"collector": "vrrp", "target": one}) == 1

    ip("-n", one, "addr", "del", f"{ADDRESS}/24", "dev", "vrrp0")
    ip("-n", two, "addr", "add", f"{ADDRESS}/24", "dev", "vrrp0")
    get = collect(runner).get_sample_value
    assert get(MASTER, labels | {"device": one}) == 0
    assert get(MASTER, labels | {"device": two}) == 1

    # a device taken down keeps the address in its kernel, on a link that is down
    ip("-n", one, "addr", "add", f"{ADDRESS}/24", "dev", "vrrp0")
    ip("-n", one, "link", "set", "vrrp0", "down")
    get = collect(runner).get_sample_value
    assert get(MASTER, labels | {"device": one}) == 0, "a down link answers no ARP"
    assert get(MASTER, labels | {"device": two}) == 1


async def probe_until_success(runner: AppRunner, site: str, seconds: float = 15) -> None:
    """Rounds until the probe from `site` succeeds (the server in the namespace is up)."""
    key = ("marketing", "vip", site)
    deadline = time.monotonic() + seconds
    try:
        while not runner.store.probe_success.get(key) and time.monotonic() < deadline:
            await runner.collect_once()
            await asyncio.sleep(0.1)
    finally:
        await runner.close()


def test_probe_from_inside_a_namespace(vrrp_netns: tuple[str, str], unused_port: int) -> None:
    """An agent started with `ip netns exec` probes what only that namespace can reach."""
    one, _ = vrrp_netns
    port = unused_port
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    fake = [sys.executable, str(HERE / "app_fakes.py"), "--port", str(port)]
    server = subprocess.Popen(["ip", "netns", "exec", one, *fake], env=env)
    inside = NamespaceVantage(one, "anping")
    plan = AppPlan(vip_probes=(web_target("vip", port),))
    runner = runner_for(plan, probe_from=[inside, LocalVantage("hq", False)])
    try:
        asyncio.run(probe_until_success(runner, "anping"))
    finally:
        server.terminate()  # our own child, by its pid
        server.wait(10)
    get = registry_of(runner).get_sample_value
    probe = {"service": "marketing", "target": "vip"}
    assert get("emops_probe_success", probe | {"site": "anping"}) == 1
    assert get("emops_collector_up", {"collector": "probe", "target": one}) == 1
    # the same address and port from this process's namespace: nothing listens there
    assert get("emops_probe_success", probe | {"site": "hq"}) == 0

    gone = NamespaceVantage("emops-t-vrrp3", "baishan")
    get = collect(runner_for(plan, probe_from=[gone])).get_sample_value
    assert get("emops_probe_success", probe | {"site": "baishan"}) == 0
    assert get("emops_collector_up", {"collector": "probe", "target": "emops-t-vrrp3"}) == 0
    key = {"collector": "probe", "target": "emops-t-vrrp3", "reason": "no_netns"}
    assert get("emops_collector_errors_total", key) == 1
