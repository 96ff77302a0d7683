#!/usr/bin/python
"""Ansible module: a host's static routes in the kernel (`ip route`)."""

from __future__ import annotations

import json

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: emops_routes
short_description: Ensure static routes (prefix via next hop) in the main table
options:
  routes:
    type: list
    elements: dict
    required: true
    description: "[{prefix, next_hop, interface?}] as in emops_config.static_routes."
"""

EXAMPLES = r"""
- name: Route the lab prefix through the segment gateway
  emops_routes:
    routes: "{{ emops_config.static_routes }}"
"""


def _current(module: AnsibleModule, prefix: str) -> list[dict]:
    dst = "default" if prefix == "0.0.0.0/0" else prefix
    rc, out, err = module.run_command(["ip", "-j", "-4", "route", "show", "exact", dst])
    if rc != 0:
        module.fail_json(msg=f"ip route show {dst}: {err.strip()}")
    return json.loads(out or "[]")


def main() -> None:
    module = AnsibleModule(
        argument_spec={"routes": {"type": "list", "elements": "dict", "required": True}},
        supports_check_mode=True,
    )
    before, after, changed = [], [], False
    for route in module.params["routes"]:
        prefix, via, dev = route["prefix"], route["next_hop"], route.get("interface")
        have = _current(module, prefix)
        before += [f"{prefix} via {r.get('gateway', '-')} dev {r.get('dev', '-')}" for r in have]
        after.append(f"{prefix} via {via} dev {dev or '-'}")
        ok = any(r.get("gateway") == via and (dev is None or r.get("dev") == dev) for r in have)
        if ok:
            continue
        changed = True
        if not module.check_mode:
            argv = ["ip", "route", "replace", prefix, "via", via] + (["dev", dev] if dev else [])
            module.run_command(argv, check_rc=True)
    diff = {"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"}
    module.exit_json(changed=changed, diff=diff)


if __name__ == "__main__":
    main()
