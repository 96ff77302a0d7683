"""One run's raw material -> its score (a flat dict of the paper's numbers), and runs -> summary.

Pure: the runner gathers records, events, ground truth and alerts, this module
turns them into the JSON the report and the dashboard read. Every number a
figure shows is in `metrics`; the details (which fault was detected when,
which quiet window saw which alert, which worker died) sit beside it so a
surprising number can be explained from the same file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from loadtest.campaign import Campaign
from loadtest.intervals import Proportion, mean_interval, wilson
from loadtest.scoring import (
    AlarmScore,
    Alert,
    Request,
    Window,
    fault_kind,
    faults_from_ground_truth,
    percentile,
    request_metrics,
    score_alarms,
    select_alerts,
)

# (key, label, figure) in report order; the report and the CSVs use these keys.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("requests", "requests", ""),
    ("requests_per_second", "requests per second", "2"),
    ("p50_ms", "delay p50 (ms)", "2"),
    ("p95_ms", "delay p95 (ms)", "2"),
    ("p99_ms", "delay p99 (ms)", "2"),
    ("mean_ms", "delay mean (ms)", "2"),
    ("downtime_rate", "downtime rate (failed / requests)", "3"),
    ("unavailable_rate", "unavailable seconds / seconds", "3"),
    ("data_precision", "data precision (1 - failed checks / checks)", "4"),
    ("alarm_precision", "alarm precision TP / (TP + FP)", "4"),
    ("false_alarm_rate", "false alarm rate FP / (FP + TN)", "5"),
    ("detection_rate", "detection rate TP / (TP + FN)", ""),
    ("detection_s_mean", "mean detection time (s)", ""),
)


def _alert_json(a: Alert) -> dict[str, Any]:
    return {
        "name": a.name,
        "labels": dict(a.labels),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
    }


def _alarm_json(score: AlarmScore) -> dict[str, Any]:
    return {
        "tp": score.tp,
        "fn": score.fn,
        "fp": score.fp,
        "tn": score.tn,
        "detections": [
            {
                "fault": d.fault.label,
                "kind": fault_kind(d.fault),
                "start": d.fault.start,
                "end": d.fault.end,
                "detected_s": d.seconds,
                "alert": None if d.alert is None else d.alert.name,
                "instead": [_alert_json(a) for a in d.instead],
            }
            for d in score.detections
        ],
        "false_alarms": [
            {"window": [w.start, w.end], "alerts": [_alert_json(a) for a in alerts]}
            for w, alerts in score.false_alarms
        ],
        "uncleared": [_alert_json(a) for a in score.uncleared],
        "unscored": len(score.unscored),
        "unmatched_in_faults": len(score.unmatched_in_faults),
    }


def score_run(
    campaign: Campaign,
    records: Sequence[Request],
    ground_truth: Sequence[Mapping[str, Any]],
    alerts: Sequence[Alert] | None,
    t0: float,
    t_end: float,
) -> dict[str, Any]:
    """The run's metrics and details. `alerts` None: no alert source, alarm metrics undefined."""
    m = request_metrics(records, campaign.scoring.unavailable_failure_ratio)
    metrics: dict[str, float | int | None] = {
        "requests": m.requests,
        "failures": m.failures,
        "checks": m.checks,
        "check_failures": m.check_failures,
        "seconds": m.seconds,
        "unavailable_seconds": m.unavailable_seconds,
        "requests_per_second": m.requests_per_second,
        "p50_ms": m.p50_ms,
        "p95_ms": m.p95_ms,
        "p99_ms": m.p99_ms,
        "mean_ms": m.mean_ms,
        "downtime_rate": m.downtime_rate,
        "unavailable_rate": m.unavailable_rate,
        "data_precision": m.data_precision,
    }
    alarms = None
    keys = ("alarm_precision", "false_alarm_rate", "detection_rate", "detection_s_mean")
    metrics.update(dict.fromkeys(keys))
    metrics.update(dict.fromkeys(("tp", "fn", "fp", "tn")))
    if alerts is not None:
        chosen = select_alerts(alerts, campaign.alerts.ignore, campaign.alerts.severities)
        windows = [Window(t0 + a, t0 + b) for a, b in campaign.quiet]
        score = score_alarms(
            faults_from_ground_truth(ground_truth),
            chosen,
            windows,
            campaign.scoring.grace_s,
            campaign.matchers_for,
            run_end=t_end,
        )
        seconds = score.detection_seconds
        metrics.update(
            alarm_precision=score.alarm_precision,
            false_alarm_rate=score.false_alarm_rate,
            detection_rate=score.detection_rate,
            detection_s_mean=sum(seconds) / len(seconds) if seconds else None,
            tp=score.tp,
            fn=score.fn,
            fp=score.fp,
            tn=score.tn,
        )
        alarms = _alarm_json(score)
    return {"metrics": metrics, "alarms": alarms}


