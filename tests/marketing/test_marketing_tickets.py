"""Work tickets: create/read against ground truth; the open -> assigned -> resolved machine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from emops import marketing_contract as contract

TICKET_TRUTH = """
SELECT id, customer_id, category, description, status, created_at, updated_at
FROM tickets WHERE id = $1
"""


def truth(query, dsn: str, ticket_id: int) -> dict:
    row = dict(query(dsn, TICKET_TRUTH, ticket_id)[0])
    return {**row, "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat()}  # fmt: skip


def create(service, customer_id: int = 11) -> dict:
    body = {"customer_id": customer_id, "category": "outage", "description": "No power since 8:00"}
    reply = service.post("/tickets", body)
    assert reply.status == 201
    return contract.verify_json(reply.body, reply.headers["X-Emops-Checksum"])


def test_create_and_get_match_ground_truth(service, primary_dsn, query) -> None:
    created = create(service)
    assert created["status"] == "open"
    assert created == truth(query, primary_dsn, created["id"])
    fetched = service.get(f"/tickets/{created['id']}")
    assert contract.verify_json(fetched.body, fetched.headers["X-Emops-Checksum"]) == created


def test_open_assigned_resolved(service, primary_dsn, query) -> None:
    ticket_id = create(service)["id"]
    for status in ("assigned", "resolved"):
        reply = service.post(f"/tickets/{ticket_id}/status", {"status": status})
        assert reply.status == 200
        data = contract.verify_json(reply.body, reply.headers["X-Emops-Checksum"])
        assert data["status"] == status
        assert data == truth(query, primary_dsn, ticket_id)
    events = query(
        primary_dsn,
        "SELECT from_status, to_status FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
        ticket_id,
    )
    assert [tuple(e) for e in events] == [("open", "assigned"), ("assigned", "resolved")]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), "resolved"),  # open -> resolved skips assignment
        ((), "open"),
        (("assigned",), "assigned"),
        (("assigned",), "open"),
        (("assigned", "resolved"), "assigned"),
        (("assigned", "resolved"), "resolved"),
    ],
)
def test_invalid_transitions_are_409(service, primary_dsn, query, path, target) -> None:
    ticket_id = create(service)["id"]
    for status in path:
        assert service.post(f"/tickets/{ticket_id}/status", {"status": status}).status == 200
    before = truth(query, primary_dsn, ticket_id)
    reply = service.post(f"/tickets/{ticket_id}/status", {"status": target})
    assert reply.status == 409
    assert reply.json()["error"]["field"] == "status"
    assert truth(query, primary_dsn, ticket_id) == before


def test_racing_operators_get_one_success(service) -> None:
    ticket_id = create(service)["id"]
    with ThreadPoolExecutor(6) as pool:
        replies = list(
            pool.map(
                lambda _: service.post(f"/tickets/{ticket_id}/status", {"status": "assigned"}),
                range(6),
            )
        )
    assert sorted(r.status for r in replies) == [200] + [409] * 5
