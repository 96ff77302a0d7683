"""GET /reports/export: streamed CSV from the replica, checked against ground truth and trailer."""

from __future__ import annotations

import csv
import io

from emops import marketing_contract as contract
from lab.marketing import reports
from lab.marketing.db import DB

EXPORT_TRUTH = """
SELECT b.id, b.customer_id, c.county, c.tariff, to_char(b.period, 'YYYY-MM'), b.kwh,
       b.amount_fen, b.paid_fen, b.status
FROM bills b JOIN customers c ON c.id = b.customer_id WHERE c.city = $1 ORDER BY b.id
"""


def rows_of(csv_bytes: bytes) -> tuple[list[str], list[list[str]]]:
    header, *rows = csv.reader(io.StringIO(csv_bytes.decode("utf-8")))
    return header, rows


def expected_rows(query, dsn: str, city: str) -> list[list[str]]:
    return [[str(v) for v in row] for row in query(dsn, EXPORT_TRUTH, city)]


def test_export_reads_the_replica_and_matches_its_ground_truth(
    service, replica_dsn, primary_dsn, query
) -> None:
    before = service.get("/stats").json()["data"]
    reply = service.get("/reports/export?city=changle")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.headers[reports.SOURCE_HEADER] == "replica"
    csv_bytes, count = contract.verify_export(reply.body)
    header, rows = rows_of(csv_bytes)
    assert header == list(reports.EXPORT_COLUMNS)
    assert rows == expected_rows(query, replica_dsn, "changle")
    assert count == len(rows) > 500
    # The replica stand-in holds different data, so this proves who answered.
    assert rows != expected_rows(query, primary_dsn, "changle")
    after = service.get("/stats").json()["data"]
    assert after["exports"]["from_replica"] == before["exports"].get("from_replica", 0) + 1
    used = after["db_connections_used"]
    assert used["replica"] == before["db_connections_used"].get("replica", 0) + 1
    assert after["exports"]["bytes"] - before["exports"].get("bytes", 0) == len(reply.body)


def test_replica_pool_sessions_are_named(service) -> None:
    async def names() -> tuple[str, str]:
        db = service.app[DB]
        async with db.connection("replica") as replica, db.connection("primary") as primary:
            return (
                await replica.fetchval("SELECT current_setting('application_name')"),
                await primary.fetchval("SELECT current_setting('application_name')"),
            )

    assert service.run(names()) == ("emops-marketing-replica", "emops-marketing")


def test_without_replica_the_primary_answers(service_no_replica, primary_dsn, query) -> None:
    reply = service_no_replica.get("/reports/export?city=qinghe")
    assert reply.headers[reports.SOURCE_HEADER] == "primary"
    csv_bytes, _ = contract.verify_export(reply.body)
    assert rows_of(csv_bytes)[1] == expected_rows(query, primary_dsn, "qinghe")
    stats = service_no_replica.get("/stats").json()["data"]
    assert stats["exports"]["from_primary"] >= 1 and "replica" not in stats["db_connections_used"]


def test_every_city_exports_and_rows_add_up(service, replica_dsn, query) -> None:
    total = 0
    for city in ("anping", "baishan", "changle", "dongtai", "fenghe", "guanyun",
                 "hengli", "jinxi", "lianshan", "meixi", "nanfeng", "qinghe"):  # fmt: skip
        total += contract.verify_export(service.get(f"/reports/export?city={city}").body)[1]
    assert total == query(replica_dsn, "SELECT count(*) FROM bills")[0][0]
