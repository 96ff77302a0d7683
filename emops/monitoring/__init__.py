"""Monitoring generated from the inventory: Prometheus scrape config, rules, Alertmanager.

    from emops.monitoring import generate, hashmod
    generate("inventory/lab")              # -> monitoring/generated/lab/
    hashmod("hq-core1", 4)                 # the shard Prometheus gives this device

`emops monitor config|up|down|status` is the command line, and the processes that
run this config are supervised, one layer up (control/monitor_cli.py, control/monitor_stack.py);
docs/monitoring.md explains every alert and why it pages or only informs.
"""

from __future__ import annotations

from emops.monitoring.generate import generate, render_all
from emops.monitoring.hashmod import devices_of_shard, hashmod, shard_port
from emops.monitoring.settings import settings_for

__all__ = ["devices_of_shard", "generate", "hashmod", "render_all", "settings_for", "shard_port"]
