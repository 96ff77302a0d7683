"""PostgreSQL: the primary is up, and the standby is there and keeping up.

Generated per database server of the inventory (host variable `db_role`), so a
standby that vanished altogether is noticed too, not only one that lags.
"""

from __future__ import annotations

from emops.monitoring.inventory_view import Database, databases
from emops.monitoring.promql import evidence, literal, quote
from emops.monitoring.rules.constructors import alert, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

APP_COLLECTOR_UP = 'max(up{job="emops-app"}) == 1'


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.database` rule group."""
    rules: list[dict] = []
    for db in databases(topo):
        rules.append(down_alert(db, s))
        if db.db_role == "standby":
            rules += standby_alerts(db, s)
    return rule_group("emops.database", rules)


def _labels(db: Database, **extra: str) -> dict[str, str]:
    return {"device": db.device, "site": db.site, "role": db.role, **extra}


def down_alert(db: Database, s: MonitorSettings) -> dict:
    return alert(
        "DatabaseDown",
        f"max(emops_postgres_up{{device={quote(db.device)}}}) == 0",
        severity="info",
        wait=s.timing.confirm_for,
        labels=_labels(db, db_role=db.db_role),
        summary=f"PostgreSQL {db.db_role} {db.device} is down",
        description=f"""
            The application collector cannot query PostgreSQL on {db.device}
            (emops_postgres_up = 0). The marketing service's own alert pages if users
            are affected.
            """,
    )


def standby_alerts(db: Database, s: MonitorSettings) -> list[dict]:
    lag = f"emops_postgres_replication_lag_seconds{{device={quote(db.device)}}}"
    limit = s.thresholds.replication_lag_seconds
    pg_up = evidence(literal(f"emops_postgres_up{{device={quote(db.device)}}}"))
    return [
        alert(
            "DatabaseReplicationLag",
            f"max({lag}) > {limit:g}",
            severity="info",
            wait=s.timing.confirm_for,
            labels=_labels(db, reason="lag"),
            summary=f"standby {db.device} is {{{{ $value | humanizeDuration }}}} behind",
            description=f"""
                Standby {db.device} replays the primary's changes
                {{{{ $value | humanizeDuration }}}} late (threshold {limit:g}s): a failover now
                would lose those transactions.
                """,
        ),
        alert(
            "DatabaseReplicationLag",
            f"""
            (
                absent({lag})
              or
                (max by (device) (emops_postgres_up{{device={quote(db.device)}}}) == 0)
            )
            and on () ({APP_COLLECTOR_UP})
            """,
            severity="info",
            wait=s.timing.confirm_for,
            labels=_labels(db, reason="standby_missing"),
            summary=f"standby {db.device} is missing",
            description=f"""
                Standby {db.device} reports no replication (PostgreSQL up:
                {pg_up})
                while the application collector is up: the primary runs without a copy.
                """,
        ),
    ]
