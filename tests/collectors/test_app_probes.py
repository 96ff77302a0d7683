"""HTTP probes against the real marketing service on loopback, and against broken servers."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from app_fakes import FakeServer, collect, runner_for, web_target
from marketing.conftest import Service

from collectors.app.targets import AppPlan, HttpTarget
from collectors.app.vantage import AgentVantage, LocalVantage
from lab.marketing.app import Config
from lab.postgres_local import free_port

ROOT = Path(__file__).resolve().parents[2]
PROBE = "emops_probe_success"
LATENCY = "emops_probe_duration_seconds"


@pytest.fixture(scope="module")
def marketing(start_service: Callable[[Config], Service], primary_dsn: str) -> Service:
    return start_service(Config(dsn=primary_dsn))


@pytest.fixture(scope="module")
def broken() -> Iterator[dict[str, FakeServer]]:
    """One fake server per way of answering wrongly."""
    servers = {m: FakeServer(m).start() for m in ("mismatch", "status500", "other_customer")}
    yield servers
    for server in servers.values():
        server.stop()


def labels(target: str, site: str = "hq") -> dict[str, str]:
    return {"service": "marketing", "target": target, "site": site}


def test_vip_and_servers_probed_with_checksum(marketing: Service, unused_port: int) -> None:
    """The service answers with a valid checksum: success, one latency sample each."""
    plan = AppPlan(
        vip_probes=(web_target("vip", marketing.port),),
        server_probes=(web_target("hq-web1", marketing.port), web_target("hq-web2", unused_port)),
    )
    registry = collect(runner_for(plan), rounds=2)
    get = registry.get_sample_value
    assert get(PROBE, labels("vip")) == 1
    assert get(PROBE, labels("hq-web1")) == 1
    assert get(f"{LATENCY}_count", labels("vip")) == 2
    assert get(f"{LATENCY}_bucket", labels("vip") | {"le": "5.0"}) == 2
    assert 0 < get(f"{LATENCY}_sum", labels("vip")) < 5
    # the dead server is down alone, and counted as slow (only in +Inf)
    assert get(PROBE, labels("hq-web2")) == 0
    assert get(f"{LATENCY}_bucket", labels("hq-web2") | {"le": "+Inf"}) == 2
    assert get(f"{LATENCY}_bucket", labels("hq-web2") | {"le": "5.0"}) == 0
    assert get("emops_collector_up", {"collector": "probe", "target": "host"}) == 1
    errors = {"collector": "probe", "target": "host", "reason": "connect"}
    assert get("emops_collector_errors_total", errors) == 2


def test_wrong_answers_are_failures(broken: dict[str, FakeServer], marketing: Service) -> None:
    """A checksum mismatch, a 500 and another customer's record all fail the probe."""
    wrong = [web_target(mode, server.port) for mode, server in broken.items()]
    plan = AppPlan(server_probes=(*wrong, web_target("good", marketing.port)))
    get = collect(runner_for(plan)).get_sample_value
    for mode in broken:
        assert get(PROBE, labels(mode)) == 0, mode
    assert get(PROBE, labels("good")) == 1
    for mode, reason in (
        ("mismatch", "checksum"),
        ("status500", "status"),
        ("other_customer", "wrong_answer"),
    ):
        key = {"collector": "probe", "target": "host", "reason": reason}
        assert get("emops_collector_errors_total", key) == 1, mode


def test_probe_through_an_agent(marketing: Service, broken: dict[str, FakeServer]) -> None:
    """The same probes from an agent process over JSON lines (here in this namespace)."""
    agent = AgentVantage("anping-client", "anping", production=False, argv_prefix=[])
    plan = AppPlan(
        vip_probes=(web_target("vip", marketing.port),),
        server_probes=(web_target("hq-web1", broken["mismatch"].port),),
    )
    get = collect(runner_for(plan, probe_from=[agent], direct=agent)).get_sample_value
    assert get(PROBE, labels("vip", "anping")) == 1
    assert get(PROBE, labels("hq-web1", "anping")) == 0
    assert get(f"{LATENCY}_count", labels("vip", "anping")) == 1
    assert get("emops_collector_up", {"collector": "probe", "target": "anping-client"}) == 1
    assert agent.pid is None  # closed with the runner


