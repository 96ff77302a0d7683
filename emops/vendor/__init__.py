"""Vendor CLI platforms: render structured config to device text, push it with
netmiko (backup, push, verify, roll back) and fetch running configs for backup.

The Linux/FRR twin is provisioned by the roles in playbooks/roles; real gear
(Huawei VRP, Cisco IOS) goes through this package (docs/vendor-platforms.md).
"""
