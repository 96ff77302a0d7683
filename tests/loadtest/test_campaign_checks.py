"""Answer verification: checksum first, then that the answer is to the question asked."""

from __future__ import annotations

import hashlib
import json

from emops import marketing_contract as contract
from loadtest import checks


def envelope(data: object) -> tuple[bytes, str]:
    return json.dumps({"data": data}).encode(), contract.header_value(data)


def export(rows: list[bytes], announce: int | None = None) -> bytes:
    body = checks.EXPORT_HEADER + b"".join(rows)
    digest = hashlib.sha256(body).hexdigest()
    return body + contract.export_trailer(digest, len(rows) if announce is None else announce)


CUSTOMER = {"id": 42, "name": "Wang Wei", "balance_fen": 1200}
BILLS = {
    "customer_id": 42,
    "months": 3,
    "bills": [
        {"id": 3, "customer_id": 42, "period": "2025-12", "amount_fen": 900, "paid_fen": 0},
        {"id": 2, "customer_id": 42, "period": "2025-11", "amount_fen": 800, "paid_fen": 800},
    ],
}


def test_good_answer_passes_and_returns_data() -> None:
    body, header = envelope(CUSTOMER)
    verdict = checks.check_json(body, header, checks.customer_is(42))
    assert verdict.ok and verdict.data == CUSTOMER


def test_altered_body_fails_the_checksum() -> None:
    _, header = envelope(CUSTOMER)
    body, _ = envelope({**CUSTOMER, "balance_fen": 1201})
    verdict = checks.check_json(body, header, checks.customer_is(42))
    assert not verdict.ok and "does not match" in verdict.message


def test_missing_header_and_non_json_fail() -> None:
    assert "no X-Emops-Checksum" in checks.check_json(b'{"data": 1}', None).message
    assert not checks.check_json(b"<html>502</html>", "sha256=00").ok
    assert not checks.check_json(b"[1, 2]", "sha256=00").ok


def test_valid_checksum_but_wrong_customer_fails() -> None:
    body, header = envelope({**CUSTOMER, "id": 43})
    verdict = checks.check_json(body, header, checks.customer_is(42))
    assert not verdict.ok and "asked for customer 42" in verdict.message


def test_bills_expectations() -> None:
    good = checks.bills_of(42, 3)
    assert good(BILLS) is None
    assert "at most 1" in checks.bills_of(42, 1)(BILLS)
    swapped = {**BILLS, "bills": list(reversed(BILLS["bills"]))}
    assert good(swapped) == "bills are not newest first"
    foreign = {**BILLS, "bills": [{**BILLS["bills"][0], "customer_id": 7}]}
    assert good(foreign) == "a bill of another customer is in the list"
    over = {**BILLS, "bills": [{**BILLS["bills"][0], "paid_fen": 901}]}
    assert good(over) == "a bill is paid more than its amount"


def test_payment_expectations() -> None:
    pay = {"customer_id": 42, "bill_id": 3, "amount_fen": 1}
    answer = {
        **pay,
        "idempotency_key": "k1",
        "payment_id": 9,
        "bill": {"id": 3, "paid_fen": 1, "amount_fen": 900},
    }
    assert checks.payment_of(pay, "k1")(answer) is None
    assert "answered for" in checks.payment_of(pay, "k2")(answer)
    assert "answered for" in checks.payment_of({**pay, "amount_fen": 2}, "k1")(answer)


def test_ticket_expectations() -> None:
    ticket = {"id": 5, "customer_id": 42, "status": "open"}
    assert checks.ticket_is(42, "open", 5)(ticket) is None
    assert checks.ticket_is(42, "assigned", 5)(ticket) is not None
    assert checks.ticket_is(42, "open", 6)(ticket) is not None


def test_export_checks() -> None:
    rows = [b"1,42,chengqu,residential,2025-12,100,5600,0,unpaid\n"] * 3
    assert checks.check_export(export(rows)) == checks.Verdict(True, data=3)
    truncated = export(rows)[:-30]
    assert "no trailer" in checks.check_export(truncated).message
    assert "trailer says 4" in checks.check_export(export(rows, announce=4)).message
    altered = export(rows).replace(b"5600", b"5601", 1)
    assert "sha256" in checks.check_export(altered).message
    body = b"a,b\n1,2\n"
    wrong_columns = body + contract.export_trailer(hashlib.sha256(body).hexdigest(), 1)
    assert "export columns" in checks.check_export(wrong_columns).message
