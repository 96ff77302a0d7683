"""Verify every answer of the marketing service: checksum first, then what it says.

The locustfile reports each verification as a CHECK pseudo-request, so data
precision = 1 - failed checks / checks. Two layers, because they catch
different faults:
- the checksum (emops/marketing_contract.py) proves the body is the one the
  service meant to send: nothing truncated or altered on the way (a proxy, a
  half-failed-over connection, a cut export);
- the expectations prove the service answered *this* question: the customer
  asked for, bills of that customer in period order, a payment echoing its
  request - so a mixed-up answer with a valid checksum still fails.
Pure functions of bytes and headers, so they are tested without Locust.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emops import marketing_contract as checksum  # the locustfile reads checks.checksum

EXPORT_HEADER = b"bill_id,customer_id,county,tariff,period,kwh,amount_fen,paid_fen,status\n"
Expectation = Callable[[Any], str | None]  # data -> what is wrong, or None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""
    data: Any = None


def check_json(body: bytes, header: str | None, expect: Expectation | None = None) -> Verdict:
    """The body's `data` if its X-Emops-Checksum matches and it meets `expect`."""
    try:
        data = checksum.verify_json(body, header)
    except checksum.ChecksumMismatch as exc:
        return Verdict(False, str(exc))
    except (ValueError, AttributeError) as exc:  # not JSON, or JSON but not an object
        return Verdict(False, f"not a JSON envelope: {exc}")
    problem = expect(data) if expect is not None else None
    return Verdict(False, problem, data) if problem else Verdict(True, data=data)


def check_export(body: bytes) -> Verdict:
    """A whole CSV export: trailer digest and row count, and the expected columns."""
    try:
        csv_bytes, rows = checksum.verify_export(body)
    except checksum.ChecksumMismatch as exc:
        return Verdict(False, str(exc))
    if not csv_bytes.startswith(EXPORT_HEADER):
        first = csv_bytes.split(b"\n", 1)[0][:120]
        return Verdict(False, f"export columns are {first!r}")
    return Verdict(True, data=rows)


def customer_is(customer_id: int) -> Expectation:
    def expect(data: Any) -> str | None:
        if not isinstance(data, dict) or data.get("id") != customer_id:
            return f"asked for customer {customer_id}, got {_short(data)}"
        return None

    return expect


def bills_of(customer_id: int, months: int) -> Expectation:
    def expect(data: Any) -> str | None:
        if not isinstance(data, dict) or data.get("customer_id") != customer_id:
            return f"asked for bills of customer {customer_id}, got {_short(data)}"
        bills = data.get("bills")
        if not isinstance(bills, list) or len(bills) > months:
            return f"expected at most {months} bills, got {_short(bills)}"
        if any(b.get("customer_id") != customer_id for b in bills):
            return "a bill of another customer is in the list"
        periods = [b.get("period") for b in bills]
        if periods != sorted(periods, reverse=True):
            return "bills are not newest first"
        if any(not 0 <= b.get("paid_fen", -1) <= b.get("amount_fen", -1) for b in bills):
            return "a bill is paid more than its amount"
        return None

    return expect


def payment_of(payment: dict[str, int], key: str) -> Expectation:
    def expect(data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"payment answer is {_short(data)}"
        echoed = {k: data.get(k) for k in payment}
        if echoed != payment or data.get("idempotency_key") != key:
            return f"payment {payment} answered for {echoed}"
        bill = data.get("bill") or {}
        if bill.get("id") != payment["bill_id"] or bill.get("paid_fen", 0) > bill.get(
            "amount_fen", 0
        ):
            return f"bill after payment is {_short(bill)}"
        return None

    return expect


def ticket_is(customer_id: int, status: str, ticket_id: int | None = None) -> Expectation:
    def expect(data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"ticket answer is {_short(data)}"
        got = (data.get("customer_id"), data.get("status"))
        if got != (customer_id, status) or (ticket_id is not None and data.get("id") != ticket_id):
            return (
                f"expected ticket {ticket_id or ''} of {customer_id} {status}, got {_short(data)}"
            )
        return None

    return expect


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."
