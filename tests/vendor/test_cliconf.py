"""Config trees: parsing running configs, planning pushes and rollbacks (no device)."""

from __future__ import annotations

import pytest

from emops.errors import EmopsError
from emops.vendor import cliconf
from emops.vendor.dialects import CISCO_IOS, HUAWEI, dialect
from emops.vendor.session import plan

FRR_RUNNING = """Building configuration...

Current configuration:
!
frr version 8.4.4
hostname r1
!
interface eth0
 description uplink
 ip ospf   cost 10
exit
!
router ospf
 passive-interface default
 network 10.0.0.0/30 area 0
exit
!
end
"""

VRP_RUNNING = """!Software Version V200R010C10SPC700
!Last configuration was updated at 2026-01-01 10:00:00+08:00
#
sysname anping-wan
#
interface GigabitEthernet0/0/1
 description lan
 ip address 10.11.1.1 255.255.255.0
#
ospf 1 router-id 10.11.1.1
 area 0.0.0.0
  network 10.11.1.0 0.0.0.255
#
return
"""


def test_parse_builds_a_tree_without_noise_comments_or_terminators() -> None:
    tree = cliconf.parse(FRR_RUNNING, CISCO_IOS)
    assert list(tree) == ["frr version 8.4.4", "hostname r1", "interface eth0", "router ospf"]
    assert tree["interface eth0"] == {"description uplink": {}, "ip ospf cost 10": {}}
    vrp = cliconf.parse(VRP_RUNNING, HUAWEI)
    assert vrp["ospf 1 router-id 10.11.1.1"] == {
        "area 0.0.0.0": {"network 10.11.1.0 0.0.0.255": {}}
    }
    assert "return" not in vrp and not any(k.startswith("!") for k in vrp)


def test_push_plan_sends_only_missing_lines_with_their_parents() -> None:
    intent = (
        "interface eth0\n ip ospf cost 10\n ip ospf hello-interval 2\nip route 1.0.0.0/8 Null0\n"
    )
    todo = plan(intent, FRR_RUNNING, CISCO_IOS, [], False)
    assert todo.commands == [
        "interface eth0",
        " ip ospf hello-interval 2",
        "ip route 1.0.0.0/8 Null0",
    ]
    assert plan("router ospf\n network 10.0.0.0/30 area 0\n", FRR_RUNNING, CISCO_IOS, [], False)
    assert not plan("hostname r1\n", FRR_RUNNING, CISCO_IOS, [], False).commands


def test_write_only_lines_are_not_compared_unless_asked() -> None:
    intent = "snmp-server user mon grp v3 auth sha KEY priv aes 128 KEY\nhostname r1\n"
    assert not plan(intent, FRR_RUNNING, CISCO_IOS, list(CISCO_IOS.write_only), False).commands
    forced = plan(intent, FRR_RUNNING, CISCO_IOS, list(CISCO_IOS.write_only), True)
    assert forced.commands == ["snmp-server user mon grp v3 auth sha KEY priv aes 128 KEY"]
    assert "snmp-server user mon grp v3 auth sha KEY priv aes 128 KEY" not in forced.verifiable


def test_huawei_blocks_end_with_quit() -> None:
    tree = cliconf.parse("interface Vlanif100\n ip address 10.1.100.2 255.255.255.0\n", HUAWEI)
    assert cliconf.lines(tree, HUAWEI) == [
        "interface Vlanif100",
        " ip address 10.1.100.2 255.255.255.0",
        " quit",
    ]


def test_rollback_removes_additions_restores_removals_and_keeps_ports() -> None:
    backup = cliconf.parse(FRR_RUNNING, CISCO_IOS)
    current = cliconf.parse(
        FRR_RUNNING.replace(" ip ospf   cost 10", " ip ospf cost 20")
        + "interface eth1\n description new\nrouter rip\n network eth1\nip route 1.0.0.0/8 Null0\n",
        CISCO_IOS,
    )
    commands = cliconf.rollback_commands(current, backup, CISCO_IOS)
    assert commands == [
        "interface eth0",
        " no ip ospf cost 20",
        "interface eth1",
        " no description",  # bare negation: FRR refuses `no description new`
        "router rip",
        " no network eth1",
        "no router rip",  # a new block is deleted ...
        "no ip route 1.0.0.0/8 Null0",
        "interface eth0",  # ... a port only emptied; then what was lost comes back
        " ip ospf cost 10",
    ]
    restored = cliconf.parse(FRR_RUNNING + "interface eth1\n", CISCO_IOS)
    assert cliconf.same(restored, backup, CISCO_IOS)  # an empty port counts as absent
    assert not cliconf.same(current, backup, CISCO_IOS)


def test_negation_retries_shorter_and_undoes_undo() -> None:
    assert CISCO_IOS.negate("no ip forwarding") == "ip forwarding"
    assert HUAWEI.negate("undo shutdown") == "shutdown"
    assert HUAWEI.negate("description to core1") == "undo description"
    assert CISCO_IOS.negate("ip ospf cost 20", trim=1) == "no ip ospf cost"
    assert CISCO_IOS.negate("shutdown", trim=3) == "no shutdown"


def test_backup_text_drops_volatile_lines() -> None:
    ios = "Current configuration : 1234 bytes\n!\n! Last configuration change at 10:00\n"
    ios += "hostname x\n\n"
    assert cliconf.clean_for_backup(ios, CISCO_IOS) == "!\nhostname x\n"
    assert "Last configuration" not in cliconf.clean_for_backup(VRP_RUNNING, HUAWEI)


def test_unknown_device_type_is_a_clear_error() -> None:
    with pytest.raises(EmopsError, match="use one of cisco_ios, huawei"):
        dialect("juniper_junos")


def test_silent_defaults_go_out_with_their_block_only() -> None:
    intent = "interface Gi0/0/0\n description lan\n no shutdown\ninterface Gi0/0/1\n no shutdown\n"
    running = "interface Gi0/0/1\n!\n"
    todo = plan(intent, running, CISCO_IOS, [], False)
    assert todo.commands == ["interface Gi0/0/0", " description lan", " no shutdown"]
    assert "no shutdown" not in todo.verifiable["interface Gi0/0/0"]
    assert not plan(intent, "interface Gi0/0/0\n description lan\n", CISCO_IOS, [], False).commands
