"""How each CLI family spells the things push, verify, rollback and backup need.

Platforms are data: a dialect names the show command, the negation word, what
marks an error, which lines are noise when comparing configs and which are
volatile in backups (timestamps), and which lines a device never shows back
(write-only secrets). FRR's vtysh speaks the cisco_ios dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emops.errors import EmopsError


@dataclass(frozen=True)
class Dialect:
    device_type: str  # netmiko's name
    show_running: str
    negation: str  # "no" / "undo"
    error_pattern: str  # a pushed line whose echo matches this failed
    comment: str  # separator / comment lines start with this
    block_end: str  # sent after a block's children ("" when the CLI walks up by itself)
    terminators: frozenset[str]  # end-of-block / end-of-config words, dropped when parsing
    noise: tuple[str, ...]  # regexes of lines that are not configuration
    volatile: tuple[str, ...]  # regexes of lines that change without a config change
    write_only: tuple[str, ...]  # regexes of lines the device never shows back as sent
    silent: tuple[str, ...]  # defaults sent with their block but not shown (no shutdown)
    kept_parents: tuple[str, ...]  # blocks rollback empties but never deletes (physical ports)
    bare_negations: tuple[str, ...] = ("description",)  # negated without their arguments

    def negate(self, line: str, trim: int = 0) -> str:
        """`X args` -> `no X args` (`undo ...`), `no X` -> `X`.

        Some commands refuse their arguments when negated (FRR: `no description
        x` is unknown, `no description` works): those listed in bare_negations
        lose them, and `trim` drops that many trailing words as a last resort.
        """
        prefix = self.negation + " "
        if line.startswith(prefix):
            return line[len(prefix) :]
        words = line.split()
        if words[0] in self.bare_negations:
            words = words[:1]
        if trim:
            words = words[: max(1, len(words) - trim)]
        return prefix + " ".join(words)

    def is_noise(self, line: str) -> bool:
        return any(re.search(p, line) for p in self.noise)

    def is_volatile(self, line: str) -> bool:
        return any(re.search(p, line) for p in self.volatile)

    def keeps(self, parent: str) -> bool:
        return any(re.search(p, parent) for p in self.kept_parents)


CISCO_IOS = Dialect(
    device_type="cisco_ios",
    show_running="show running-config",
    negation="no",
    error_pattern=r"^%",
    comment="!",
    block_end="",
    terminators=frozenset({"end", "exit"}),
    noise=(r"^Building configuration", r"^Current configuration"),
    volatile=(
        r"^! (Last configuration change|NVRAM config last updated|No configuration change)",
        r"^Current configuration : \d+ bytes",
        r"^ntp clock-period ",
    ),
    write_only=(r"^snmp-server user ", r"^username \S+ .*secret "),
    silent=(r"^no shutdown$",),
    kept_parents=(r"^interface ",),
)

HUAWEI = Dialect(
    device_type="huawei",
    show_running="display current-configuration",
    negation="undo",
    error_pattern=r"^Error:|^\s*\^$",
    comment="#",
    block_end="quit",
    terminators=frozenset({"return", "quit"}),
    noise=(r"^!",),  # "!Software Version ...", "!Last configuration was updated at ..."
    volatile=(r"^!Last configuration was updated", r"^!Time:"),
    write_only=(
        r"^snmp-agent usm-user v3 \S+ (authentication-mode|privacy-mode) ",
        r"^local-user \S+ password ",
        r"^snmp-agent community ",
    ),
    silent=(r"^undo shutdown$",),
    kept_parents=(r"^interface (?!(Vlanif|Eth-Trunk|Mp-group|LoopBack))",),
)

DIALECTS = {d.device_type: d for d in (CISCO_IOS, HUAWEI)}
# emops platform (inventory `emops_platform`) -> netmiko device_type
PLATFORM_DEVICE_TYPES = {"cisco_ios": "cisco_ios", "huawei_vrp": "huawei", "frr": "cisco_ios"}


def dialect(device_type: str) -> Dialect:
    """The dialect of a netmiko device_type, or a clear error."""
    try:
        return DIALECTS[device_type]
    except KeyError:
        raise EmopsError.of(
            "device_type",
            f"unsupported device_type {device_type!r}",
            f"use one of {', '.join(sorted(DIALECTS))}",
        ) from None
