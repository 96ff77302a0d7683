"""The data layer alone: caching, last known data on outages, refused queries."""

from __future__ import annotations

import json

import pytest

from dashboard.prometheus import PrometheusClient, QueryError, Unreachable


def vector(value: float, **labels: str) -> bytes:
    result = [{"metric": labels, "value": [1700000000, str(value)]}]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})


class FakeServer:
    """Answers from a queue; raises what it is told to; counts the calls."""

    def __init__(self) -> None:
        self.answers: list[bytes | Exception] = []
        self.calls: list[str] = []

    def __call__(self, url: str, timeout: float) -> bytes:
        self.calls.append(url)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer.encode() if isinstance(answer, str) else answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def prom(server, clock) -> PrometheusClient:
    return PrometheusClient(
        "http://127.0.0.1:9090", ttl_s=5, backoff_s=10, fetch=server, clock=clock
    )


def test_answers_are_shared_for_a_few_seconds(prom, server, clock):
    server.answers = [vector(1, device="a"), vector(2, device="a")]
    assert prom.instant("up").data[0].value == 1
    clock.now += 4
    assert prom.instant("up").data[0].value == 1  # from the cache: one round trip
    assert len(server.calls) == 1
    clock.now += 2
    assert prom.instant("up").data[0].value == 2
    assert "query=up" in server.calls[-1]


def test_an_outage_returns_the_last_data_flagged_then_backs_off(prom, server, clock):
    server.answers = [vector(0.5), Unreachable("connection refused")]
    fresh = prom.value("x")
    clock.now += 6
    stale = prom.value("x")
    assert stale.data == 0.5 and stale.stale and stale.outage
    assert stale.fetched_at == fresh.fetched_at == 1000.0
    assert "connection refused" in stale.error
    clock.now += 1
    again = prom.value("x")  # backing off: no new attempt
    assert again.data == 0.5 and len(server.calls) == 2
    assert prom.down


def test_an_outage_with_nothing_known_says_so(prom, server):
    server.answers = [Unreachable("timed out")]
    answer = prom.instant("up")
    assert answer.data == [] and not answer.has_data and answer.outage


def test_a_refused_query_is_not_an_outage(prom, server):
    server.answers = [QueryError("bad_data: parse error"), vector(1)]
    answer = prom.instant("sum(")
    assert answer.stale and not answer.outage and "parse error" in answer.error
    assert not prom.down
    assert prom.instant("up").data  # the next question is asked at once


def test_range_answers_fall_back_across_moving_windows(prom, server, clock):
    matrix = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"link": "l"}, "values": [[1, "0.1"], [2, "0.2"]]}],
        },
    }
    server.answers = [json.dumps(matrix), Unreachable("refused")]
    first = prom.range("u", 0, 100, 10)
    assert first.data[0].points == ((1.0, 0.1), (2.0, 0.2))
    clock.now += 6
    later = prom.range("u", 10, 110, 10)  # the range moved on; Prometheus is gone
    assert later.stale and later.data == first.data


def test_scalars_and_special_values(prom, server):
    server.answers = [
        json.dumps({"status": "success", "data": {"resultType": "scalar", "result": [1, "NaN"]}})
    ]
    assert prom.value("scalar(x)").data != prom.value("scalar(x)").data  # NaN, not an error


def test_something_that_is_not_prometheus_is_an_outage(prom, server):
    server.answers = ["<html>login</html>"]
    answer = prom.instant("up")
    assert answer.outage and "not JSON" in answer.error


def test_alerts(prom, server):
    body = {"status": "success", "data": {"alerts": [{"labels": {"alertname": "A"}}]}}
    server.answers = [json.dumps(body)]
    assert prom.alerts().data[0]["labels"]["alertname"] == "A"
