"""Structured configuration: design intent -> per-device plain data (AVD's middle layer).

    from emops.topology import load_topology
    from emops.structured import structured_configs
    configs = structured_configs(load_topology("inventory/lab"))
    configs["hq-core1"]["vlan_interfaces"][0]["vrrp"]["priority"]   # 120

Templates for every platform (the twin's FRR/Linux roles, the vendor CLI
templates) read this data and never re-derive the topology. Ansible sees it as
the host variable `emops_config` (playbooks/vars_plugins/emops_structured.py).
The shape is documented in docs/structured-config.md.
"""

from __future__ import annotations

from emops.structured.pipeline import CONTRIBUTORS, structured_config, structured_configs

__all__ = ["CONTRIBUTORS", "structured_config", "structured_configs"]
