"""The "Koppeling toevoegen" form: read and check the fields (the live test of both
connections is ``app.connections.verify_connections``, shared with ``flask shops add``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app import connections
from app.services import Services
from app.store.shops import MIN_EB_USERNAME, Credentials, Shop

__all__ = ["ConnectionForm", "read_form", "verify_connections"]

MIN_USERNAME = MIN_EB_USERNAME
SHORT_USERNAME = (
    f"Voor deze koppeling moet uw gebruikersnaam minimaal {MIN_USERNAME} tekens bevatten. Is uw "
    "gebruikersnaam te kort? Maak dan een nieuwe inlog aan via Beheer > Uw account > "
    "Gebruikers > Toevoegen."
)
REQUIRED = {
    "name": "Vul de naam van de winkel in.",
    "mww_token": "Vul de API-token uit Mijnwebwinkel in (Instellingen > API > Token "
                 "toevoegen, dan 'Toon token').",
    "eb_username": "Vul uw gebruikersnaam van e-Boekhouden.nl in.",
    "eb_code1": "Vul beveiligingscode 1 in (e-Boekhouden.nl: Beheer > Inrichting > "
                "Instellingen > Koppelingen).",
    "eb_code2": "Vul beveiligingscode 2 in (e-Boekhouden.nl: Beheer > Inrichting > "
                "Instellingen > Koppelingen).",
}
SECRET_FIELDS = ("mww_token", "eb_code1", "eb_code2")


@dataclass(frozen=True, slots=True)
class ConnectionForm:
    name: str
    credentials: Credentials


def read_form(form: Mapping[str, str],
              current: Shop | None = None) -> tuple[ConnectionForm, dict[str, str]]:
    """The submitted values (an empty secret field keeps ``current``'s value) and the
    problems per field."""
    values = {key: (form.get(key) or "").strip() for key in REQUIRED}
    if current is not None:
        stored = current.credentials
        for key in SECRET_FIELDS:
            values[key] = values[key] or getattr(stored, key)
    errors = {key: message for key, message in REQUIRED.items() if not values[key]}
    if values["eb_username"] and len(values["eb_username"]) < MIN_USERNAME:
        errors["eb_username"] = SHORT_USERNAME
    if len(values["name"]) > 200:
        errors["name"] = "De naam mag hoogstens 200 tekens lang zijn."
    credentials = Credentials(values["mww_token"], values["eb_username"],
                                    values["eb_code1"], values["eb_code2"])
    return ConnectionForm(values["name"], credentials), errors


def verify_connections(services: Services, credentials: Credentials) -> dict[str, str]:
    """Both connections, live, as the pages ask: short timeouts, "probeer het later"."""
    return connections.verify_connections(
        services, credentials, page_timeout=services.settings.web_upstream_timeout)
