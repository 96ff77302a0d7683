"""The data generator: row counts, realism checks, determinism, idempotent re-runs, speed."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import pytest

from emops import marketing_contract as contract
from lab.marketing import datagen, schema
from lab.marketing.app import Config

SMALL = 600
FINGERPRINT = """
SELECT (SELECT md5(string_agg(c::text, '|' ORDER BY id)) FROM customers c),
       (SELECT md5(string_agg(b::text, '|' ORDER BY id)) FROM bills b)
"""


def generate(dsn: str, plan: datagen.Plan, force: bool = False) -> datagen.Result:
    return asyncio.run(datagen.generate(dsn, plan, force=force, log=lambda line: None))


def test_row_counts_and_shape(primary_dsn: str, query) -> None:
    customers, bills = query(primary_dsn, "SELECT (SELECT count(*) FROM customers), "
                                          "(SELECT count(*) FROM bills)")[0]  # fmt: skip
    assert (customers, bills) == (2_000, 24_000)
    per_customer = query(primary_dsn, "SELECT DISTINCT count(*) FROM bills GROUP BY customer_id")
    assert [r[0] for r in per_customer] == [12]
    cities = {r[0] for r in query(primary_dsn, "SELECT DISTINCT city FROM customers")}
    assert cities == set(schema.CITIES)
    tariffs = dict(query(primary_dsn, "SELECT tariff, count(*) FROM customers GROUP BY tariff"))
    assert set(tariffs) == set(schema.TARIFFS)
    assert tariffs["residential"] > tariffs["commercial"] > tariffs["industrial"]
    periods = query(primary_dsn, "SELECT min(period)::text, max(period)::text FROM bills")[0]
    assert tuple(periods) == ("2025-01-01", "2025-12-01")


def test_bills_are_consistent(primary_dsn: str, query) -> None:
    bad = query(
        primary_dsn,
        """SELECT count(*) FROM bills WHERE NOT (
             (status = 'paid' AND paid_fen = amount_fen)
          OR (status = 'unpaid' AND paid_fen = 0 AND amount_fen > 0)
          OR (status = 'partial' AND paid_fen > 0 AND paid_fen < amount_fen))""",
    )[0][0]
    assert bad == 0
    statuses = dict(query(primary_dsn, "SELECT status, count(*) FROM bills GROUP BY status"))
    assert set(statuses) == set(schema.BILL_STATUSES)
    latest_unpaid = query(
        primary_dsn, "SELECT avg((status <> 'paid')::int) FROM bills WHERE period = '2025-12-01'"
    )[0][0]
    assert latest_unpaid > 0.5  # the latest month is mostly not yet paid


def test_each_city_has_three_to_six_counties() -> None:
    for city in schema.CITIES:
        counties = datagen.counties(city)
        assert 3 <= len(counties) <= 6 and len(set(counties)) == len(counties)


def test_first_customers_do_not_depend_on_the_total() -> None:
    small = list(datagen.generate_rows(datagen.Plan(customers=50)))
    large = list(datagen.generate_rows(datagen.Plan(customers=120)))
    assert large[:50] == small


def test_same_seed_gives_identical_tables(make_database, query) -> None:
    plan = datagen.Plan(customers=SMALL, seed=3)
    first, second = make_database("dg_seed_a"), make_database("dg_seed_b")
    generate(first, plan)
    generate(second, plan)
    assert query(first, FINGERPRINT) == query(second, FINGERPRINT)
    other = make_database("dg_seed_c")
    generate(other, datagen.Plan(customers=SMALL, seed=4))
    assert query(other, FINGERPRINT)[0][0] != query(first, FINGERPRINT)[0][0]


def test_rerun_skips_then_recreates_when_asked_or_changed(make_database, query) -> None:
    dsn = make_database("dg_rerun")
    plan = datagen.Plan(customers=SMALL, seed=5, cities=("anping", "qinghe"))
    assert not generate(dsn, plan).skipped
    before = query(dsn, FINGERPRINT)
    query(dsn, "INSERT INTO tickets (customer_id, category, description) VALUES (1, 'meter', 'x')")
    assert generate(dsn, plan).skipped
    assert query(dsn, "SELECT count(*) FROM tickets")[0][0] == 1  # skipped: nothing touched
    assert not generate(dsn, plan, force=True).skipped
    assert query(dsn, FINGERPRINT) == before
    assert query(dsn, "SELECT count(*) FROM tickets")[0][0] == 0  # recreated cleanly
    generate(dsn, datagen.Plan(customers=SMALL // 2, seed=5, cities=("anping",)))
    assert query(dsn, "SELECT count(*), count(DISTINCT city) FROM customers")[0] == (SMALL // 2, 1)


def test_cli_shows_progress_and_skips_on_rerun(make_database, query) -> None:
    dsn = make_database("dg_cli")
    cmd = [sys.executable, "-m", "lab.marketing.datagen", "--dsn", dsn, "--customers", "300",
           "--cities", "jinxi,meixi"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "300/300 customers" in done.stderr and done.stdout == ""
    assert query(dsn, "SELECT count(*) FROM bills")[0][0] == 3_600
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "skipped" in again.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--customers", "0"], "--customers"),
        (["--cities", "anping,atlantis"], "--cities"),
        (["--end-month", "2025/12"], "--end-month"),
        (["--months", "0"], "--months"),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(args: list[str], field: str) -> None:
    cmd = [sys.executable, "-m", "lab.marketing.datagen", "--dsn", "postgresql://x@127.0.0.1/x"]
    done = subprocess.run(cmd + args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and field in done.stderr


@pytest.mark.slow
def test_100k_customers_in_under_a_minute_and_export_streams_megabytes(
    make_database, query, start_service
) -> None:
    dsn = make_database("dg_100k")
    started = time.monotonic()
    generate(dsn, datagen.Plan(customers=100_000))
    seconds = time.monotonic() - started
    print(f"datagen 100k customers / 1.2M bills: {seconds:.1f} s")
    assert seconds < 60
    assert tuple(query(dsn, "SELECT (SELECT count(*) FROM customers), "
                            "(SELECT count(*) FROM bills)")[0]) == (100_000, 1_200_000)  # fmt: skip
    svc = start_service(Config(dsn=dsn))
    reply = svc.get("/reports/export?city=hengli")
    _, rows = contract.verify_export(reply.body)
    city_bills = "SELECT count(*) FROM bills b JOIN customers c ON c.id = b.customer_id"
    assert rows == query(dsn, city_bills + " WHERE c.city = 'hengli'")[0][0]
    assert len(reply.body) > 2_000_000

    abort_export_midway(svc)
    deadline = time.monotonic() + 20
    while "export_aborted" not in (stats := svc.get("/stats").json()["data"])["failures"]:
        assert time.monotonic() < deadline, stats
        time.sleep(0.2)
    assert stats["transactions"]["export"] == 1  # the aborted one is not a transaction
    assert svc.get("/healthz").status == 200


def abort_export_midway(svc) -> None:
    """A client that hangs up after the first bytes: small receive window, then close."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", svc.port))
        sock.sendall(b"GET /reports/export?city=hengli HTTP/1.1\r\nHost: lab\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        time.sleep(0.3)
