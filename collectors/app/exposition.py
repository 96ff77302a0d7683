"""Prometheus exposition of the application collectors (docs/metrics.md, job `emops-app`).

client_python style, as the SNMP exposition: `collect()` builds fresh families
from the store's latest values on each scrape. A target whose last collection
failed shows `emops_collector_up 0` and its data series disappear (a database
that cannot be read has no connection counts, not zero connections), except
`emops_postgres_up`, which is the failure signal itself and stays at 0.

The data of each PostgreSQL server and each /stats answer comes from outside
and is built under its own guard (collectors/families.py): one that cannot be
exposed is dropped from that scrape, its target shown as `emops_collector_up 0`
and counted in `emops_collector_errors_total{reason="bad_value"}`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from collectors.app.store import BUCKETS, MarketingSample, PgSample, Store
from collectors.app.targets import PostgresTarget, VrrpInstance
from collectors.app.vrrp import masters
from collectors.families import BAD_VALUE, DropCounts, fill_guarded

PROBE_LABELS = ["service", "target", "site"]
SELF_LABELS = ["collector", "target"]
Unit = tuple[str, str]  # (collector, target), as in the self-report


class AppCollector(Collector):
    """Yields every `emops-app` family from `store`."""

    def __init__(
        self,
        store: Store,
        postgres: tuple[PostgresTarget, ...] = (),
        vrrp: tuple[VrrpInstance, ...] = (),
    ) -> None:
        self.store = store
        self.databases = tuple(t.device for t in postgres)
        self.vrrp = vrrp
        self._dropped = DropCounts()  # (collector, target) -> scrapes that dropped its data

    def collect(self) -> Iterator[Metric]:
        dropped: set[Unit] = set()
        postgres = self._postgres(dropped)
        marketing = self._marketing(dropped)
        for unit in dropped:
            self._dropped.add(unit)
        yield from self._self_report(dropped)
        yield from self._probes()
        yield self._services()
        yield self._vrrp()
        yield from postgres.values()
        yield from marketing.values()

    def _self_report(self, dropped: set[Unit]) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "emops_collector_up",
            "1 if the last collection of the target worked (for probes: the vantage point ran)",
            labels=SELF_LABELS,
        )
        duration = GaugeMetricFamily(
            "emops_collector_scrape_duration_seconds",
            "Wall time of the last collection of the target",
            labels=SELF_LABELS,
        )
        errors = CounterMetricFamily(
            "emops_collector_errors_total",
            "Failed checks by reason (timeout, connect, checksum, auth, no_netns, ...)",
            labels=[*SELF_LABELS, "reason"],
        )
        for unit, health in sorted(dict(self.store.health).items()):
            up.add_metric(list(unit), 1.0 if health.up and unit not in dropped else 0.0)
            duration.add_metric(list(unit), health.duration_s)
            for reason, count in sorted(health.errors.items()):
                errors.add_metric([*unit, reason], count)
            if self._dropped.get(unit):
                errors.add_metric([*unit, BAD_VALUE], self._dropped.get(unit))
        yield from (up, duration, errors)

    def _probes(self) -> Iterator[Metric]:
        success = GaugeMetricFamily(
            "emops_probe_success",
            "1 if the last HTTP probe got a 2xx with a valid checksum",
            labels=PROBE_LABELS,
        )
        for key, ok in sorted(dict(self.store.probe_success).items()):
            success.add_metric(list(key), 1.0 if ok else 0.0)
        latency = HistogramMetricFamily(
            "emops_probe_duration_seconds",
            "HTTP probe latency (failed probes only in the +Inf bucket)",
            labels=PROBE_LABELS,
        )
        for key, hist in sorted(dict(self.store.latency).items()):
            buckets = [(floatToGoString(b), c) for b, c in zip(BUCKETS, hist.counts, strict=True)]
            latency.add_metric(list(key), buckets, hist.total)
        yield from (success, latency)

    def _services(self) -> Metric:
        family = GaugeMetricFamily(
            "emops_service_up",
            "1 if the server's own service answered a GET with 2xx, checked from the server",
            labels=["service", "device"],
        )
        for (service, device), ok in sorted(dict(self.store.services).items()):
            family.add_metric([service, device], 1.0 if ok else 0.0)
        return family

    def _vrrp(self) -> Metric:
        family = GaugeMetricFamily(
            "emops_vrrp_master",
            "1 if the device holds the instance's virtual address",
            labels=["device", "instance", "segment"],
        )
        for device, instance, segment, value in masters(self.vrrp, dict(self.store.held)):
            family.add_metric([device, instance, segment], value)
        return family

    def _postgres(self, dropped: set[Unit]) -> dict[str, Metric]:
        families: dict[str, Metric] = {
            "up": GaugeMetricFamily(
                "emops_postgres_up", "1 if PostgreSQL answered", labels=["device"]
            ),
            "connections": GaugeMetricFamily(
                "emops_postgres_connections",
                "Client connections by state (pg_stat_activity)",
                labels=["device", "state"],
            ),
            "transactions": CounterMetricFamily(
                "emops_postgres_transactions_total",
                "xact_commit + xact_rollback over all databases (pg_stat_database)",
                labels=["device"],
            ),
            "primary": GaugeMetricFamily(
                "emops_postgres_primary",
                "1 if the server accepts writes (not in recovery), 0 for a standby",
                labels=["device"],
            ),
            "lag": GaugeMetricFamily(
                "emops_postgres_replication_lag_seconds",
                "Standby: now - last replayed commit, 0 when all received WAL is replayed",
                labels=["device"],
            ),
        }
        samples = dict(self.store.postgres)
        health = dict(self.store.health)
        for device in sorted(set(self.databases) | samples.keys()):
            sample = samples.get(device)
            if sample is None:
                if ("postgres", device) in health:  # read and failed; not "not read yet"
                    families["up"].add_metric([device], 0.0)
                continue
            if not fill_guarded(families, device, partial(_fill_postgres, device, sample)):
                families["up"].add_metric([device], 0.0)
                dropped.add(("postgres", device))
        return families

    def _marketing(self, dropped: set[Unit]) -> dict[str, Metric]:
        families: dict[str, Metric] = {
            "transactions": CounterMetricFamily(
                "emops_marketing_transactions_total",
                "Successful requests by route, from the service's /stats",
                labels=["device", "kind"],
            ),
            "failures": CounterMetricFamily(
                "emops_marketing_failures_total",
                "Failed requests by kind, from the service's /stats",
                labels=["device", "kind"],
            ),
            "payments": CounterMetricFamily(
                "emops_marketing_payments_total",
                "Payments booked, from the service's /stats",
                labels=["device"],
            ),
        }
        for device, sample in sorted(dict(self.store.marketing).items()):
            if not fill_guarded(families, device, partial(_fill_marketing, device, sample)):
                dropped.add(("marketing", device))
        return families


def _fill_postgres(device: str, sample: PgSample, families: Mapping[str, Metric]) -> None:
    families["up"].add_metric([device], 1.0)
    for state, count in sorted(sample.connections.items()):
        families["connections"].add_metric([device, state], count)
    families["transactions"].add_metric([device], sample.transactions)
    families["primary"].add_metric([device], 0.0 if sample.standby else 1.0)
    if sample.lag_s is not None:
        families["lag"].add_metric([device], sample.lag_s)


def _fill_marketing(device: str, sample: MarketingSample, families: Mapping[str, Metric]) -> None:
    for kind, value in sorted(sample.transactions.items()):
        families["transactions"].add_metric([device, kind], value)
    for kind, value in sorted(sample.failures.items()):
        families["failures"].add_metric([device, kind], value)
    families["payments"].add_metric([device], sample.payments)
