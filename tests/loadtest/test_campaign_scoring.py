"""Scoring on constructed timelines: every rule of loadtest/scoring.py's docstring."""

from __future__ import annotations

import pytest

from loadtest.scoring import (
    Alert,
    Fault,
    Matcher,
    Request,
    Window,
    default_matchers,
    fault_kind,
    faults_from_ground_truth,
    merge_duplicates,
    percentile,
    request_metrics,
    score_alarms,
    select_alerts,
)

GRACE = 10.0


def gt(time: float, event: str, kind: str, target: str, **detail: object) -> dict:
    return {"time": time, "event": event, "kind": kind, "target": target, **detail}


def link_alert(start: float, end: float | None, link: str = "anping-private") -> Alert:
    return Alert.of("LinkDown", {"link": link, "severity": "info"}, start, end)


# --- ground truth ---------------------------------------------------------------


def test_faults_pair_with_their_own_repairs() -> None:
    entries = [
        gt(100, "fault", "link", "anping-private"),
        gt(110, "fault", "daemon", "hq-db2", daemon="postgresql"),
        gt(105, "repair", "link", "baishan-private"),  # repairs something from before: ignored
        gt(130, "repair", "link", "anping-private"),
        gt(140, "repair", "daemon", "hq-db2", daemon="postgresql"),
        gt(150, "fault", "device", "hq-web1"),  # never repaired
    ]
    faults = faults_from_ground_truth(entries)
    assert [(f.kind, f.target, f.start, f.end) for f in faults] == [
        ("link", "anping-private", 100, 130),
        ("daemon", "hq-db2", 110, 140),
        ("device", "hq-web1", 150, None),
    ]
    assert faults[1].label == "daemon hq-db2 daemon=postgresql"


def test_bundle_members_are_separate_faults() -> None:
    entries = [
        gt(1, "fault", "link", "anping-backup", member=0),
        gt(2, "fault", "link", "anping-backup", member=1),
        gt(3, "repair", "link", "anping-backup", member=1),
    ]
    faults = faults_from_ground_truth(entries)
    assert [(f.detail, f.end) for f in faults] == [
        ((("member", "0"),), None),
        ((("member", "1"),), 3),
    ]


# --- alarms ---------------------------------------------------------------------


