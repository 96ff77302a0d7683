"""Generate the marketing database: customers across the 12 municipal companies and their bills.

`python -m lab.marketing.datagen --dsn DSN --customers 100000 [--seed 1] [--cities a,b]`

Deterministic for a seed (one `random.Random` drawn in a fixed order, a fixed
billing calendar rather than today's date) so two runs give identical tables and
load clients can rely on ids. Rows stream into PostgreSQL with COPY while Python
produces the next ones; indexes are built afterwards. Everything happens in one
transaction, so an interrupted run leaves the previous database intact, and a
re-run with the same parameters finds the recorded plan and skips.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from emops.commandline import report_problems
from emops.errors import EmopsError
from lab.marketing import schema

COUNTY_STEMS = (
    "chengqu", "dongxiang", "xishan", "nanhu", "beiling", "heping",
    "xinglong", "taiping", "yongan", "fuxing", "qingshui", "shuangqiao",
)  # fmt: skip
SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo",
    "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng", "Cao", "Peng",
)  # fmt: skip
GIVEN = (
    "wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang",
    "yong", "yan", "jie", "tao", "ming", "chao", "xia", "ping", "gang", "hua",
    "hui", "xin", "yu", "hong", "bo", "jian", "ling", "dan", "peng", "rui",
)  # fmt: skip
ROADS = ("Renmin", "Jiefang", "Zhongshan", "Heping", "Xinhua", "Jianshe", "Wenhua", "Binhe")
# Share of customers per tariff, base monthly kWh (log-normal mu, sigma) and price in fen/kWh.
TARIFF_MIX = {
    "residential": (0.86, 5.2, 0.5, 56),
    "commercial": (0.11, 7.8, 0.6, 81),
    "industrial": (0.03, 10.5, 0.7, 64),
}
# Consumption by calendar month: air conditioning in summer, heating in winter.
SEASON = (1.25, 1.15, 1.0, 0.9, 0.9, 1.05, 1.3, 1.35, 1.1, 0.9, 0.95, 1.15)
CUSTOMER_COLUMNS = (
    "id", "name", "city", "county", "address", "meter_id", "tariff", "balance_fen",
)  # fmt: skip
BILL_COLUMNS = (
    "id", "customer_id", "period", "kwh", "amount_fen", "paid_fen", "status", "due_date",
)  # fmt: skip
DEFAULT_END_MONTH = date(2025, 12, 1)


@dataclass(frozen=True)
class Plan:
    """What to generate; recorded in `marketing_meta` so a re-run can tell if it is done."""

    customers: int = 100_000
    seed: int = 1
    cities: tuple[str, ...] = schema.CITIES
    end_month: date = DEFAULT_END_MONTH  # first day of the latest billed month
    months: int = 12

    def meta(self) -> dict[str, str]:
        return {
            "schema_version": schema.SCHEMA_VERSION,
            "customers": str(self.customers),
            "seed": str(self.seed),
            "cities": ",".join(self.cities),
            "end_month": self.end_month.isoformat(),
            "months": str(self.months),
        }

    @property
    def bills(self) -> int:
        return self.customers * self.months


@dataclass(frozen=True)
class Result:
    plan: Plan
    skipped: bool
    seconds: float


def counties(city: str) -> tuple[str, ...]:
    """A city's counties: fixed (not seeded), 3 to 6 of them, the urban district first."""
    index = schema.CITIES.index(city)
    extra = tuple(COUNTY_STEMS[1 + (index * 5 + k) % (len(COUNTY_STEMS) - 1)] for k in range(6))
    return (COUNTY_STEMS[0], *dict.fromkeys(extra))[: 3 + index % 4]


def periods(plan: Plan) -> list[tuple[date, date, int]]:
    """(first day of the month, due date, calendar month) for each billed month, oldest first."""
    out = []
    for back in range(plan.months - 1, -1, -1):
        months = plan.end_month.year * 12 + plan.end_month.month - 1 - back
        year, month = divmod(months, 12)
        due_year, due_month = divmod(months + 1, 12)
        out.append((date(year, month + 1, 1), date(due_year, due_month + 1, 20), month))
    return out


def generate_rows(plan: Plan) -> Iterator[tuple[tuple, list[tuple]]]:
    """Yield (customer row, its bill rows) in id order; the order of draws fixes the data."""
    rng = random.Random(plan.seed)
    rand, choice, lognorm = rng.random, rng.choice, rng.lognormvariate
    city_weights = [0.6 + rand() for _ in plan.cities]
    city_counties = {city: counties(city) for city in plan.cities}
    city_codes = {city: schema.CITIES.index(city) + 1 for city in plan.cities}
    tariffs = list(TARIFF_MIX)
    tariff_weights = [TARIFF_MIX[t][0] for t in tariffs]
    calendar = periods(plan)
    latest = len(calendar) - 1
    for cid in range(1, plan.customers + 1):
        city = rng.choices(plan.cities, city_weights)[0]
        county = choice(city_counties[city])
        tariff = rng.choices(tariffs, tariff_weights)[0]
        given = choice(GIVEN).capitalize() + (choice(GIVEN) if rand() < 0.7 else "")
        address = f"No. {1 + int(rand() * 400)} {choice(ROADS)} Road, {county}, {city}"
        balance = int(rand() * 20_000) - (int(rand() * 30_000) if rand() < 0.08 else 0)
        customer = (
            cid,
            f"{choice(SURNAMES)} {given}",
            city,
            county,
            address,
            f"{city_codes[city]:02d}{cid:010d}",
            tariff,
            balance * (1 if tariff == "residential" else 10),
        )
        _, mu, sigma, price = TARIFF_MIX[tariff]
        base = lognorm(mu, sigma)
        bills = []
        first_id = (cid - 1) * plan.months + 1
        for k, (period, due, month) in enumerate(calendar):
            kwh = max(1, int(base * SEASON[month] * (0.85 + 0.3 * rand())))
            amount = kwh * price
            age = latest - k
            draw = rand()
            if draw < (0.70 if age == 0 else 0.10 if age == 1 else 0.02):
                status, paid = "unpaid", 0
            elif draw < (0.75 if age == 0 else 0.15 if age == 1 else 0.03) and amount > 1:
                status, paid = (
                    "partial",
                    max(1, min(amount - 1, int(amount * (0.2 + 0.6 * rand())))),
                )
            else:
                status, paid = "paid", amount
            bills.append((first_id + k, cid, period, kwh, amount, paid, status, due))
        yield customer, bills


