"""The capacity plan as a table for people, CSV and JSON for tools."""

from __future__ import annotations

import csv
import io
import json

from capacity.plan import LinkPlan
from emops.units import format_rate

COLUMNS = (
    "site",
    "link",
    "role",
    "capacity_bps",
    "demand_bps",
    "pingpong_bps",
    "pingpong_refined_bps",
    "bulk_bps",
    "utilisation",
    "required_bps",
    "recommended",
    "status",
)


def plan_records(rows: list[LinkPlan]) -> list[dict[str, object]]:
    """Plain records with raw numbers (bit/s, ratios): the one shape CSV and JSON share."""
    return [
        {
            "site": r.site,
            "link": r.link,
            "role": r.role,
            "capacity_bps": round(r.capacity_bps),
            "demand_bps": round(r.demand_bps),
            "pingpong_bps": round(r.demand.pingpong_bps),
            "pingpong_refined_bps": round(r.demand.pingpong_refined_bps),
            "bulk_bps": round(r.demand.bulk_bps),
            "utilisation": round(r.utilisation, 4),
            "required_bps": round(r.required_bps),
            "recommended": r.recommended,
            "status": r.status,
        }
        for r in rows
    ]


def to_csv(rows: list[LinkPlan]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(plan_records(rows))
    return out.getvalue()


def to_json(rows: list[LinkPlan], meta: dict[str, object]) -> str:
    return json.dumps({**meta, "links": plan_records(rows)}, indent=2) + "\n"


def to_table(rows: list[LinkPlan]) -> str:
    """Fixed-width text: what a planner reads in a terminal."""
    head = (
        "site",
        "link",
        "role",
        "capacity",
        "demand",
        "refined",
        "util",
        "need+headroom",
        "recommend",
        "status",
    )
    body = [
        (
            r.site,
            r.link,
            r.role,
            format_rate(r.capacity_bps),
            format_rate(r.demand_bps),
            format_rate(r.demand.total_refined_bps),
            f"{r.utilisation:.1%}",
            format_rate(r.required_bps),
            r.recommended,
            r.status.upper() if r.status != "ok" else "ok",
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    right = {3, 4, 5, 6, 7}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    upgrades = sum(r.status != "ok" for r in rows)
    summary = f"{len(rows)} links planned, {upgrades} need an upgrade"
    return "\n".join([line(head), rule, *(line(b) for b in body), "", summary]) + "\n"
