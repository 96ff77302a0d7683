"""Ansible filter: how a twin device's snmpd wears a vendor face (lab/vendor_agent.py).

    "{{ emops_snmp_face | emops_snmp_face(inventory_hostname) }}"

The sysObjectID, the subtrees the agent serves and the paths come from the agent's
own module (SYS_OBJECT_IDS, ROOTS, STATE_NAME) and lab.paths, so the snmpd.conf
template never holds a second copy of them. The controller is the twin's machine:
the agent path and the device's state file are the same inside every device.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def emops_snmp_face(face: str, device: str) -> dict[str, object]:
    """{sys_object_id, roots, agent, state} of `face` on `device`."""
    from lab import vendor_agent
    from lab.paths import device_dir

    if face not in vendor_agent.FACES:
        raise AnsibleFilterError(f"emops_snmp_face: {face!r} is not one of {vendor_agent.FACES}")
    return {
        "sys_object_id": vendor_agent.SYS_OBJECT_IDS[face],
        "roots": list(vendor_agent.ROOTS[face]),
        "agent": vendor_agent.__file__,
        "state": str(device_dir(device) / vendor_agent.STATE_NAME),
    }


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"emops_snmp_face": emops_snmp_face}
