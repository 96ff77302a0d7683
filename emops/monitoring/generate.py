"""The monitoring-config pipeline, one stage per line:

    inventory -> topology model -> settings -> structured configs -> YAML -> files

Everything is rendered in memory first and written with `write_all`, so a bad
inventory or a bad output directory leaves no file half-written or missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from emops.files import write_all
from emops.monitoring.alertmanager_config import alertmanager_config
from emops.monitoring.prometheus_config import RULE_FILE, prometheus_config
from emops.monitoring.render import to_yaml
from emops.monitoring.rules import rule_groups
from emops.monitoring.settings import MonitorSettings, settings_for
from emops.topology import Topology, load_topology

PROMETHEUS_FILE = "prometheus.yml"
ALERTMANAGER_FILE = "alertmanager.yml"


@dataclass(frozen=True)
class GeneratedConfig:
    """The rendered files, by path relative to the output directory."""

    network: str
    files: dict[str, str]


def default_out_dir(network: str) -> Path:
    return Path("monitoring") / "generated" / network


def render_all(topo: Topology, settings: MonitorSettings) -> GeneratedConfig:
    """Every generated file's text, from the model and settings alone."""
    net = topo.network
    files = {
        PROMETHEUS_FILE: to_yaml(prometheus_config(topo, settings), net, "Prometheus config"),
        RULE_FILE: to_yaml(
            {"groups": rule_groups(topo, settings)}, net, "Recording and alerting rules"
        ),
        ALERTMANAGER_FILE: to_yaml(alertmanager_config(settings), net, "Alertmanager config"),
    }
    return GeneratedConfig(net, files)


def generate(
    inventory: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    shards: int = 1,
    remote_write: str | None = None,
    endpoints: dict[str, str] | None = None,
    sites: int | None = None,
) -> Path:
    """Load the inventory (HQ and `sites` companies if given), render the monitoring
    config, write it; returns the directory."""
    topo = load_topology(inventory, sites)  # the only reader of the inventory
    target = Path(out_dir) if out_dir is not None else default_out_dir(topo.network)
    generate_for(topo, target, shards=shards, remote_write=remote_write, endpoints=endpoints)
    return target


def generate_for(
    topo: Topology,
    target: Path,
    *,
    shards: int = 1,
    remote_write: str | None = None,
    endpoints: dict[str, str] | None = None,
) -> None:
    """Render the monitoring config of an already loaded model into `target`."""
    settings = settings_for(topo, shards=shards, remote_write=remote_write)
    if endpoints:
        settings = settings.with_endpoints(**endpoints)  # `monitor up` on other ports
    write_files(target, render_all(topo, settings))


def write_files(target: Path, generated: GeneratedConfig) -> None:
    """Every path checked, then the directories made and every file written atomically."""
    write_all([(target / rel, "--out", text) for rel, text in generated.files.items()], True)
