"""Ansible filter: render a vendor device's configuration with emops' templates.

    "{{ inventory_hostname | emops_vendor_config(inventory_dir, vault) }}"

The same renderer as `emops vendor render` and the golden tests (one
implementation); `vault` maps vault_* names to the values Ansible decrypted, so
the text exists only in memory (mark the task no_log).
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _topology(inventory_dir: str) -> Any:
    from emops.topology import load_topology

    return load_topology(inventory_dir)


def emops_vendor_config(host: str, inventory_dir: str, vault: dict[str, str]) -> str:
    """The device's full CLI configuration with its secrets resolved from `vault`."""
    from emops.vendor.render import render_device, resolver_from

    return render_device(_topology(inventory_dir), host, resolver_from(vault))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"emops_vendor_config": emops_vendor_config}
