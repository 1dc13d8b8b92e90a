"""Encryption of stored credentials and webhook secrets (Fernet; MultiFernet for rotation).

``ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys; the first encrypts,
all decrypt, so a key can be rotated by prepending a new one.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.errors import ConfigError


class Vault:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ConfigError("ENCRYPTION_KEY is not set; generate one with "
                              "`python -c 'from cryptography.fernet import Fernet; "
                              "print(Fernet.generate_key().decode())'`")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError:
            raise ConfigError("ENCRYPTION_KEY is not a valid Fernet key") from None

    def __repr__(self) -> str:
        return "Vault(<keys hidden>)"

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError("stored secret cannot be decrypted with ENCRYPTION_KEY") from None

    def encrypt_json(self, data: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(data, sort_keys=True))

    def decrypt_json(self, token: str) -> dict[str, Any]:
        return dict(json.loads(self.decrypt(token)))


def generate_key() -> str:
    return Fernet.generate_key().decode()
