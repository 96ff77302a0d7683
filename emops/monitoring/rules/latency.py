"""Latency SLO: 99 % of VIP probes answer within 500 ms, watched as burn rates.

Multi-window, multi-burn-rate alerting (Google SRE workbook, "Alerting on
SLOs"): a long window proves the error budget is really being spent, a short
one that it still is (so the alert clears soon after the cause). A fast burn
pages, a slow burn only informs. The lab uses shorter windows than the province
because a fault campaign lasts minutes, not days.
"""

from __future__ import annotations

from emops.monitoring.rules.constructors import alert, record, rule_group
from emops.monitoring.settings import BurnWindow, MonitorSettings
from emops.topology import Topology


def group(topo: Topology, s: MonitorSettings) -> dict:
    """The `emops.latency` rule group."""
    t = s.timing
    windows = sorted({w for b in (t.burn_page, t.burn_info) for w in (b.long, b.short)}, key=_secs)
    rules = [slow_ratio(w, s) for w in windows]
    rules.append(burn_alert(t.burn_page, "page", "fast", s))
    rules.append(burn_alert(t.burn_info, "info", "slow", s))
    return rule_group("emops.latency", rules)


def _secs(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(duration[:-1]) * units[duration[-1]]


def _le(s: MonitorSettings) -> str:
    return f"{s.thresholds.slo_latency_seconds:g}"


def slow_ratio(window: str, s: MonitorSettings) -> dict:
    """The share of VIP probes slower than the SLO bound (needs a bucket at that bound)."""
    return record(
        f"emops:probe_slow_ratio:rate{window}",
        f"""
        1 - (
            sum by (service, site) (
              rate(emops_probe_duration_seconds_bucket{{target="vip", le="{_le(s)}"}}[{window}]))
          /
            sum by (service, site) (
              rate(emops_probe_duration_seconds_count{{target="vip"}}[{window}]))
        )
        """,
    )


def burn_alert(burn: BurnWindow, severity: str, speed: str, s: MonitorSettings) -> dict:
    budget = 1 - s.thresholds.slo_target
    threshold = f"{burn.factor * budget:.6g}"
    bound_ms = f"{s.thresholds.slo_latency_seconds * 1000:g}"
    return alert(
        "LatencyBurning",
        f"""
        emops:probe_slow_ratio:rate{burn.long} > {threshold}
        and
        emops:probe_slow_ratio:rate{burn.short} > {threshold}
        """,
        severity=severity,
        wait=s.timing.confirm_for,
        labels={"burn": speed},
        summary=(
            "{{ $labels.service }} latency from {{ $labels.site }} burns its error budget "
            f"{burn.factor:g}x"
        ),
        description=f"""
            {{{{ $value | humanizePercentage }}}} of {{{{ $labels.service }}}} VIP probes from
            {{{{ $labels.site }}}} took longer than {bound_ms} ms over the last {burn.long},
            and still more than {threshold} over the last {burn.short}; the SLO allows
            {budget:.2%} ({s.thresholds.slo_target:.0%} within {bound_ms} ms).
            """,
    )
