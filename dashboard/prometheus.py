"""A small read-only client of the Prometheus HTTP API, made for a dashboard.

Why not a generic client: a dashboard page asks a dozen questions per rerun and
several users rerun at once, and ops open it exactly when things go wrong. So
every answer is cached for a few seconds (one round trip serves every widget
and every session), and when Prometheus is down or slow the client gives back
the last answer it had, marked with why it is not fresh, and stops asking for a
short backoff, so a page renders at once with a banner instead of waiting on
timeouts or showing a traceback.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 2.0  # a dashboard that hangs is worse than one that says "no answer"
DEFAULT_TTL_S = 5.0  # about one lab scrape: fresher data does not exist
DEFAULT_BACKOFF_S = 10.0  # after a failure, answer from memory this long before trying again
MAX_REMEMBERED = 1024  # answers kept (fresh or last known), least recently used dropped


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    """One element of a range matrix: (unix time, value) points, oldest first."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What a question got: data, when Prometheus produced it, and why it is not fresh."""

    data: T
    fetched_at: float = 0.0  # unix time of the Prometheus answer the data comes from; 0: never
    error: str | None = None  # set when this is not a fresh answer (outage, bad query)
    outage: bool = False  # the error is Prometheus being unreachable or slow, not the question

    @property
    def stale(self) -> bool:
        return self.error is not None

    @property
    def has_data(self) -> bool:
        return self.fetched_at > 0


class QueryError(Exception):
    """Prometheus answered but refused the question (a PromQL error: a dashboard bug)."""


class Unreachable(Exception):
    """Prometheus did not answer in time, or not at all."""


Fetch = Callable[[str, float], bytes]


def fetch_url(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        if exc.code in (400, 422):  # bad_data / execution: Prometheus refused this query
            raise QueryError(_api_error(body) or f"HTTP {exc.code}") from None
        raise Unreachable(f"HTTP {exc.code} from {url.split('?')[0]}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(str(reason) or type(exc).__name__) from None


def _api_error(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return f"{doc.get('errorType', 'error')}: {doc.get('error', '')}".strip()


@dataclass
class _Memory:
    """Fresh answers by exact question; last good answers by question regardless of time."""

    fresh: OrderedDict[tuple, tuple[float, Any]] = field(default_factory=OrderedDict)
    last_good: OrderedDict[tuple, tuple[float, Any]] = field(default_factory=OrderedDict)

    @staticmethod
    def _put(store: OrderedDict, key: tuple, value: tuple[float, Any]) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > MAX_REMEMBERED:
            store.popitem(last=False)


class PrometheusClient:
    """Instant and range queries and the alerts list of one Prometheus server."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        ttl_s: float = DEFAULT_TTL_S,
        backoff_s: float = DEFAULT_BACKOFF_S,
        fetch: Fetch = fetch_url,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.backoff_s = backoff_s
        self._fetch = fetch
        self._clock = clock
        self._memory = _Memory()
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.last_error: str | None = None
        self.last_success = 0.0

    # --- the questions a page asks --------------------------------------------

    def instant(self, expr: str, at: float | None = None) -> Answer[list[Sample]]:
        """The value of `expr` now (or at unix time `at`)."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        return self._ask("/api/v1/query", params, _samples, default=[])

    def range(self, expr: str, start: float, end: float, step: float) -> Answer[list[Series]]:
        """`expr` evaluated every `step` seconds from `start` to `end`."""
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return self._ask("/api/v1/query_range", params, _series, default=[])

    def alerts(self) -> Answer[list[dict]]:
        """Pending and firing alerts as the rule evaluator holds them now."""
        return self._ask("/api/v1/alerts", {}, lambda d: list(d.get("alerts", [])), default=[])

    def value(self, expr: str) -> Answer[float | None]:
        """The single number `expr` gives (None if it gives nothing)."""
        answer = self.instant(expr)
        number = answer.data[0].value if answer.data else None
        return Answer(number, answer.fetched_at, answer.error, answer.outage)

    @property
    def down(self) -> bool:
        """The last attempt failed and the client is still backing off."""
        return self._clock() < self._down_until

    # --- caching and fallback ---------------------------------------------------

    def _ask(
        self, path: str, params: dict[str, str], parse: Callable[[Any], T], default: T
    ) -> Answer[T]:
        key = (path, tuple(sorted(params.items())))
        loose_key = (path, params.get("query", ""))  # the same question at another time
        now = self._clock()
        with self._lock:
            hit = self._memory.fresh.get(key)
            if hit and now - hit[0] < self.ttl_s:
                return Answer(hit[1], hit[0])
            if now < self._down_until:
                return self._fallback(loose_key, default, self.last_error or "no answer", True)
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            data = parse(self._data(self._fetch(url, self.timeout_s)))
        except Unreachable as exc:
            with self._lock:
                self._down_until = self._clock() + self.backoff_s
                self.last_error = f"{self.base_url} did not answer: {exc}"
                return self._fallback(loose_key, default, self.last_error, True)
        except QueryError as exc:
            with self._lock:
                return self._fallback(loose_key, default, f"query refused: {exc}", False)
        fetched = self._clock()
        with self._lock:
            self._memory._put(self._memory.fresh, key, (fetched, data))
            self._memory._put(self._memory.last_good, loose_key, (fetched, data))
            self._down_until = 0.0
            self.last_error = None
            self.last_success = fetched
        return Answer(data, fetched)

    def _fallback(self, loose_key: tuple, default: T, error: str, outage: bool) -> Answer[T]:
        known = self._memory.last_good.get(loose_key)
        if known is None:
            return Answer(default, 0.0, error, outage)
        return Answer(known[1], known[0], error, outage)

    @staticmethod
    def _data(body: bytes) -> Any:
        try:
            doc = json.loads(body)
        except ValueError:
            raise Unreachable("the answer is not JSON (is this Prometheus?)") from None
        if doc.get("status") != "success":
            raise QueryError(_api_error(body) or "unknown error")
        return doc.get("data", {})


def _number(text: str) -> float:
    return float(text)  # Prometheus sends "NaN", "+Inf", "-Inf" as strings: float() takes them


def _samples(data: dict) -> list[Sample]:
    kind = data.get("resultType")
    if kind == "scalar":
        return [Sample({}, _number(data["result"][1]))]
    if kind != "vector":
        raise QueryError(f"expected an instant vector, got {kind}")
    return [Sample(dict(r["metric"]), _number(r["value"][1])) for r in data["result"]]


def _series(data: dict) -> list[Series]:
    if data.get("resultType") != "matrix":
        raise QueryError(f"expected a range matrix, got {data.get('resultType')}")
    return [
        Series(dict(r["metric"]), tuple((float(t), _number(v)) for t, v in r["values"]))
        for r in data["result"]
    ]
