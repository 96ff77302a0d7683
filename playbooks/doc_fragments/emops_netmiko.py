"""Documentation of the connection options the emops_netmiko_* modules share.

The options themselves are defined once in module_utils/emops_netmiko.py; this
fragment documents them once (`extends_documentation_fragment: [emops_netmiko]`,
path set in ansible.cfg), so ansible-doc and the code cannot drift apart per module.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  host: {type: str, required: true, description: Management address.}
  port: {type: int, default: 22, description: SSH port.}
  username: {type: str, required: true, description: Login name.}
  password: {type: str, no_log: true, description: Password (or key_file).}
  key_file: {type: path, description: SSH private key on the controller.}
  device_type:
    type: str
    required: true
    choices: [cisco_ios, huawei]
    description: netmiko device type.
  timeout: {type: int, default: 30, description: SSH connect timeout in seconds.}
"""
