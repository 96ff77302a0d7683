"""The topology model: what it reads from an inventory, and every problem it reports."""

from __future__ import annotations

import re
import shutil
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from testkit import LAB, PROVINCE, TINY, edit_yaml

from emops.errors import EmopsError
from emops.topology import load_topology
from emops.yamlread import Category


def problems_of(path: Path) -> list[str]:
    with pytest.raises(EmopsError) as caught:
        load_topology(path)
    return [str(p) for p in caught.value.problems]


def test_reads_sites_devices_links_and_segments():
    topo = load_topology(TINY)
    assert topo.network == "lab"
    assert list(topo.sites) == ["hq", "alpha", "beta"]
    assert topo.sites["alpha"].parent == "hq"
    assert [c.name for c in topo.sites["alpha"].counties] == ["alpha-east"]
    assert topo.devices["hq-core1"].role == "core_switch"
    assert topo.devices["alpha-wan"].site == "alpha"
    assert topo.devices["hq-web1"].mgmt_address == IPv4Address("198.19.255.15")
    lag = next(link for link in topo.links if link.role == "lag")
    assert len(lag.members) == 2 and lag.capacity_bps == 2e9
    backup = topo.wan_links("beta", "backup")[0]
    assert backup.capacity_bps == 4e6  # 2 x 2M
    assert topo.wan_links("alpha", "primary")[0].delay_s == pytest.approx(0.010)
    web = next(s for s in topo.segments if s.name == "hq-web")
    assert web.vips[0].owners == ("hq-core1", "hq-core2")


def test_subset_keeps_hq_and_the_first_cities():
    topo = load_topology(TINY).subset(1)
    assert list(topo.sites) == ["hq", "alpha"]
    assert "beta-wan" not in topo.devices
    assert all("beta" not in link.name for link in topo.links)


def test_all_problems_are_reported_at_once_with_file_and_line(tiny):
    def damage(data):
        data["links"][1]["b"]["device"] = "nowhere-wan"  # unknown device
        data["links"][1]["rate"] = "100M"  # not a standard rate

    edit_yaml(tiny, "group_vars/all/links.yml", damage)
    found = problems_of(tiny)
    assert any("links.alpha-private.b.device: unknown device 'nowhere-wan'" in p for p in found)
    assert any("links.alpha-private.rate: unknown rate '100M'" in p for p in found)
    assert all("group_vars/all/links.yml:" in p for p in found if "links.alpha-private" in p)


def replace_in(path: Path, old: str, new: str) -> int:
    """Replace `old` by `new` in the file at `path`; the 1-based line where it was."""
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return text[: text.index(old)].count("\n") + 1


def test_a_typo_in_a_key_is_one_line_with_file_line_and_the_fix(tiny):
    alpha = tiny / "group_vars" / "alpha.yml"
    line = replace_in(alpha, "  description: Alpha company\n", "  lan_prefx: 198.18.201.0/24\n")
    assert problems_of(tiny) == [
        f"{alpha}:{line}: alpha: site.lan_prefx: unknown field (did you mean lan_prefix?)"
    ]


def test_an_unknown_key_without_a_close_match_lists_the_known_ones(tiny):
    links = tiny / "group_vars" / "all" / "links.yml"
    line = replace_in(
        links,
        "    delay: 10ms\n    a: {device: hq-wan-private",
        "    colour: red\n    a: {device: hq-wan-private",
    )
    assert problems_of(tiny) == [
        f"{links}:{line}: links.alpha-private.colour: unknown field"
        " (known: name, role, rate, delay, a, b, members)"
    ]


def test_one_unknown_device_is_one_problem_not_a_cascade(tiny):
    """Without the checkpoint, the cross-checks would also find site alpha without a
    primary link (the link could not be built)."""
    links = tiny / "group_vars" / "all" / "links.yml"
    line = replace_in(
        links,
        "b: {device: alpha-wan, interface: private",
        "b: {device: nowhere-wan, interface: private",
    )
    with pytest.raises(EmopsError) as caught:
        load_topology(tiny)
    assert [str(p) for p in caught.value.problems] == [
        f"{links}:{line}: links.alpha-private.b.device: unknown device 'nowhere-wan'"
        " (name a host of hosts.yml)"
    ]
    assert caught.value.problems[0].category == Category.REFERENCE


def test_a_failed_site_is_one_problem_not_one_per_host_link_and_segment(tiny):
    alpha = tiny / "group_vars" / "alpha.yml"
    line = replace_in(alpha, "kind: municipal", "kind: city")
    assert problems_of(tiny) == [
        f"{alpha}:{line}: alpha: site.kind: 'city' is not hq or municipal"
        " (set kind: hq or kind: municipal)"
    ]