def test_broken_vantage_is_a_signal(marketing: Service) -> None:
    """An agent that cannot start: probes fail, the vantage point is reported down."""
    dead = AgentVantage("anping-client", "anping", False, ["/nonexistent/emops-no-such-tool"])
    plan = AppPlan(vip_probes=(web_target("vip", marketing.port),))
    get = collect(runner_for(plan, probe_from=[dead])).get_sample_value
    assert get(PROBE, labels("vip", "anping")) == 0
    assert get("emops_collector_up", {"collector": "probe", "target": "anping-client"}) == 0
    assert get(f"{LATENCY}_count", labels("vip", "anping")) is None  # nothing was sent


def test_safety_refuses_outside_addresses() -> None:
    """Outside loopback and the lab nothing is sent, from this process or an agent."""
    plan = AppPlan(vip_probes=(replace(web_target("vip", 80), host="192.0.2.10"),))
    local = LocalVantage("hq", production=False)
    get = collect(runner_for(plan, probe_from=[local])).get_sample_value
    assert get(PROBE, labels("vip")) == 0
    assert get(f"{LATENCY}_count", labels("vip")) is None
    key = {"collector": "probe", "target": "host", "reason": "not_lab"}
    assert get("emops_collector_errors_total", key) == 1
    agent = AgentVantage("a", "x", production=False, argv_prefix=[])
    assert agent.refuse("192.0.2.10") == "not_lab"
    assert agent.refuse("198.18.100.10") is None
    assert local.refuse("198.18.100.10") in ("unroutable", None)  # None only with a route


@pytest.fixture(scope="module")
def cti_standin() -> Iterator[int]:
    """The twin's CTI stand-in (lab.standin), a real process on loopback."""
    port = free_port()  # a TCP port
    argv = [sys.executable, "-m", "lab.standin", "--name", "cti", "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the stand-in did not answer within 20 s"
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def service_target(service: str, device: str, port: int, path: str = "/") -> HttpTarget:
    return HttpTarget(service, device, "127.0.0.1", port, path, device)


def test_each_servers_own_service_is_named_up_or_down(
    marketing: Service, cti_standin: int, broken: dict[str, FakeServer], unused_port: int
) -> None:
    """Up: the marketing service's health route and the CTI stand-in; down: a server that
    answers 500 and one that is not listening. Each named by service and device."""
    plan = AppPlan(
        services=(
            service_target("app", "hq-app1", marketing.port, "/healthz"),
            service_target("cti", "hq-cti1", cti_standin),
            service_target("stats", "hq-stats1", broken["status500"].port, "/healthz"),
            service_target("interface", "hq-uif1", unused_port),
        )
    )
    get = collect(runner_for(plan)).get_sample_value
    up = "emops_service_up"
    assert get(up, {"service": "app", "device": "hq-app1"}) == 1
    assert get(up, {"service": "cti", "device": "hq-cti1"}) == 1
    assert get(up, {"service": "stats", "device": "hq-stats1"}) == 0
    assert get(up, {"service": "interface", "device": "hq-uif1"}) == 0
    # a down service is a measurement, not a collector failure
    assert get("emops_collector_up", {"collector": "service", "target": "hq-uif1"}) == 1


def test_a_service_behind_a_broken_vantage_is_unknown_not_down(marketing: Service) -> None:
    dead = AgentVantage("hq-app1", "hq", False, ["/nonexistent/emops-no-such-tool"])
    plan = AppPlan(services=(service_target("app", "hq-app1", marketing.port, "/healthz"),))
    get = collect(runner_for(plan, direct=dead)).get_sample_value
    assert get("emops_service_up", {"service": "app", "device": "hq-app1"}) is None
    assert get("emops_collector_up", {"collector": "service", "target": "hq-app1"}) == 0
