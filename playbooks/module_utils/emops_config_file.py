"""Writing a config file a module owns whole, only when its text changes.

emops_service (systemd units and drop-ins) and emops_sysctl (the sysctl.d file)
both report `changed` from the file's text and must leave the file alone in
check mode; one function keeps that rule the same for both. Ansible ships this
file inside each module's payload (module_utils, path set in ansible.cfg).
"""

from __future__ import annotations

import os


def write_if_changed(path: str, text: str, check_mode: bool) -> bool:
    """Whether `path` did not already hold exactly `text`; writes it then (with its
    parent directories) unless in check mode, so the caller's follow-up (a daemon
    reload) can go by the answer."""
    old = None
    if os.path.exists(path):
        with open(path) as handle:
            old = handle.read()
    if old == text:
        return False
    if not check_mode:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return True
