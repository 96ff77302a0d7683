"""Read an inventory through ansible-core's own API, so emops and Ansible see
exactly the same hosts, groups and variables (group_vars, host_vars, vault).

Stage 1 of the topology pipeline: files -> RawInventory (plain vars per group and
per host, with Ansible's precedence applied). Stage 2 (`fields.py`) turns that
into the typed model and reports every problem at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from emops.errors import EmopsError, Problem
from emops.yamlread import display_path


@dataclass
class RawInventory:
    path: Path
    group_vars: dict[str, dict[str, Any]]  # group -> its own vars (inline + group_vars/)
    group_hosts: dict[str, list[str]]  # group -> hosts directly or through children
    group_children: dict[str, list[str]]
    host_vars: dict[str, dict[str, Any]]  # host -> effective inventory vars
    host_groups: dict[str, list[str]]  # host -> every group it is in, except all/ungrouped


@cache
def _origin_tag() -> Any:
    try:
        # ansible-core >= 2.19, loaded (~0.4 s) only when an origin is first asked for
        from ansible._internal._datatag._tags import Origin
    except ImportError:  # pragma: no cover - other ansible-core versions
        return None
    return Origin


def origin(value: object) -> str:
    """`path:line` where Ansible read this value from, or "" if unknown."""
    tag_type = _origin_tag()
    tag = tag_type.get_tag(value) if tag_type is not None else None
    if tag is None or not tag.path:
        return ""
    path = display_path(tag.path)
    return f"{path}:{tag.line_num}" if tag.line_num else path


class AnsiblePositions:
    """Positions (emops.yamlread) of inventory data: ansible-core tags every mapping, list,
    key and scalar it reads with its origin."""

    def of(self, value: object) -> str:
        return origin(value)

    def of_key(self, mapping: object, key: object) -> str:
        if not isinstance(mapping, dict):
            return ""
        return next((origin(k) for k in mapping if k == key), "")


def _quiet_ansible() -> None:
    """Make unparsable inventory an error instead of a warning, and keep
    Ansible's own console chatter out of emops' output."""
    os.environ.setdefault("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "True")
    os.environ.setdefault("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
    os.environ.setdefault("ANSIBLE_LOCALHOST_WARNING", "False")


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(str(text).split("\n")[0].split())


def read_inventory(path: str | os.PathLike[str]) -> RawInventory:
    """Load the inventory directory at `path` (hosts.yml and group_vars/)."""
    inv_path = Path(path)
    if not inv_path.exists():
        raise EmopsError.of(
            "--inventory", f"no inventory at {inv_path}", "pass e.g. -i inventory/province"
        )
    if not inv_path.is_dir():  # a lone file has no group_vars/; Ansible would guess at it
        raise EmopsError.of(
            "--inventory", f"{inv_path} is not a directory", "pass e.g. -i inventory/province"
        )
    _quiet_ansible()
    # here, not at the top: once _quiet_ansible() has set Ansible's environment, and only
    # when an inventory is read (ansible-core loads in ~0.4 s)
    from ansible.errors import AnsibleError
    from ansible.inventory.helpers import sort_groups
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.vars import combine_vars
    from ansible.vars.plugins import get_vars_from_inventory_sources

    loader = DataLoader()
    try:
        # An absolute source: ansible-core caches the real path of each source string
        # (host_group_vars.CANONICAL_PATHS), so a relative one read again from another
        # working directory would pick up the first directory's group_vars.
        manager = InventoryManager(loader=loader, sources=[str(inv_path.resolve())])
        sources = manager._sources
        own: dict[str, dict[str, Any]] = {}
        for name, group in manager.groups.items():
            plugin_vars = get_vars_from_inventory_sources(loader, sources, [group], "all")
            own[name] = combine_vars(group.get_vars(), plugin_vars)
        host_vars: dict[str, dict[str, Any]] = {}
        host_groups: dict[str, list[str]] = {}
        for host in manager.get_hosts():
            groups = sort_groups(host.get_groups())
            merged: dict[str, Any] = {}
            for group in groups:
                merged = combine_vars(merged, own[group.name])
            plugin_vars = get_vars_from_inventory_sources(loader, sources, [host], "all")
            merged = combine_vars(merged, combine_vars(host.get_vars(), plugin_vars))
            host_vars[host.name] = merged
            host_groups[host.name] = [g.name for g in groups if g.name not in ("all", "ungrouped")]
    except AnsibleError as exc:
        raise EmopsError(
            Problem("inventory", _first_line(exc), "fix the YAML at the place named")
        ) from None
    if not host_vars:
        raise EmopsError.of(
            "--inventory", f"{inv_path} defines no hosts", "point at an inventory with hosts.yml"
        )
    return RawInventory(
        path=inv_path,
        group_vars=own,
        group_hosts={n: [h.name for h in g.get_hosts()] for n, g in manager.groups.items()},
        group_children={n: [c.name for c in g.child_groups] for n, g in manager.groups.items()},
        host_vars=host_vars,
        host_groups=host_groups,
    )
