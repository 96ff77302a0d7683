"""Load goes to loopback and the twin; production only with the flag and an inventory host."""

from __future__ import annotations

import pytest

from emops.errors import EmopsError
from emops.netaddr import is_safe_address
from loadtest.safety import check_target, production_hosts, resolve

INVENTORY = {"hq-lb1", "10.1.100.10", "10.254.0.16"}


def fake_dns(table: dict[str, list[str]]):
    def resolver(host: str) -> list[str]:
        return table[host]

    return resolver


def no_inventory() -> set[str]:
    raise AssertionError("the production inventory must not be read for this target")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.200.3.4",
        "http://198.18.100.10:80",
        "http://198.19.255.30:8089/x",
        "https://[::1]:8443",
        "127.0.0.1:9000",  # scheme defaults to http
    ],
)
def test_lab_and_loopback_accepted(url: str) -> None:
    target = check_target(url, inventory_hosts=no_inventory)
    assert not target.production
    assert is_safe_address(target.addresses[0])


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.100.10",
        "http://8.8.8.8:80",
        "http://198.20.0.1",
        "http://[2001:db8::1]",
        "http://0.0.0.0",
    ],
)
def test_other_addresses_refused(url: str) -> None:
    with pytest.raises(EmopsError, match=r"--host: refusing to send load to .*outside 127"):
        check_target(url, inventory_hosts=no_inventory)


def test_hostname_resolving_to_the_lab_is_pinned() -> None:
    dns = fake_dns({"marketing.twin": ["198.18.100.10"]})
    target = check_target("http://marketing.twin:80/", resolver=dns, inventory_hosts=no_inventory)
    assert target.pinned_url == "http://198.18.100.10:80/" and target.host == "marketing.twin"


def test_hostname_resolving_elsewhere_refused() -> None:
    dns = fake_dns({"twin.example": ["93.184.216.34"]})
    with pytest.raises(EmopsError, match=r"twin.example \(93.184.216.34\): outside"):
        check_target("http://twin.example", resolver=dns, inventory_hosts=no_inventory)


def test_hostname_resolving_partly_elsewhere_refused() -> None:
    dns = fake_dns({"split.example": ["127.0.0.1", "203.0.113.9"]})
    with pytest.raises(EmopsError, match=r"203\.0\.113\.9"):
        check_target("http://split.example", resolver=dns, inventory_hosts=no_inventory)


def test_localhost_really_resolves_to_loopback() -> None:
    assert all(is_safe_address(a) for a in resolve("localhost"))
    assert check_target("http://localhost:1").pinned_url.startswith("http://")


def test_unresolvable_name_is_one_line_error() -> None:
    with pytest.raises(EmopsError, match="--host: cannot resolve"):
        check_target("http://no-such-host.invalid")


def test_production_needs_the_flag_and_an_inventory_host() -> None:
    hosts = lambda: INVENTORY  # noqa: E731
    assert check_target("http://10.1.100.10", production=True, inventory_hosts=hosts).production
    dns = fake_dns({"hq-lb1": ["10.254.0.16"]})
    assert check_target(
        "http://hq-lb1:80", production=True, inventory_hosts=hosts, resolver=dns
    ).production
    with pytest.raises(EmopsError, match="not a host of the production inventory"):
        check_target("http://10.9.9.9", production=True, inventory_hosts=hosts)
    with pytest.raises(EmopsError, match="outside"):
        check_target("http://10.1.100.10", production=False, inventory_hosts=hosts)


def test_production_flag_still_allows_the_lab() -> None:
    assert not check_target(
        "http://127.0.0.1:1", production=True, inventory_hosts=no_inventory
    ).production


def test_not_a_url_is_refused() -> None:
    with pytest.raises(EmopsError, match="--target: 'ftp://x' is not an http"):
        check_target("ftp://x", field="--target")


def test_production_hosts_from_the_province_inventory() -> None:
    from emops.topology import load_topology

    hosts = production_hosts(load_topology("inventory/province"))
    assert {"hq-lb1", "10.254.0.16", "10.1.100.2"} <= hosts
    assert not any(h.startswith("198.18.") for h in hosts)
