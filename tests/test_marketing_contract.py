"""The checksum contract shared by the service and the load clients."""

from __future__ import annotations

import hashlib
import json

import pytest

from emops import marketing_contract as contract


def test_canonical_json_sorts_keys_without_spaces_in_utf8() -> None:
    data = {"b": [1, {"z": None, "a": "é"}], "a": True}
    assert contract.canonical_json(data) == '{"a":true,"b":[1,{"a":"é","z":null}]}'.encode()


def test_header_value_is_sha256_of_canonical_data() -> None:
    data = {"id": 7, "name": "Wang Wei"}
    expected = hashlib.sha256(b'{"id":7,"name":"Wang Wei"}').hexdigest()
    assert contract.header_value(data) == f"sha256={expected}"


def test_verify_json_returns_data_and_detects_tampering() -> None:
    data = {"amount_fen": 100}
    body = json.dumps({"data": data}, indent=2).encode()  # spacing of the body does not matter
    assert contract.verify_json(body, contract.header_value(data)) == data
    with pytest.raises(contract.ChecksumMismatch):
        contract.verify_json(body.replace(b"100", b"101"), contract.header_value(data))
    with pytest.raises(contract.ChecksumMismatch):
        contract.verify_json(body, None)


def _export(rows: list[bytes]) -> bytes:
    csv_bytes = b"a,b\n" + b"".join(rows)
    return csv_bytes + contract.export_trailer(hashlib.sha256(csv_bytes).hexdigest(), len(rows))


def test_export_trailer_round_trip() -> None:
    body = _export([b"1,2\n", b"3,4\n"])
    csv_bytes, rows = contract.verify_export(body)
    assert (csv_bytes, rows) == (b"a,b\n1,2\n3,4\n", 2)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: b.index(b"#emops")],  # trailer lost: truncated stream
        lambda b: b[:6] + b[7:],  # a byte lost in the middle
        lambda b: b.replace(b"3,4\n", b"3,5\n"),  # a byte changed
        lambda b: b.replace(b"rows=2", b"rows=3"),  # row count disagrees
    ],
)
def test_export_damage_is_detected(damage) -> None:
    with pytest.raises(contract.ChecksumMismatch):
        contract.verify_export(damage(_export([b"1,2\n", b"3,4\n"])))
