"""The topology model: the one reader of the inventory.

from emops.topology import load_topology
topo = load_topology("inventory/province")
"""

from __future__ import annotations

import os

from emops.topology.build import build_topology
from emops.topology.loader import read_inventory
from emops.topology.model import Topology


def load_topology(path: str | os.PathLike[str]) -> Topology:
    """Read the inventory at `path` with Ansible's API and build the typed model.

    Raises EmopsError listing every problem found (file:line, host, field, hint).
    """
    return build_topology(read_inventory(path))


__all__ = ["Topology", "load_topology"]
