"""PostgreSQL: the primary is up, the standby is there and keeping up, and exactly one
server takes writes (which one, the servers say themselves: a failover moves it).

Generated per database server of the inventory (host variable `db_role`), so a
standby that vanished altogether is noticed too, not only one that lags.
"""

from __future__ import annotations

from emops.monitoring.inventory_view import Database, databases
from emops.monitoring.promql import devices_selector, evidence, literal, quote
from emops.monitoring.rules.constructors import alert, rule_group
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

APP_COLLECTOR_UP = 'max(up{job="emops-app"}) == 1'


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.database` rule group."""
    rules: list[dict] = []
    dbs = databases(topo)
    for db in dbs:
        rules.append(down_alert(db, s))
        if db.db_role == "standby":
            rules += standby_alerts(db, s)
    if len(dbs) > 1:
        rules += role_alerts(dbs, s)
    return rule_group("emops.database", rules)


def role_alerts(dbs: list[Database], s: MonitorSettings) -> list[dict]:
    """Which server takes writes, read from the servers themselves (`pg_is_in_recovery`),
    not from the inventory's `db_role`: after a failover the standby is the primary.
    Judged only while the application collector is up; a server that does not answer
    counts as neither."""
    t = s.timing
    names = [d.device for d in dbs]
    primary = devices_selector("emops_postgres_primary", names)
    roles = evidence(
        literal(primary),
        "{{ range $i, $s := . }}{{ if $i }}, {{ end }}{{ $s.Labels.device }} "
        "{{ if eq $s.Value 1.0 }}primary{{ else }}standby{{ end }}{{ end }}",
        none="none answers",
        sort_by="device",
    )
    labels = {"site": ",".join(sorted({d.site for d in dbs})), "role": "db"}
    servers = ", ".join(names)
    return [
        alert(
            "DatabaseFailover",
            f"sum(changes({primary}[{t.change_window}])) > 0",
            severity="info",
            labels=labels,
            summary="the database primary moved",
            description=f"""
                Which of {servers} takes writes changed ({{{{ $value }}}} transitions in
                the last {t.change_window}); now: {roles}.
                """,
        ),
        alert(
            "DatabaseNoPrimary",
            f"""
            ((sum({primary}) or vector(0)) == 0)
            and on () ({APP_COLLECTOR_UP})
            """,
            severity="page",
            wait=t.confirm_for,
            labels=labels,
            summary="no database server takes writes",
            description=f"""
                None of {servers} accepts writes (answering: {roles}): payments, bills and
                tickets cannot be written until a standby is promoted.
                """,
        ),
        alert(
            "DatabaseTwoPrimaries",
            f"sum({primary}) > 1",
            severity="page",
            wait=t.confirm_for,
            labels=labels,
            summary="{{ $value }} database servers take writes",
            description=f"""
                More than one of {servers} accepts writes ({roles}): split brain, each
                takes payments the other never sees.
                """,
        ),
        alert(
            "DatabaseNoStandby",
            f"""
            ((count({primary} == 0) or vector(0)) == 0)
            and on () ({APP_COLLECTOR_UP})
            """,
            severity="page",
            wait=t.confirm_for,
            labels=labels,
            summary="no database standby: the next failure loses the database",
            description=f"""
                No server among {servers} replays as a standby (answering: {roles}): the
                primary runs without a copy and nothing is left to take over.
                """,
        ),
    ]


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