def test_detected_fault_and_quiet_window() -> None:
    faults = [Fault("link", "anping-private", 100, 130)]
    alerts = [link_alert(112, 135)]
    score = score_alarms(faults, alerts, [Window(200, 230)], GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (1, 0, 0, 1)
    assert score.detections[0].seconds == 12
    assert score.alarm_precision == 1.0 and score.false_alarm_rate == 0.0


def test_fault_with_no_alert_is_a_false_negative() -> None:
    score = score_alarms([Fault("device", "hq-web1", 100, 130)], [], [Window(0, 50)], GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (0, 1, 0, 1)
    assert score.detections[0].alert is None and score.detection_seconds == []
    assert score.alarm_precision is None  # no alert at all: undefined, not 0 or 1
    assert score.detection_rate == 0.0


def test_alert_about_another_target_does_not_detect() -> None:
    faults = [Fault("link", "anping-private", 100, 130)]
    score = score_alarms(faults, [link_alert(110, 120, link="baishan-private")], [], GRACE)
    assert score.fn == 1 and len(score.unmatched_in_faults) == 1


def test_an_undetected_fault_with_another_alert_is_misattributed() -> None:
    faults = [Fault("link", "anping-private", 100, 130), Fault("device", "hq-web1", 200, 230)]
    other = Alert.of("SnmpTargetDown", {"device": "anping-wan"}, 104, 140)
    score = score_alarms(faults, [other], [], GRACE)
    wrong, silent = score.detections
    assert wrong.misattributed and wrong.instead == (other,)
    assert not silent.misattributed and silent.instead == ()  # nothing fired: a plain miss
    detected = score_alarms(faults[:1], [link_alert(110, 120), other], [], GRACE).detections[0]
    assert not detected.misattributed and detected.instead == ()


def test_faults_are_scored_by_kind_and_daemon() -> None:
    assert fault_kind(Fault("daemon", "hq-cti1", 0, 1, (("daemon", "cti"),))) == "daemon cti"
    assert fault_kind(Fault("link", "anping-backup", 0, 1, (("member", "0"),))) == "link member"
    assert fault_kind(Fault("device", "hq-web1", 0, 1)) == "device"


def test_late_alert_after_grace_is_fn_and_fp_where_it_lands() -> None:
    faults = [Fault("link", "anping-private", 100, 130)]
    late = link_alert(145, 160)  # repair 130 + grace 10 = 140 < 145
    score = score_alarms(faults, [late], [Window(142, 170)], GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (0, 1, 1, 0)
    assert score.false_alarms[0][1] == [late]


def test_alert_within_grace_after_repair_still_detects() -> None:
    score = score_alarms(
        [Fault("link", "anping-private", 100, 130)], [link_alert(138, 150)], [], GRACE
    )
    assert score.tp == 1 and score.detections[0].seconds == 38


def test_alert_that_never_clears_is_a_false_alarm_in_later_quiet_windows() -> None:
    faults = [Fault("link", "anping-private", 100, 130)]
    stuck = link_alert(112, None)
    windows = [Window(200, 230), Window(300, 330)]
    score = score_alarms(faults, [stuck], windows, GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (1, 0, 2, 0)
    assert score.uncleared == [stuck]
    assert score.alarm_precision == pytest.approx(1 / 3)
    assert score.false_alarm_rate == 1.0


def test_alert_already_firing_before_the_fault_does_not_detect_it() -> None:
    faults = [Fault("link", "anping-private", 100, 130)]
    earlier = link_alert(50, None)
    score = score_alarms(faults, [earlier], [], GRACE)
    assert score.fn == 1 and score.unscored == [earlier]


def test_duplicate_alerts_count_once() -> None:
    faults = [Fault("link", "anping-private", 100, 130)]
    quiet_alarm = [
        Alert.of("SnmpTargetDown", {"device": "hq-fw"}, s, e) for s, e in ((205, 215), (207, 212))
    ]
    alerts = [link_alert(112, 140), link_alert(113, 139), link_alert(112, 140), *quiet_alarm]
    score = score_alarms(faults, alerts, [Window(200, 230)], GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (1, 0, 1, 0)
    assert len(score.false_alarms[0][1]) == 1  # two reports of one alert merged
    assert score.detections[0].alert == Alert.of(
        "LinkDown", {"link": "anping-private", "severity": "info"}, 112, 140
    )


def test_merge_keeps_separate_episodes_and_open_ends() -> None:
    merged = merge_duplicates([link_alert(10, 20), link_alert(30, 40), link_alert(35, None)])
    assert [(a.starts_at, a.ends_at) for a in merged] == [(10, 20), (30, None)]


def test_overlapping_faults_are_scored_separately() -> None:
    faults = [
        Fault("link", "anping-private", 100, 160),
        Fault("daemon", "hq-db2", 120, 150, (("daemon", "postgresql"),)),
    ]
    alerts = [
        link_alert(110, 165),
        Alert.of(
            "DatabaseReplicationLag", {"device": "hq-db2", "reason": "standby_missing"}, 131, 152
        ),
    ]
    score = score_alarms(faults, alerts, [Window(300, 330)], GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (2, 0, 0, 1)
    assert [d.seconds for d in score.detections] == [10, 11]


def test_one_alert_may_detect_two_overlapping_faults_it_matches() -> None:
    faults = [Fault("device", "hq-web1", 100, 130), Fault("device", "hq-lb1", 110, 140)]
    service = Alert.of("MarketingServiceDown", {"service": "marketing"}, 120, 150)
    score = score_alarms(
        faults, [service], [], GRACE, lambda f: [Matcher.of("MarketingServiceDown")]
    )
    assert score.tp == 2 and [d.seconds for d in score.detections] == [20, 10]


def test_declared_matchers_replace_the_default() -> None:
    fault = Fault("device", "hq-web1", 100, 130)
    backend = Alert.of(
        "LoadBalancerBackendDown", {"device": "hq-lb1", "proxy": "marketing"}, 105, 131
    )
    assert score_alarms([fault], [backend], [], GRACE).fn == 1  # device=hq-web1 not on it

    def matchers(f: Fault) -> list[Matcher]:
        return [*default_matchers(f), Matcher.of("LoadBalancerBackendDown", proxy="marketing")]

    assert score_alarms([fault], [backend], [], GRACE, matchers).tp == 1


def test_unrepaired_fault_window_closes_at_run_end_plus_grace() -> None:
    fault = Fault("device", "hq-core1", 100, None)
    assert (
        score_alarms(
            [fault], [Alert.of("X", {"device": "hq-core1"}, 205, None)], [], GRACE, run_end=200
        ).tp
        == 1
    )
    assert (
        score_alarms(
            [fault], [Alert.of("X", {"device": "hq-core1"}, 215, None)], [], GRACE, run_end=200
        ).fn
        == 1
    )


def test_empty_run_scores_nothing() -> None:
    score = score_alarms([], [], [], GRACE)
    assert (score.tp, score.fn, score.fp, score.tn) == (0, 0, 0, 0)
    assert score.alarm_precision is None and score.false_alarm_rate is None
    assert score.detection_rate is None


def test_select_alerts_by_name_and_severity() -> None:
    alerts = [
        Alert.of("VrrpMasterChanged", {"severity": "info"}, 1),
        Alert.of("LinkDown", {"severity": "info"}, 1),
        Alert.of("WanSiteIsolated", {"severity": "page"}, 1),
    ]
    assert [a.name for a in select_alerts(alerts, ignore=["VrrpMasterChanged"])] == [
        "LinkDown",
        "WanSiteIsolated",
    ]
    assert [a.name for a in select_alerts(alerts, severities=["page"])] == ["WanSiteIsolated"]


# --- requests -------------------------------------------------------------------


def req(t: float, ok: bool = True, ms: float = 10.0, kind: str = "GET") -> Request:
    return Request(t, kind, "/customers/[id]", ms, ok)


def test_percentiles_interpolate_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([7.0], 0.99) == 7.0 and percentile([], 0.5) is None


def test_request_metrics_downtime_delay_and_precision() -> None:
    records = [
        *(req(1000.1 + i / 20, ms=float(i + 1)) for i in range(10)),  # second 1000: all fine
        req(1001.2, ok=False), req(1001.5, ok=False), req(1001.7, ms=100.0),  # 2/3 failed
        # second 1002: nothing started (users stuck)
        req(1003.0, ms=5.0), req(1003.9, ok=False),  # 1/2 failed: not above 0.5
        Request(1000.2, "CHECK", "/customers/[id]", 0, True),
        Request(1000.3, "CHECK", "/customers/[id]", 0, False),
        Request(1000.4, "CHECK", "/reports/export", 0, True),
        Request(1000.5, "CHECK", "/reports/export", 0, True),
    ]  # fmt: skip
    m = request_metrics(records, unavailable_ratio=0.5)
    assert (m.requests, m.failures, m.checks, m.check_failures) == (15, 3, 4, 1)
    assert m.downtime_rate == pytest.approx(3 / 15)
    assert (m.seconds, m.unavailable_seconds) == (4, 2)  # 1001 (too many failures) and 1002
    assert m.unavailable_rate == 0.5
    assert m.data_precision == 0.75
    assert m.requests_per_second == pytest.approx(15 / 4)
    delays = sorted([*(float(i + 1) for i in range(10)), 100.0, 5.0])
    assert m.p50_ms == pytest.approx(percentile(delays, 0.5))
    assert m.p99_ms == pytest.approx(percentile(delays, 0.99))
    assert m.mean_ms == pytest.approx(sum(delays) / len(delays))


def test_request_metrics_of_an_empty_run() -> None:
    m = request_metrics([])
    assert m.requests == 0 and m.downtime_rate is None and m.p50_ms is None
    assert m.data_precision is None and m.unavailable_rate is None


def test_all_requests_failed_has_no_delay_but_full_downtime() -> None:
    m = request_metrics([req(5.0, ok=False), req(6.5, ok=False)])
    assert m.downtime_rate == 1.0 and m.unavailable_rate == 1.0 and m.p95_ms is None
