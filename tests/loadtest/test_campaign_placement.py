"""Worker placement from the twin's state, fault targets, and the runner's process plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest

from emops.errors import EmopsError
from lab.bringup import load_lab
from loadtest.campaign import FaultSpec, Workers, load_campaign
from loadtest.placement import (
    WorkerSpot,
    local_workers,
    master_host,
    service_url,
    twin_workers,
    worker_command,
)
from loadtest.runner import (
    LabInjector,
    RunSetup,
    check_fault_targets,
    locust_env,
    master_argv,
    worker_argv,
)


@pytest.fixture(scope="module")
def lab3():
    return load_lab("inventory/lab", 3)


def test_one_worker_per_client_namespace_that_is_up(lab3) -> None:
    topo, plan = lab3
    state = {"namespaces": list(plan.namespaces)}
    spots = twin_workers(Workers(), topo, state)
    assert spots == [
        WorkerSpot("anping", "anping-client", "anping"),
        WorkerSpot("baishan", "baishan-client", "baishan"),
        WorkerSpot("changle", "changle-client", "changle"),
    ]
    half_up = {"namespaces": [n for n in plan.namespaces if n != "baishan-client"]}
    assert [s.site for s in twin_workers(Workers(per_client=2), topo, half_up)] == [
        "anping"
    ] * 2 + ["changle"] * 2
    with pytest.raises(EmopsError, match="no <city>-client namespace up"):
        twin_workers(Workers(), topo, {"namespaces": []})


def test_master_binds_where_the_clients_reach_it(lab3) -> None:
    topo, _ = lab3
    assert master_host(None) == "127.0.0.1"
    assert master_host(topo) == "198.19.255.1"
    assert service_url(topo, "marketing") == "http://198.18.100.10:80"
    with pytest.raises(EmopsError, match="no service 'billing'"):
        service_url(topo, "billing")


def test_worker_commands_enter_their_namespace() -> None:
    base = ["python", "-m", "locust"]
    assert worker_command(WorkerSpot("anping", "anping-client"), base) == [
        "ip", "netns", "exec", "anping-client", "python", "-m", "locust",
    ]  # fmt: skip
    assert worker_command(WorkerSpot("local1"), base) == base
    assert [s.label for s in local_workers(Workers(local=3))] == ["local1", "local2", "local3"]


def test_paper_faults_exist_in_the_default_twin(lab3) -> None:
    _, plan = lab3
    check_fault_targets(load_campaign("paper"), plan)


def test_missing_fault_targets_are_named(lab3) -> None:
    import dataclasses

    _, plan = lab3
    c = load_campaign("paper")
    faults = list(c.faults)
    faults[0] = dataclasses.replace(faults[0], target="qinghe-private")
    faults[1] = dataclasses.replace(faults[1], target="hq-web9")
    with pytest.raises(EmopsError) as err:
        check_fault_targets(dataclasses.replace(c, faults=tuple(faults)), plan)
    text = str(err.value)
    assert "faults[1].target: the twin has no device hq-web9" in text
    assert "faults[0].target: the twin has no link qinghe-private" in text


class FakeLab:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name, *args)) or {"op": name}


def test_lab_injector_maps_kinds_to_the_fault_api() -> None:
    lab = FakeLab()
    injector = LabInjector(lab)
    for spec in load_campaign("paper").faults:
        injector.inject(spec)
        injector.repair(spec)
    assert lab.calls == [
        ("link_down", "anping-private", None), ("link_up", "anping-private", None),
        ("device_down", "hq-web1"), ("device_up", "hq-web1"),
        ("daemon_stop", "hq-db2", "postgresql"), ("daemon_start", "hq-db2", "postgresql"),
        ("device_down", "hq-lb1"), ("device_up", "hq-lb1"),
        ("device_down", "hq-core1"), ("device_up", "hq-core1"),
    ]  # fmt: skip


def test_health_faults_of_vendor_faced_devices_reach_the_lab() -> None:
    lab = FakeLab()
    injector = LabInjector(lab)
    for kind in ("cpu-high", "overheat", "optics-degrade", "psu-fail"):
        spec = FaultSpec(kind, 10.0, 20.0, kind, "hq-core1")
        injector.inject(spec)
        injector.repair(spec)
    assert lab.calls[:4] == [
        ("health_fault", "hq-core1", "cpu-high"), ("health_restore", "hq-core1", "cpu-high"),
        ("health_fault", "hq-core1", "overheat"), ("health_restore", "hq-core1", "overheat"),
    ]  # fmt: skip
    assert len(lab.calls) == 8


def test_locust_command_lines(tmp_path: Path) -> None:
    c = load_campaign("smoke")
    spots = [WorkerSpot("anping", "anping-client")]
    setup = RunSetup(c, "http://198.18.100.10:80", spots, "198.19.255.1", None, 2000)
    argv = master_argv(setup, tmp_path, 5557)
    assert argv[argv.index("--master-bind-host") + 1] == "198.19.255.1"
    assert argv[argv.index("--expect-workers") + 1] == "1"
    assert "--headless" in argv and argv[argv.index("--host") + 1] == "http://198.18.100.10:80"
    w = worker_argv(setup, spots[0], 5557, tmp_path)
    assert w[:4] == ["ip", "netns", "exec", "anping-client"] and "--worker" in w
    alone = master_argv(RunSetup(c, "http://127.0.0.1:1", [], "127.0.0.1", None, 10), tmp_path, 1)
    assert "--master" not in alone
    env = locust_env(setup, tmp_path)
    assert env["EMOPS_CUSTOMERS"] == "2000" and "EMOPS_PRODUCTION" not in env
    assert env["EMOPS_RECORDS_DIR"] == str(tmp_path.resolve())
    setup.production = True
    assert locust_env(setup, tmp_path)["EMOPS_PRODUCTION"] == "1"
