"""The topology model: the one reader of the inventory.

from emops.topology import load_topology
topo = load_topology("inventory/province")

Three stages: loader.py (files -> RawInventory, through ansible-core),
fields.py (every field read into the typed model, unknown keys refused, then a
checkpoint) and checks.py (checks across the whole model).
"""

from __future__ import annotations

import os

from emops.errors import EmopsError
from emops.topology.fields import build_topology
from emops.topology.loader import read_inventory
from emops.topology.model import Topology


def load_topology(path: str | os.PathLike[str], sites: int | None = None) -> Topology:
    """Read the inventory at `path` with Ansible's API and build the typed model;
    with `sites`, only HQ and the first `sites` municipal companies (a twin's size).

    Raises EmopsError listing every problem found (file:line, host, field, hint).
    """
    topo = build_topology(read_inventory(path))
    return topo if sites is None else cut_to_sites(topo, sites)


def cut_to_sites(topo: Topology, sites: int) -> Topology:
    """HQ plus the first `sites` municipal companies, or a one-line `--sites` error."""
    available = len(topo.municipal_sites())
    if not 1 <= sites <= available:
        raise EmopsError.of(
            "--sites", f"{sites} is out of range", f"give 1 to {available} municipal companies"
        )
    return topo.subset(sites)


__all__ = ["Topology", "cut_to_sites", "load_topology"]
