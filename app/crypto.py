"""Encryption of stored credentials and webhook secrets (Fernet; MultiFernet for rotation).

``ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys; the first encrypts,
all decrypt, so a key can be rotated by prepending a new one and running
``flask --app app keys rotate`` (re-encrypts every stored secret with the newest key);
after that the old key can be dropped.
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
            raise ConfigError(
                "ENCRYPTION_KEY is not set; generate one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            )
        fernets = []
        for number, key in enumerate(parts, 1):
            try:
                fernets.append(Fernet(key.encode()))
            except ValueError:
                which = f"key {number} of {len(parts)}" if len(parts) > 1 else "the key"
                raise ConfigError(
                    f"ENCRYPTION_KEY: {which} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        self._primary = fernets[0]
        self._fernet = MultiFernet(fernets)

    def __repr__(self) -> str:
        return "Vault(<keys hidden>)"

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str, max_age: int | None = None) -> str:
        """``max_age``: refuse a token older than this many seconds (a sealed form value)."""
        try:
            return self._fernet.decrypt(token.encode(), ttl=max_age).decode()
        except InvalidToken:
            raise ConfigError("stored secret cannot be decrypted with ENCRYPTION_KEY") from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted with the newest key already."""
        try:
            self._primary.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the newest key (any listed key may read it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ConfigError("stored secret cannot be decrypted with ENCRYPTION_KEY") from None

    def encrypt_json(self, data: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(data, sort_keys=True))

    def decrypt_json(self, token: str, max_age: int | None = None) -> dict[str, Any]:
        return dict(json.loads(self.decrypt(token, max_age)))


def generate_key() -> str:
    return Fernet.generate_key().decode()
