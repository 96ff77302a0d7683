"""Ansible vars plugin: every host's structured configuration as `emops_config`.

The one bridge between emops' Python pipeline (inventory -> topology model ->
structured config, emops/structured/) and the roles: templates read
`emops_config.<section>` and never re-derive the topology in Jinja.

It runs at the task stage only (not while the inventory is parsed, so
`ansible-inventory` and emops' own inventory loader never recurse into it),
for inventory sources that are emops inventories (group_vars/all/emops.yml),
and computes all hosts once per inventory per process.
"""

from __future__ import annotations

import os
import threading

from ansible.errors import AnsibleError
from ansible.inventory.host import Host
from ansible.plugins.vars import BaseVarsPlugin

DOCUMENTATION = """
    name: emops_structured
    short_description: per-host structured configuration (emops_config) from the emops topology
    description:
      - Loads the inventory with emops' topology model and returns, for each host,
        the variable C(emops_config) (docs/structured-config.md).
    options:
      stage:
        description: When to run; only C(task) makes sense (never while parsing inventory).
        default: task
        choices: [task]
        ini:
          - key: stage
            section: vars_emops_structured
"""

VARIABLE = "emops_config"
_cache: dict[str, dict] = {}
_lock = threading.Lock()
_busy = threading.local()


def _is_emops_inventory(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "group_vars", "all", "emops.yml"))


def _configs(path: str) -> dict:
    key = os.path.realpath(path)
    with _lock:
        if key not in _cache:
            from emops.errors import EmopsError
            from emops.structured import structured_configs
            from emops.topology import load_topology

            _busy.active = True
            try:
                _cache[key] = structured_configs(load_topology(key))
            except EmopsError as exc:
                raise AnsibleError(f"emops structured config for {key}:\n{exc}") from None
            finally:
                _busy.active = False
        return _cache[key]


class VarsModule(BaseVarsPlugin):
    def get_vars(self, loader, path, entities, cache=True):
        super().get_vars(loader, path, entities)
        if getattr(_busy, "active", False) or not _is_emops_inventory(path):
            return {}
        hosts = [e.name for e in entities if isinstance(e, Host)]
        if not hosts:
            return {}
        configs = _configs(path)
        for host in hosts:  # Ansible asks for one host at a time
            if host in configs:
                return {VARIABLE: configs[host]}
        return {}
