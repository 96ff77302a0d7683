"""A province inventory whose vault a test can open.

The committed province vault is encrypted under a password nobody keeps (the
real network's password is the operator's, never in git). A test that must
decrypt a province-shaped vault copies the inventory to its tmp dir and
re-encrypts every `!vault` value under a test password, with clear values it
knows; the password file sits outside the copy, as an operator keeps it.
"""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from testkit import PROVINCE

VAULT_YML = Path("group_vars") / "all" / "vault.yml"
TEST_PASSWORD = "emops-test-vault-password"


@dataclass(frozen=True)
class OpenVault:
    inventory: Path  # the copy
    password_file: Path  # outside the copy, mode 0600
    secrets: dict[str, str]  # vault_* name -> clear value


def province_with_vault(tmp_path: Path) -> OpenVault:
    """inventory/province copied under tmp_path, its vault re-encrypted with TEST_PASSWORD.
    Each clear value is unique to this call, so finding it anywhere is a real leak."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    inventory = tmp_path / "province"
    shutil.copytree(PROVINCE, inventory)
    password_file = tmp_path / "province.vault-password"
    password_file.write_text(TEST_PASSWORD + "\n")
    password_file.chmod(0o600)
    names = re.findall(r"^(vault_\w+): !vault", (PROVINCE / VAULT_YML).read_text(), re.M)
    tag = secrets.token_hex(4)
    clear = {name: f"test-{name.removeprefix('vault_')}-{tag}" for name in names}
    vault = VaultLib([("default", VaultSecret(TEST_PASSWORD.encode()))])
    blocks = []
    for name, value in clear.items():
        lines = vault.encrypt(value).decode().split()
        blocks.append(f"{name}: !vault |\n" + "".join(f"  {line}\n" for line in lines))
    (inventory / VAULT_YML).write_text("".join(blocks))
    return OpenVault(inventory, password_file, clear)
