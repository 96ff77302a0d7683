"""`prometheus.yml` as plain data: scrape jobs, rule files, Alertmanager, remote write.

Jobs:
- `emops-snmp`: the SNMP collector (polls every device itself and labels each
  series device/site/role; also receives the traps, so there is no separate
  `emops-traps` job). With `--shards N`, N collector processes, each told by
  Prometheus' own `hashmod` of the `device` label which series are its own.
- `emops-app`: the application collector (probes, VRRP, PostgreSQL, service stats).
- `haproxy`: each load balancer's built-in HAProxy exporter, labelled from the inventory.
- `prometheus`: itself.
"""

from __future__ import annotations

from emops.monitoring.hashmod import shard_port
from emops.monitoring.inventory_view import load_balancers
from emops.monitoring.settings import MonitorSettings
from emops.topology import Topology

RULE_FILE = "rules/emops.rules.yml"
TRAP_METRICS = "emops_snmp_traps_total|emops_interface_trap_.+"  # any shard may receive a trap


def prometheus_config(topo: Topology, s: MonitorSettings) -> dict:
    t = s.timing
    config: dict = {
        "global": {
            "scrape_interval": t.scrape_interval,
            "scrape_timeout": t.scrape_timeout,
            "evaluation_interval": t.evaluation_interval,
            "external_labels": {"network": topo.network},
        },
        "rule_files": [RULE_FILE],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [s.endpoints.alertmanager]}]}]
        },
        "scrape_configs": [
            _static("prometheus", [s.endpoints.prometheus]),
            snmp_job(s),
            _static("emops-app", [s.endpoints.app_collector]),
            haproxy_job(topo, s),
        ],
    }
    if s.remote_write:
        config["remote_write"] = [{"url": s.remote_write, "name": "long-retention"}]
    return config


def _static(job: str, targets: list[str]) -> dict:
    return {"job_name": job, "static_configs": [{"targets": targets}]}


def snmp_job(s: MonitorSettings) -> dict:
    """One collector, or N shards kept honest by hashmod on `device`."""
    host = s.endpoints.snmp_collector_host
    base = s.endpoints.snmp_collector_port
    if s.shards == 1:
        return _static("emops-snmp", [f"{host}:{base}"])
    n = s.shards
    return {
        "job_name": "emops-snmp",
        "static_configs": [
            {"targets": [f"{host}:{shard_port(k, base)}"], "labels": {"shard": str(k)}}
            for k in range(n)
        ],
        "metric_relabel_configs": [
            # the shard each series belongs to: hashmod of its device label
            {
                "source_labels": ["device"],
                "modulus": n,
                "target_label": "__tmp_hash",
                "action": "hashmod",
            },
            # traps arrive at one shard for every device: they belong wherever they land
            {
                "source_labels": ["__name__", "shard"],
                "regex": f"(?:{TRAP_METRICS});(.+)",
                "target_label": "__tmp_hash",
                "replacement": "$1",
            },
            # series without a device (the collector's own health) belong to their shard
            {
                "source_labels": ["device", "shard"],
                "regex": ";(.+)",
                "target_label": "__tmp_hash",
                "replacement": "$1",
            },
            # keep a series only from the shard it hashes to (drops double polling)
            {
                "source_labels": ["__tmp_hash", "shard"],
                "regex": "|".join(f"{k};{k}" for k in range(n)),
                "action": "keep",
            },
            {"regex": "__tmp_hash", "action": "labeldrop"},
        ],
    }


def haproxy_job(topo: Topology, s: MonitorSettings) -> dict:
    """Every load balancer's HAProxy endpoint, labelled device/site/role from the inventory."""
    return {
        "job_name": "haproxy",
        "metrics_path": "/metrics",
        "static_configs": [
            {
                "targets": [f"{lb.mgmt_address}:{s.endpoints.haproxy_port}"],
                "labels": {"device": lb.name, "role": lb.role, "site": lb.site},
            }
            for lb in load_balancers(topo)
        ],
    }
