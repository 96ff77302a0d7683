"""Inventory variables with their `!vault` values decrypted, only on demand.

The inventory loads without a password (values stay encrypted); only the
collectors' credentials need clear text. The password file comes from
--vault-password-file, else ANSIBLE_VAULT_PASSWORD_FILE, else, for an
inventory beside one, `vault-password.lab` (the lab's published test secret).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emops.errors import EmopsError

LAB_PASSWORD_FILE = "vault-password.lab"
REDACTED = "<redacted>"
SECRET_KEYS = ("password", "community", "secret", "key")


def password_file(inventory: Path, explicit: str | None = None) -> Path | None:
    """Where the vault password is, or None when nothing names one."""
    if explicit:
        return Path(explicit)
    if os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"):
        return Path(os.environ["ANSIBLE_VAULT_PASSWORD_FILE"])
    beside = inventory.resolve().parent / LAB_PASSWORD_FILE
    return beside if beside.exists() else None


class Decryptor:
    """Templates a host's variables, decrypting vault values with one password."""

    def __init__(self, password_path: Path | None) -> None:
        self.password_path = password_path
        self._vault: Any = None

    def _lib(self) -> Any:
        if self._vault is None:
            from ansible.parsing.dataloader import DataLoader
            from ansible.parsing.vault import VaultLib, get_file_vault_secret

            if self.password_path is None or not self.password_path.exists():
                raise EmopsError.of(
                    "--vault-password-file",
                    f"the SNMP credentials are vault-encrypted and no password file "
                    f"was found ({self.password_path or 'none given'})",
                    "pass --vault-password-file or set ANSIBLE_VAULT_PASSWORD_FILE",
                )
            secret = get_file_vault_secret(filename=str(self.password_path), loader=DataLoader())
            secret.load()
            self._vault = VaultLib([("default", secret)])
        return self._vault

    def plain(self, value: Any) -> Any:
        from ansible.parsing.vault import EncryptedString

        if isinstance(value, EncryptedString):
            vault = self._lib()
            try:
                return vault.decrypt(value._ciphertext).decode()
            except Exception as exc:  # AnsibleVaultError and friends: wrong password
                raise EmopsError.of(
                    "vault", f"cannot decrypt ({exc})", "check the vault password file"
                ) from None
        return value

    def render(self, value: Any, host_vars: Mapping[str, Any]) -> Any:
        """`value` with Jinja templates resolved against `host_vars` (vault decrypted)."""
        from ansible.parsing.dataloader import DataLoader
        from ansible.template import Templar

        needed = {k: self.plain(v) for k, v in host_vars.items() if _referenced(k, value)}
        return Templar(loader=DataLoader(), variables=needed).template(value)


def _referenced(name: str, value: Any) -> bool:
    """Whether `value` (a template tree) mentions variable `name`: only those are decrypted."""
    if isinstance(value, str):
        return name in value
    if isinstance(value, Mapping):
        return any(_referenced(name, v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_referenced(name, v) for v in value)
    return False


def redact(value: Any) -> Any:
    """A copy of a config tree with every secret-looking value replaced."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if any(s in str(k).lower() for s in SECRET_KEYS) and v else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
