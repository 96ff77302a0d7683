"""Tables of the stand-in marketing database and the vocabulary they share.

Money is integer fen (1 yuan = 100 fen) everywhere, so sums and checksums are
exact. Indexes are built after the bulk load (faster than maintaining them row
by row); `DROP` lists the tables in dependency order so a re-run recreates cleanly.
"""

from __future__ import annotations

CITIES: tuple[str, ...] = (
    "anping", "baishan", "changle", "dongtai", "fenghe", "guanyun",
    "hengli", "jinxi", "lianshan", "meixi", "nanfeng", "qinghe",
)  # fmt: skip
TARIFFS: tuple[str, ...] = ("residential", "commercial", "industrial")
BILL_STATUSES: tuple[str, ...] = ("unpaid", "partial", "paid")
TICKET_STATUSES: tuple[str, ...] = ("open", "assigned", "resolved")
TICKET_CATEGORIES: tuple[str, ...] = ("outage", "billing", "meter", "connection", "complaint")
SCHEMA_VERSION = "1"

TABLES = """
CREATE TABLE marketing_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE customers (
    id integer NOT NULL,
    name text NOT NULL,
    city text NOT NULL,
    county text NOT NULL,
    address text NOT NULL,
    meter_id text NOT NULL,
    tariff text NOT NULL CHECK (tariff IN ('residential', 'commercial', 'industrial')),
    balance_fen bigint NOT NULL
);
CREATE TABLE bills (
    id bigint NOT NULL,
    customer_id integer NOT NULL,
    period date NOT NULL,
    kwh integer NOT NULL CHECK (kwh >= 0),
    amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
    paid_fen bigint NOT NULL CHECK (paid_fen >= 0 AND paid_fen <= amount_fen),
    status text NOT NULL CHECK (status IN ('unpaid', 'partial', 'paid')),
    due_date date NOT NULL
);
"""

# Built once the bulk COPY is done.
INDEXES = """
ALTER TABLE customers ADD PRIMARY KEY (id);
ALTER TABLE customers ADD CONSTRAINT customers_meter_id_key UNIQUE (meter_id);
CREATE INDEX customers_city_idx ON customers (city);
ALTER TABLE bills ADD PRIMARY KEY (id);
ALTER TABLE bills ADD CONSTRAINT bills_customer_period_key UNIQUE (customer_id, period);
ALTER TABLE bills ADD CONSTRAINT bills_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id);
"""

# Written by the service; empty after generation.
SERVICE_TABLES = """
CREATE TABLE payments (
    id bigserial PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    request_sha256 text NOT NULL,
    customer_id integer NOT NULL REFERENCES customers (id),
    bill_id bigint NOT NULL REFERENCES bills (id),
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    response text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_bill_idx ON payments (bill_id);
CREATE TABLE tickets (
    id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    category text NOT NULL,
    description text NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'resolved')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ticket_events (
    id bigserial PRIMARY KEY,
    ticket_id bigint NOT NULL REFERENCES tickets (id),
    from_status text NOT NULL,
    to_status text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id);
"""

DROP = """
DROP TABLE IF EXISTS ticket_events, tickets, payments, bills, customers, marketing_meta;
"""
