"""The service listens only on loopback or the 198.18.0.0/15 lab range."""

from __future__ import annotations

import pytest

from emops.errors import EmopsError
from lab.marketing.listen import parse_listen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("127.8.9.10:0", ("127.8.9.10", 0)),
        ("localhost:80", ("127.0.0.1", 80)),
        ("[::1]:8080", ("::1", 8080)),
        ("198.18.0.1:8080", ("198.18.0.1", 8080)),
        ("198.19.255.254:65535", ("198.19.255.254", 65535)),
    ],
)
def test_lab_addresses_are_accepted(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize(
    "text",
    ["0.0.0.0:8080", "[::]:8080", "10.0.0.1:8080", "198.20.0.1:8080", "198.17.255.255:80",
     "8.8.8.8:53", "[2001:db8::1]:80", "example.com:80"],
)  # fmt: skip
def test_other_addresses_are_refused(text: str) -> None:
    with pytest.raises(EmopsError, match="--listen"):
        parse_listen(text)


@pytest.mark.parametrize("text", ["127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ":8080"])
def test_malformed_listen_is_refused(text: str) -> None:
    with pytest.raises(EmopsError, match="--listen"):
        parse_listen(text)