RATIOS = {"downtime_rate", "unavailable_rate", "data_precision", "alarm_precision"}
RATIOS |= {"false_alarm_rate", "detection_rate"}


def summarize(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | int | None]]:
    """Mean and 95% t-interval over runs of every metric in METRICS.

    The interval is clipped to what the metric can be (never below 0; ratios
    never above 1): with few, spread runs the t-interval would otherwise show
    negative delays, which says nothing but confuses a reader.
    """
    summary = {}
    for key, _, _ in METRICS:
        iv = mean_interval([run["metrics"].get(key) for run in runs])
        low, high = iv.low, iv.high
        if low is not None and high is not None:
            low, high = max(0.0, low), (min(1.0, high) if key in RATIOS else high)
        summary[key] = {"n": iv.n, "mean": iv.mean, "low": low, "high": high}
    return summary


def _proportion(p: Proportion) -> dict[str, float | int | None]:
    return {"k": p.k, "n": p.n, "rate": p.rate, "low": p.low, "high": p.high}


def pooled(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | int | None]]:
    """Detection rate, alarm precision and false-alarm rate over every sample of every
    run, with 95% Wilson intervals: the samples, not the runs, are the trials."""
    total = {k: 0 for k in ("tp", "fn", "fp", "tn")}
    for run in runs:
        for k in total:
            total[k] += run["metrics"].get(k) or 0
    tp, fn, fp, tn = (total[k] for k in ("tp", "fn", "fp", "tn"))
    return {
        "detection_rate": _proportion(wilson(tp, tp + fn)),
        "alarm_precision": _proportion(wilson(tp, tp + fp)),
        "false_alarm_rate": _proportion(wilson(fp, fp + tn)),
    }


def kind_table(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per fault kind over all runs: faults, detected (Wilson), misattributed (something
    else fired instead), detection time median and p95, and each miss with what fired."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        for d in (run.get("alarms") or {}).get("detections", []):
            kind = d.get("kind") or d["fault"].split(" ", 1)[0]
            row = rows.setdefault(kind, {"kind": kind, "seconds": [], "faults": 0, "misses": []})
            row["faults"] += 1
            if d["detected_s"] is not None:
                row["seconds"].append(d["detected_s"])
            else:
                instead = sorted({a["name"] for a in d.get("instead", [])})
                row["misses"].append(
                    {"run": run.get("run"), "fault": d["fault"], "instead": instead}
                )
    out = []
    for kind in sorted(rows):
        row = rows[kind]
        seconds = sorted(row.pop("seconds"))
        row["detected"] = _proportion(wilson(len(seconds), row["faults"]))
        row["misattributed"] = sum(1 for m in row["misses"] if m["instead"])
        row["median_s"] = percentile(seconds, 0.5)
        row["p95_s"] = percentile(seconds, 0.95)
        out.append(row)
    return out


def _iso(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _per_second(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def dashboard_summary(results: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json in the dashboard's format (dashboard/campaigns.py): one flat record per run."""
    runs = []
    for run in results.get("runs", []):
        m = run["metrics"]
        runs.append(
            {
                "run": run["run"],
                "tests": m["requests"],
                "failed": m["failures"],
                **{k: m.get(k) for k in ("tp", "fp", "fn", "tn")},
                "delay_p50_s": _per_second(m.get("p50_ms")),
                "delay_p95_s": _per_second(m.get("p95_ms")),
                **{k: m.get(k) for k in ("downtime_rate", "data_precision")},
                **{k: m.get(k) for k in ("alarm_precision", "false_alarm_rate")},
            }
        )
    starts = [r.get("t0") for r in results.get("runs", []) if r.get("t0") is not None]
    ends = [r.get("t_end") for r in results.get("runs", []) if r.get("t_end") is not None]
    return {
        "campaign": results.get("campaign", ""),
        "scenario": results.get("description", ""),
        "started": _iso(min(starts) if starts else None),
        "finished": _iso(max(ends) if ends else None),
        "runs": runs,
    }
