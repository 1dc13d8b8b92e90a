"""A refused "Koppeling toevoegen" (or Gegevens) form keeps the secrets that were not the
problem, so the user types only what was wrong.

The page never echoes a secret back: each kept one travels as a hidden field sealed with
ENCRYPTION_KEY (Fernet: encrypted and signed), bound to the user and the field, and valid
for ``KEPT_SECRET_TTL``. Sent back with the field left empty, it fills that field in.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.config import KEPT_SECRET_TTL
from app.crypto import Vault
from app.errors import ConfigError
from app.store.shops import Credentials
from app.web.connection_form import SECRET_FIELDS

PREFIX = "bewaard_"  # the hidden field of a kept secret: bewaard_<field>
# Which problems make a secret suspect: the system that refused it, or the field itself.
SYSTEM_OF = {"mww_token": "mww", "eb_code1": "eb", "eb_code2": "eb", "eb_api_token": "eb"}


def keep(
    vault: Vault, user_id: int, credentials: Credentials, errors: Mapping[str, str]
) -> dict[str, str]:
    """Sealed copies of the typed secrets nobody refused: field → sealed value."""
    kept = {}
    for name in SECRET_FIELDS:
        value = getattr(credentials, name)
        if value and name not in errors and SYSTEM_OF[name] not in errors:
            kept[name] = vault.encrypt_json({"user": user_id, "field": name, "value": value})
    return kept


def restore(form: Mapping[str, str], vault: Vault, user_id: int) -> dict[str, str]:
    """The form's values, with each empty secret field filled from its sealed copy (one
    that is too old, or another user's or field's, is ignored)."""
    values = {key: form.get(key) or "" for key in form}
    for name in SECRET_FIELDS:
        sealed = form.get(PREFIX + name) or ""
        if not sealed or values.get(name, "").strip():
            continue
        try:
            data = vault.decrypt_json(sealed, max_age=KEPT_SECRET_TTL)
        except (ConfigError, ValueError):
            continue
        if data.get("user") == user_id and data.get("field") == name:
            values[name] = str(data.get("value") or "")
    return values


def here(errors: dict[str, str]) -> dict[str, str]:
    """On the form itself the upstream advice "vul … in bij Gegevens van de koppeling"
    means this form: say "hieronder" (step 1 has no Gegevens page yet)."""
    return {
        key: message.replace("in bij Gegevens van de koppeling", "hieronder in").replace(
            "bij Gegevens van de koppeling", "hieronder"
        )
        for key, message in errors.items()
    }
