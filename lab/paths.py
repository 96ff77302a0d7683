"""Where the twin keeps its runtime state on the host.

Everything `emops lab up` makes on disk lives under one directory, so that
`emops lab down` can remove all of it, even after a crash:

    $EMOPS_LAB_DIR (default /var/lib/emops-lab)
      state.json            what is up: inventory, sites, namespaces, links
      limit                 the hosts this twin has, for `ansible-playbook --limit @limit`
      ground-truth.jsonl    every fault and repair, with timestamps
      keys/                 the lab's SSH client key pair (id_ed25519[.pub])
      devices/<name>/       per-device root: run/, overlay dirs, ssh host keys,
                            services/ (registry), log/
"""

from __future__ import annotations

import os
from pathlib import Path


def lab_dir() -> Path:
    return Path(os.environ.get("EMOPS_LAB_DIR", "/var/lib/emops-lab"))


def device_dir(name: str) -> Path:
    return lab_dir() / "devices" / name


def keys_dir() -> Path:
    return lab_dir() / "keys"


def state_file() -> Path:
    return lab_dir() / "state.json"


def ground_truth_file() -> Path:
    return lab_dir() / "ground-truth.jsonl"


def limit_file() -> Path:
    return lab_dir() / "limit"
