"""The twin's plan (no root needed): what `lab up` will make from the lab inventory."""

from __future__ import annotations

from ipaddress import IPv4Interface

import pytest
from testkit import LAB, PROVINCE

from emops.errors import EmopsError
from emops.topology import load_topology
from emops.topology.model import LAB_PREFIX
from lab.plan import FABRIC_NS, MGMT_BRIDGE, plan_lab


@pytest.fixture(scope="module")
def lab_topology():
    return load_topology(LAB)


def test_default_twin_is_hq_and_three_cities(lab_topology):
    plan = plan_lab(lab_topology.subset(3))
    assert plan.sites == ("hq", "anping", "baishan", "changle")
    assert len(plan.namespaces) == 18 + 3 * 2  # HQ devices + (router, client) per city
    assert "anping-client" in plan.namespaces and "dongtai-wan" not in plan.namespaces


def test_every_inventory_link_and_member_is_a_veth(lab_topology):
    topo = lab_topology.subset(12)
    plan = plan_lab(topo)
    for link in topo.links:
        veths = plan.veths_of(link.name)
        assert len(veths) == max(1, len(link.members)), link.name
        if link.role in ("primary", "backup", "lag"):
            assert {v.rate_bps for v in veths} == {link.rate_bps}
        else:
            assert {v.rate_bps for v in veths} == {None}


def test_backup_bundle_members_are_parallel_shaped_pairs(lab_topology):
    plan = plan_lab(lab_topology.subset(1))
    members = plan.veths_of("anping-backup")
    assert [v.member for v in members] == [0, 1, 2, 3]
    assert all(v.rate_bps == 2e6 for v in members)
    assert [v.b.ifname for v in members] == ["backup1", "backup2", "backup3", "backup4"]
    assert all(v.a.address.network == v.b.address.network for v in members)


def test_segments_are_bridges_in_the_fabric_namespace(lab_topology):
    topo = lab_topology.subset(3)
    plan = plan_lab(topo)
    fabric = [b for b in plan.bridges if b.netns == FABRIC_NS]
    assert len(fabric) == len(topo.segments)
    web = plan.veths_of("hq-web")
    assert {v.a.netns for v in web} == {
        "hq-core1",
        "hq-core2",
        "hq-web1",
        "hq-web2",
        "hq-web3",
        "hq-web4",
    }
    assert all(v.b.netns == FABRIC_NS and v.bridge for v in web)


def test_management_gives_every_device_mgmt0_and_stays_in_the_lab(lab_topology):
    topo = lab_topology.subset(12)
    plan = plan_lab(topo)
    mgmt = plan.veths_of("management")
    assert len(mgmt) == len(topo.devices)
    assert all(
        v.a.ifname == "mgmt0" and v.bridge == MGMT_BRIDGE and v.b.netns is None for v in mgmt
    )
    addresses = [p.address for v in plan.veths for p in (v.a, v.b) if p.address]
    assert all(isinstance(a, IPv4Interface) and a.ip in LAB_PREFIX for a in addresses)
    names = [(p.netns, p.ifname) for v in plan.veths for p in (v.a, v.b)]
    assert len(names) == len(set(names)) and all(len(n) <= 15 for _, n in names)


def test_the_province_cannot_become_a_twin():
    with pytest.raises(EmopsError) as caught:
        plan_lab(load_topology(PROVINCE))
    assert "not a lab" in str(caught.value)
