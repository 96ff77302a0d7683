"""App exposition: one target's absurd /stats or PostgreSQL data never fails a scrape."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors.app.exposition import AppCollector
from collectors.app.store import MarketingSample, PgSample, Store
from collectors.app.targets import PostgresTarget

GOOD = MarketingSample(MappingProxyType({"customer": 2.0}), MappingProxyType({}), 1.0)
BAD_MARKETING = {
    # JSON "\ud800" decodes to a lone surrogate: it cannot be encoded as UTF-8
    "lone surrogate kind": MarketingSample(MappingProxyType({"\ud800": 1.0}), GOOD.failures, 1.0),
    "huge count": MarketingSample(MappingProxyType({"customer": 10**400}), GOOD.failures, 1.0),
    "NaN payments": MarketingSample(GOOD.transactions, GOOD.failures, float("nan")),
}


def _store() -> Store:
    store = Store()
    for collector, device in [("marketing", "app1"), ("marketing", "app2"), ("postgres", "db1")]:
        store.record_health(collector, device, True, [], 0.01)
    store.marketing["app1"] = GOOD
    store.postgres["db1"] = PgSample(MappingProxyType({"active": 3}), 10.0, False, None)
    return store


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    text = generate_latest(registry).decode()  # the render that raised for everyone
    families = text_string_to_metric_families(text)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in families for s in family.samples}  # fmt: skip


def _key(name: str, **labels: str) -> tuple[str, tuple]:
    return name, tuple(sorted(labels.items()))


@pytest.mark.parametrize("bad", BAD_MARKETING.values(), ids=BAD_MARKETING.keys())
def test_bad_stats_drop_only_that_app_server(bad: MarketingSample) -> None:
    store = _store()
    store.marketing["app2"] = bad
    registry = CollectorRegistry()
    registry.register(AppCollector(store, (PostgresTarget("db1", "127.0.0.1", 5432, "u", "d"),)))
    samples = _samples(registry)
    assert samples[_key("emops_marketing_transactions_total", device="app1", kind="customer")] == 2
    assert samples[_key("emops_postgres_connections", device="db1", state="active")] == 3
    assert not [k for k in samples if k[0].startswith("emops_marketing") and "app2" in str(k)]
    assert samples[_key("emops_collector_up", collector="marketing", target="app2")] == 0
    assert samples[_key("emops_collector_up", collector="marketing", target="app1")] == 1
    bad_value = _key("emops_collector_errors_total", collector="marketing", target="app2",
                     reason="bad_value")  # fmt: skip
    assert samples[bad_value] == 1
    assert _samples(registry)[bad_value] == 2  # once per scrape that dropped it


def test_bad_postgres_numbers_drop_only_that_server() -> None:
    store = _store()
    store.postgres["db2"] = PgSample(MappingProxyType({"active": 2**1100}), 1.0, False, None)
    store.record_health("postgres", "db2", True, [], 0.01)
    registry = CollectorRegistry()
    registry.register(AppCollector(store))
    samples = _samples(registry)
    assert samples[_key("emops_postgres_up", device="db1")] == 1
    assert samples[_key("emops_postgres_up", device="db2")] == 0
    assert _key("emops_postgres_transactions_total", device="db2") not in samples
    bad_value = _key("emops_collector_errors_total", collector="postgres", target="db2",
                     reason="bad_value")  # fmt: skip
    assert samples[bad_value] == 1