class Progress:
    """Prints a line on stderr about every 10% so a long run visibly moves."""

    def __init__(self, total: int, label: str, write: Callable[[str], None]) -> None:
        self.total, self.label, self.write = total, label, write
        self.step = max(1, total // 10)
        self.next = self.step
        self.started = time.monotonic()

    def update(self, done: int) -> None:
        if done >= self.next or done == self.total:
            rate = done / max(time.monotonic() - self.started, 1e-9)
            self.write(f"{self.label}: {done}/{self.total} customers ({rate:,.0f}/s)")
            self.next = done + self.step


async def _stream(plan: Plan, customers: list[tuple], progress: Progress) -> AsyncIterator[tuple]:
    """Bill rows for COPY; customer rows are collected on the side for the second COPY."""
    for done, (customer, bills) in enumerate(generate_rows(plan), start=1):
        customers.append(customer)
        for bill in bills:
            yield bill
        if done % 2000 == 0 or done == plan.customers:
            progress.update(done)
            await asyncio.sleep(0)


async def recorded_plan(conn: asyncpg.Connection) -> dict[str, str] | None:
    """The plan of the data already in the database, or None if there is none."""
    exists = await conn.fetchval("SELECT to_regclass('marketing_meta') IS NOT NULL")
    if not exists:
        return None
    return dict(await conn.fetch("SELECT key, value FROM marketing_meta"))


async def generate(
    dsn: str,
    plan: Plan,
    force: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Result:
    """Create the schema and load the data, unless the same plan is already loaded."""
    started = time.monotonic()
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "emops-datagen"})
    try:
        if not force and await recorded_plan(conn) == plan.meta():
            log(f"datagen: {plan.customers} customers (seed {plan.seed}) already loaded; skipped")
            return Result(plan, True, time.monotonic() - started)
        log(f"datagen: generating {plan.customers} customers, {plan.bills} bills")
        async with conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute(schema.DROP + schema.TABLES)
            customers: list[tuple] = []
            progress = Progress(plan.customers, "datagen", log)
            await conn.copy_records_to_table(
                "bills", records=_stream(plan, customers, progress), columns=BILL_COLUMNS
            )
            await conn.copy_records_to_table(
                "customers", records=customers, columns=CUSTOMER_COLUMNS
            )
            log("datagen: building indexes")
            await conn.execute(schema.INDEXES + schema.SERVICE_TABLES)
            await conn.executemany(
                "INSERT INTO marketing_meta (key, value) VALUES ($1, $2)", plan.meta().items()
            )
        await conn.execute("ANALYZE customers; ANALYZE bills")
    finally:
        await conn.close()
    seconds = time.monotonic() - started
    log(f"datagen: {plan.customers} customers, {plan.bills} bills in {seconds:.1f} s")
    return Result(plan, False, seconds)


def parse_plan(args: argparse.Namespace) -> Plan:
    """Check the CLI arguments and turn them into a plan; EmopsError names what is wrong."""
    if args.customers < 1:
        raise EmopsError.of("--customers", f"{args.customers} must be 1 or more")
    if not 1 <= args.months <= 120:
        raise EmopsError.of("--months", f"{args.months} must be from 1 to 120")
    cities = tuple(c.strip().lower() for c in args.cities.split(",") if c.strip())
    unknown = [c for c in cities if c not in schema.CITIES]
    if unknown or not cities:
        raise EmopsError.of(
            "--cities",
            f"unknown city {unknown[0] if unknown else '(none)'!r}",
            "choose from " + ",".join(schema.CITIES),
        )
    try:
        year, month = (int(part) for part in args.end_month.split("-"))
        end_month = date(year, month, 1)
    except ValueError:
        raise EmopsError.of("--end-month", f"{args.end_month!r} is not YYYY-MM") from None
    return Plan(args.customers, args.seed, tuple(dict.fromkeys(cities)), end_month, args.months)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.marketing.datagen", description=__doc__)
    parser.add_argument("--dsn", required=True, help="postgresql://user@host:port/db")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cities", default=",".join(schema.CITIES), help="comma-separated")
    parser.add_argument("--end-month", default=DEFAULT_END_MONTH.strftime("%Y-%m"))
    parser.add_argument("--months", type=int, default=12, help="bills per customer")
    parser.add_argument("--force", action="store_true", help="recreate even if already loaded")
    args = parser.parse_args(argv)
    try:
        plan = parse_plan(args)
        asyncio.run(generate(args.dsn, plan, force=args.force))
    except EmopsError as exc:
        return report_problems(exc, "datagen: ")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        print(f"datagen: database error: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
