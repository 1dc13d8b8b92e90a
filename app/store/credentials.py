"""A shop's credentials: the secrets the two connections need, as stored (encrypted, as
JSON) in ``shops.credentials``. Decrypted only by app/store/shops.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from app.states import EbApi


@dataclass(frozen=True, slots=True)
class Credentials:
    """A shop's secrets. e-Boekhouden: an API token (REST, preferred) or the SOAP username
    and security codes; ``eb_api`` says which adapter books for the shop."""

    mww_token: str = field(repr=False)
    eb_username: str = ""
    eb_code1: str = field(default="", repr=False)
    eb_code2: str = field(default="", repr=False)
    eb_api_token: str = field(default="", repr=False)

    @property
    def eb_api(self) -> EbApi:
        return EbApi.REST if self.eb_api_token else EbApi.SOAP

    @property
    def administration_key(self) -> str:
        """The e-Boekhouden administration these credentials reach, as a key: the shops of
        one accountant may share an administration, and with it e-Boekhouden's limits
        (GetMutaties calls a month, concurrent calls). SOAP: the username (one per
        administration); REST: a digest of the API token (never the token itself). Two
        REST tokens of one administration count as two (docs/assumptions-eboekhouden.md)."""
        if self.eb_api_token:
            digest = hashlib.sha256(self.eb_api_token.encode()).hexdigest()[:16]
            return f"rest:{digest}"
        return f"soap:{self.eb_username.strip().casefold()}"

    def to_json(self) -> dict[str, str]:
        data = {
            "mww_token": self.mww_token,
            "eb_username": self.eb_username,
            "eb_code1": self.eb_code1,
            "eb_code2": self.eb_code2,
        }
        if self.eb_api_token:
            data["eb_api_token"] = self.eb_api_token
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Credentials:
        return cls(
            data["mww_token"],
            data.get("eb_username", ""),
            data.get("eb_code1", ""),
            data.get("eb_code2", ""),
            data.get("eb_api_token", ""),
        )
