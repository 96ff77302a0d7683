"""Listen addresses, ports and URLs: one parser for every tool, ASCII only, no ValueError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.safety import parse_listen as collector_listen
from emops.errors import EmopsError
from emops.monitoring.settings import parse_listen as monitor_listen
from emops.netaddr import check_url, parse_listen, parse_port, split_url
from lab.marketing.listen import parse_listen as service_listen


def refused(call, *args, **kw) -> str:
    with pytest.raises(EmopsError) as caught:
        call(*args, **kw)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1:\u00b2",  # superscript two: str.isdigit() is True, int() fails
        "127.0.0.1:\u0668\u0660",  # Arabic-Indic 80: int() reads it
        "\u0661\u0662\u0667.0.0.1:80",
        "127.0.0.1:99999",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1: 80",
        "127.0.0.1:",
        "127.0.0.1",
        ":80",
        "",
        "0.0.0.0:80",
        "8.8.8.8:53",
        "example.com:80",
    ],
)
def test_every_listen_parser_refuses(text: str) -> None:
    for parse in (collector_listen, service_listen):
        assert refused(parse, text).startswith("--listen: ")
    assert refused(monitor_listen, text, "--prometheus-listen").startswith("--prometheus-listen: ")


def test_policies_differ_only_where_the_callers_say() -> None:
    # the SNMP exporter: loopback or the lab, ports 1-65535, a default port for --traps
    assert collector_listen("198.19.255.1:9610") == ("198.19.255.1", 9610)
    assert collector_listen("198.19.255.1", "--traps", default_port=162) == ("198.19.255.1", 162)
    assert "--listen" in refused(collector_listen, "127.0.0.1:0")
    # the marketing service: also localhost, [::1] and port 0 (the OS picks)
    assert service_listen("localhost:0") == ("127.0.0.1", 0)
    assert service_listen("[::1]:8080") == ("::1", 8080)
    # monitoring servers: loopback only
    assert monitor_listen("127.0.0.2:9090", "--prometheus-listen") == "127.0.0.2:9090"
    message = refused(monitor_listen, "198.18.0.1:9090", "--prometheus-listen")
    assert message.startswith("--prometheus-listen: 198.18.0.1:9090 is outside 127.0.0.0/8 (")


@given(st.text(max_size=30))
def test_any_text_is_an_address_or_one_clear_error(text: str) -> None:
    try:
        _, port = parse_listen(text, "--listen", names=True, port_zero=True)
    except EmopsError as exc:
        assert len(exc.problems) == 1 and exc.problems[0].field == "--listen"
    else:
        assert 0 <= port <= 65535 and text.isascii()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/",  # urllib raises ValueError reading .port
        "http://127.0.0.1:x/",
        "http://127.0.0.1:\u00b2/",
        "http://127.0.0.1:0/",
        "http://[::1/",
        "http://\u0661\u0662\u0667.0.0.1/",
        "http:// 127.0.0.1/",
        "ftp://127.0.0.1/",
        "http://",
        "127.0.0.1:9090",
        "",
    ],
)
def test_bad_urls_are_one_error(url: str) -> None:
    assert refused(check_url, url, "--prometheus").startswith("--prometheus: ")


def test_good_urls_pass_unchanged() -> None:
    url = "http://127.0.0.1:8428/api/v1/write"
    assert check_url(url, "--remote-write") == url
    assert split_url("https://[::1]:9090/x", "--prometheus").port == 9090


@given(st.text(max_size=40))
def test_any_text_is_a_url_or_one_clear_error(text: str) -> None:
    for candidate in (text, f"http://{text}", f"http://127.0.0.1:{text}/"):
        try:
            split_url(candidate, "--target")
        except EmopsError as exc:
            assert exc.problems[0].field == "--target"


def test_ports() -> None:
    assert parse_port("65535", "--port") == 65535
    assert parse_port("0", "--port", allow_zero=True) == 0
    for bad in ("0", "65536", "\u0668\u0660", "80.0", "http"):
        assert refused(parse_port, bad, "--port").startswith("--port: ")
