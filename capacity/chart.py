"""A self-contained HTML picture of demand against capacity per site.

Inline SVG, no JavaScript and no libraries: it opens anywhere, diffs as text and
is easy to test. Bars use a logarithmic axis because 2M backup bundles and GE
private links differ by three orders of magnitude.
"""

from __future__ import annotations

import math
from html import escape

from capacity.plan import LinkPlan
from emops.units import format_rate

_ROW = 26
_LEFT = 170
_WIDTH = 620
_LOW, _HIGH = 1e5, 1e10  # 100 kbit/s .. 10 Gbit/s


def _x(bps: float) -> float:
    clamped = min(max(bps, _LOW), _HIGH)
    return _LEFT + _WIDTH * (math.log10(clamped) - math.log10(_LOW)) / (
        math.log10(_HIGH) - math.log10(_LOW)
    )


def plan_chart(rows: list[LinkPlan], title: str) -> str:
    height = 60 + _ROW * len(rows) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LEFT + _WIDTH + 140}" '
        f'height="{height}" font-family="sans-serif" font-size="12">'
    ]
    for tick in range(5, 11):  # axis: 100k .. 10G
        x = _x(10.0**tick)
        parts.append(f'<line x1="{x:.1f}" y1="40" x2="{x:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">'
            f"{format_rate(10.0**tick)}</text>"
        )
    for i, r in enumerate(rows):
        y = 50 + i * _ROW
        colour = "#2e7d32" if r.status == "ok" else "#c62828"
        label = f"{r.site} {r.role}"
        parts.append(f'<text x="{_LEFT - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect class="capacity" x="{_LEFT}" y="{y}" width="{_x(r.capacity_bps) - _LEFT:.1f}" '
            f'height="18" fill="#e3eaf5" stroke="#90a4c8"><title>capacity '
            f"{format_rate(r.capacity_bps)}</title></rect>"
        )
        parts.append(
            f'<rect class="demand" data-site="{escape(r.site)}" data-role="{r.role}" '
            f'data-demand-bps="{round(r.demand_bps)}" data-capacity-bps="{round(r.capacity_bps)}" '
            f'x="{_LEFT}" y="{y + 4}" width="{_x(r.demand_bps) - _LEFT:.1f}" height="10" '
            f'fill="{colour}"><title>demand {format_rate(r.demand_bps)} '
            f"({r.utilisation:.1%})</title></rect>"
        )
        parts.append(
            f'<text x="{_LEFT + _WIDTH + 8}" y="{y + 14}">{escape(r.recommended)} '
            f"{escape(r.status)}</text>"
        )
    parts.append("</svg>")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>\n<h1>{escape(title)}</h1>\n"
        "<p>Bars: demand per direction (green fits, red needs an upgrade) over the link's "
        "capacity (light box); backup rows show critical traffic only. Right: recommended "
        "standard circuit.</p>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
