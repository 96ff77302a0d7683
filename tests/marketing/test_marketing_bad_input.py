"""Bad input gives a 4xx JSON error naming the field: never a 500, never a traceback."""

from __future__ import annotations

import pytest

from emops import marketing_contract as contract

PAY = {"customer_id": 5, "bill_id": 60, "amount_fen": 100}  # bill 60 is customer 5's
KEY = {"Idempotency-Key": "bad-input-test"}
TICKET = {"customer_id": 5, "category": "billing", "description": "Bill looks too high"}

CASES = [
    ("GET", "/customers/abc", None, None, 400, "customer_id"),
    ("GET", "/customers/0", None, None, 400, "customer_id"),
    ("GET", "/customers/-3", None, None, 400, "customer_id"),
    ("GET", "/customers/1.5", None, None, 400, "customer_id"),
    ("GET", "/customers/99999999999", None, None, 400, "customer_id"),
    ("GET", "/customers/" + "9" * 5000, None, None, 400, "customer_id"),
    ("GET", "/customers/999999", None, None, 404, "customer_id"),
    ("GET", "/customers/1/bills?months=0", None, None, 400, "months"),
    ("GET", "/customers/1/bills?months=abc", None, None, 400, "months"),
    ("GET", "/customers/1/bills?months=121", None, None, 400, "months"),
    ("GET", "/customers/999999/bills", None, None, 404, "customer_id"),
    ("POST", "/payments", PAY, {}, 400, "Idempotency-Key"),
    ("POST", "/payments", b"{not json", KEY, 400, "body"),
    ("POST", "/payments", [1, 2], KEY, 400, "body"),
    ("POST", "/payments", None, KEY, 400, "body"),
    ("POST", "/payments", {**PAY, "customer_id": None}, KEY, 400, "customer_id"),
    ("POST", "/payments", {"bill_id": 60, "amount_fen": 1}, KEY, 400, "customer_id"),
    ("POST", "/payments", {"customer_id": 5, "amount_fen": 1}, KEY, 400, "bill_id"),
    ("POST", "/payments", {"customer_id": 5, "bill_id": 60}, KEY, 400, "amount_fen"),
    ("POST", "/payments", {**PAY, "amount_fen": -100}, KEY, 400, "amount_fen"),
    ("POST", "/payments", {**PAY, "amount_fen": 0}, KEY, 400, "amount_fen"),
    ("POST", "/payments", {**PAY, "amount_fen": 10.5}, KEY, 400, "amount_fen"),
    ("POST", "/payments", {**PAY, "amount_fen": "100"}, KEY, 400, "amount_fen"),
    ("POST", "/payments", {**PAY, "amount_fen": True}, KEY, 400, "amount_fen"),
    ("POST", "/payments", {**PAY, "bill_id": "sixty"}, KEY, 400, "bill_id"),
    ("POST", "/payments", {**PAY, "customer_id": 999999}, KEY, 404, "customer_id"),
    ("POST", "/payments", {**PAY, "bill_id": 99999999}, KEY, 404, "bill_id"),
    ("POST", "/tickets", {**TICKET, "description": ""}, None, 400, "description"),
    ("POST", "/tickets", {k: v for k, v in TICKET.items() if k != "description"}, None, 400,
     "description"),
    ("POST", "/tickets", {**TICKET, "category": "weather"}, None, 400, "category"),
    ("POST", "/tickets", {**TICKET, "customer_id": "5"}, None, 400, "customer_id"),
    ("POST", "/tickets", {**TICKET, "customer_id": 999999}, None, 404, "customer_id"),
    ("GET", "/tickets/abc", None, None, 400, "ticket_id"),
    ("GET", "/tickets/99999999", None, None, 404, "ticket_id"),
    ("POST", "/tickets/99999999/status", {"status": "assigned"}, None, 404, "ticket_id"),
    ("POST", "/tickets/1/status", {"status": "closed"}, None, 400, "status"),
    ("POST", "/tickets/1/status", {}, None, 400, "status"),
    ("GET", "/reports/export", None, None, 400, "city"),
    ("GET", "/reports/export?city=atlantis", None, None, 400, "city"),
    ("POST", "/tickets", {**TICKET, "description": "x" * 100_000}, None, 413, "body"),
    ("GET", "/no/such/page", None, None, 404, None),
    ("DELETE", "/customers/1", None, None, 405, None),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "field"), CASES)
def test_bad_input_is_a_json_error_naming_the_field(
    service, method, path, body, headers, status, field
) -> None:
    raw = body if isinstance(body, bytes) else None
    reply = service.request(method, path, None if raw else body, headers=headers, raw=raw)
    assert reply.status == status, reply.body
    assert b"Traceback" not in reply.body
    payload = reply.json()
    assert payload["data"] is None
    assert payload["error"]["field"] == field
    assert payload["error"]["status"] == status
    if field:
        assert field in payload["error"]["message"]
    contract.verify_json(reply.body, reply.headers["X-Emops-Checksum"])


def test_bad_input_never_reaches_the_database_as_a_500(service) -> None:
    failures = service.get("/stats").json()["data"]["failures"]
    assert "internal" not in failures