@pytest.mark.parametrize("inventory", [LAB, PROVINCE], ids=["lab", "province"])
def test_the_shipped_inventories_use_only_known_keys(inventory):
    topo = load_topology(inventory)  # no problem at all, unknown keys included
    assert topo.municipal_sites() and topo.links and topo.segments


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        pytest.param(
            "group_vars/all/segments.yml",
            lambda d: d["segments"][0]["members"][2].update(address="198.18.110.2/24"),
            "duplicate address 198.18.110.2",
            id="duplicate-address",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"][1]["a"].update(address="10.0.0.1/30"),
            "10.0.0.1 is a lab address outside the lab prefix",
            id="lab-address-outside-prefix",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"].pop(1),
            "site alpha has 0 primary links",
            id="site-without-primary",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"][1].update(rate="fast"),
            "links.alpha-private.rate: 'fast' is not a number with a unit",
            id="rate-not-a-number",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"][1].update(role="uplink"),
            "links.alpha-private.role: 'uplink' is not a link role",
            id="unknown-role",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"][2]["members"].clear(),
            "a backup bundle has 0 members",
            id="empty-backup-bundle",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"][1]["b"].update(address="198.18.0.9/30"),
            "198.18.0.9/30 is not in 198.18.0.0/30",
            id="ends-in-different-subnets",
        ),
        pytest.param(
            "group_vars/all/links.yml",
            lambda d: d["links"][3]["a"].update(interface="p-alpha"),
            "interface p-alpha of hq-wan-private is also used",
            id="interface-used-twice",
        ),
        pytest.param(
            "group_vars/all/segments.yml",
            lambda d: d["segments"][0]["members"][2].update(address="198.18.111.11/24"),
            "198.18.111.11/24 is outside 198.18.110.0/24",
            id="member-outside-segment",
        ),
        pytest.param(
            "group_vars/all/segments.yml",
            lambda d: d["segments"][0]["vips"][0].update(vrid=110),
            "VRRP id 110 used twice on hq-web",
            id="vrid-reused",
        ),
        pytest.param(
            "group_vars/alpha.yml",
            lambda d: d["site"]["traffic"]["pingpong"][0].update(transaction="nope"),
            "unknown transaction 'nope'",
            id="unknown-transaction",
        ),
        pytest.param(
            "group_vars/alpha.yml",
            lambda d: d["site"]["traffic"]["pingpong"][0].update(think_time="-5s"),
            "think_time: '-5s' must be more than zero",
            id="negative-think-time",
        ),
        pytest.param(
            "group_vars/alpha.yml",
            lambda d: d["site"]["traffic"]["pingpong"][0].update(users="many"),
            "users: 'many'",
            id="users-not-a-number",
        ),
        pytest.param(
            "group_vars/all/traffic.yml",
            lambda d: d["transactions"]["lookup"].update(packet_size="9 parsecs"),
            "unknown size unit 'parsecs'",
            id="unknown-size-unit",
        ),
        pytest.param(
            "group_vars/alpha.yml",
            lambda d: d["site"].update(kind="city"),
            "site.kind: 'city' is not hq or municipal",
            id="unknown-site-kind",
        ),
        pytest.param(
            "hosts.yml",
            lambda d: d["all"]["children"]["hq"]["hosts"]["hq-web1"].update(emops_platform="junos"),
            "emops_platform: 'junos' is not a known platform",
            id="unknown-platform",
        ),
        pytest.param(
            "hosts.yml",
            lambda d: d["all"]["children"]["web_servers"]["hosts"].pop("hq-web1"),
            "host hq-web1: groups: is in 0 role groups",
            id="host-without-role",
        ),
        pytest.param(
            "hosts.yml",
            lambda d: d["all"]["children"]["hq"]["hosts"]["hq-web1"].update(ansible_host="bogus"),
            "ansible_host: 'bogus'",
            id="bad-management-address",
        ),
    ],
)
def test_each_validation_error(tiny, file, change, expected):
    edit_yaml(tiny, file, change)
    found = problems_of(tiny)
    assert any(expected in p for p in found), found
    # every problem names the file and line it comes from and carries a hint
    place = re.compile(rf"{re.escape(str(tiny))}/[\w/.]+\.yml:\d+[:,] ")
    assert all(place.match(p) and "(" in p for p in found), found


def test_province_addresses_must_stay_in_their_space(tiny):
    edit_yaml(
        tiny,
        "group_vars/all/emops.yml",
        lambda d: d["emops"].update(network="province", address_space=["10.0.0.0/8"]),
    )
    found = problems_of(tiny)
    assert any("outside emops.address_space" in p for p in found)


def test_missing_inventory_is_one_clear_error(tmp_path):
    found = problems_of(tmp_path / "absent")
    assert found == [
        f"--inventory: no inventory at {tmp_path / 'absent'} (pass e.g. -i inventory/province)"
    ]


def test_malformed_yaml_is_reported_not_raised(tiny):
    (tiny / "group_vars" / "all" / "links.yml").write_text("links: [ {name: x\n")
    found = problems_of(tiny)
    assert len(found) == 1 and found[0].startswith("inventory:")


def test_the_same_relative_path_from_two_directories_reads_two_inventories(tmp_path, monkeypatch):
    # ansible-core caches the real path of each inventory source string: a relative
    # path read again from another working directory must not reuse the first one's
    # group_vars (the CLI tests run commands from scratch directories in-process).
    for name in ("first", "second"):
        shutil.copytree(TINY, tmp_path / name / "inv")
    replace_in(
        tmp_path / "second" / "inv" / "group_vars" / "alpha.yml",
        "description: Alpha company",
        "description: Alpha second",
    )
    seen = []
    for name in ("first", "second"):
        monkeypatch.chdir(tmp_path / name)
        seen.append(load_topology(Path("inv")).sites["alpha"].description)
    assert seen == ["Alpha company", "Alpha second"]
