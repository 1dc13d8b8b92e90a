"""The "Koppeling toevoegen" form: read and check the fields (the live test of both
connections is ``app.booking.connections.verify_connections``, shared with ``flask shops add``;
e-Boekhouden: a REST session with the API token, or SOAP's OpenSession)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.booking import connections
from app.booking.names import name_problem
from app.services import Services
from app.states import EbApi
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
}
REQUIRED_SOAP = {
    "eb_username": "Vul uw gebruikersnaam van e-Boekhouden.nl in.",
    "eb_code1": "Vul beveiligingscode 1 in (e-Boekhouden.nl: Beheer > Inrichting > "
    "Instellingen > Koppelingen).",
    "eb_code2": "Vul beveiligingscode 2 in (e-Boekhouden.nl: Beheer > Inrichting > "
    "Instellingen > Koppelingen).",
}
REQUIRED_REST = {
    "eb_api_token": "Vul het API-token van e-Boekhouden.nl in (Beheer > Inrichting > "
    "Instellingen > Koppelingen > API/SOAP, API-token toevoegen).",
}
EB_APIS = {
    EbApi.REST: "API-token (aanbevolen)",
    EbApi.SOAP: "Gebruikersnaam en beveiligingscodes (SOAP)",
}
SECRET_FIELDS = ("mww_token", "eb_code1", "eb_code2", "eb_api_token")


@dataclass(frozen=True, slots=True)
class ConnectionForm:
    name: str
    credentials: Credentials


def chosen_api(form: Mapping[str, str], current: Shop | None = None) -> EbApi | None:
    """The form's choice (None when it names no adapter we know); without one, the shop's
    current adapter, else SOAP when only SOAP fields were sent, else REST (recommended)."""
    chosen = (form.get("eb_api") or "").strip()
    if chosen:
        return EbApi(chosen) if chosen in tuple(EbApi) else None
    if current is not None:
        return current.credentials.eb_api
    if (form.get("eb_api_token") or "").strip():
        return EbApi.REST
    return EbApi.SOAP if any((form.get(k) or "").strip() for k in REQUIRED_SOAP) else EbApi.REST


def read_form(
    form: Mapping[str, str], current: Shop | None = None
) -> tuple[ConnectionForm, dict[str, str]]:
    """The submitted values (an empty secret field keeps ``current``'s value) and the
    problems per field. Only the chosen e-Boekhouden method's fields are required; the
    other method's stored values are kept, except that SOAP drops the API token (a token
    is what makes a shop book through REST)."""
    api = chosen_api(form, current)
    fields = {**REQUIRED, **REQUIRED_SOAP, **REQUIRED_REST}
    values = {key: (form.get(key) or "").strip() for key in fields}
    if current is not None:
        stored = current.credentials
        for key in SECRET_FIELDS:
            values[key] = values[key] or getattr(stored, key)
        if api == EbApi.REST:  # the hidden SOAP username stays for a later switch back
            values["eb_username"] = values["eb_username"] or stored.eb_username
    required = {**REQUIRED, **(REQUIRED_REST if api == EbApi.REST else REQUIRED_SOAP)}
    errors = {key: message for key, message in required.items() if not values[key]}
    if api not in EB_APIS:
        errors["eb_api"] = "Kies hoe de koppeling bij e-Boekhouden.nl inlogt."
    if api == EbApi.SOAP and values["eb_username"] and len(values["eb_username"]) < MIN_USERNAME:
        errors["eb_username"] = SHORT_USERNAME
    problem = name_problem(values["name"]) if values["name"] else None
    if problem:
        errors["name"] = problem
    credentials = Credentials(
        values["mww_token"],
        values["eb_username"],
        values["eb_code1"],
        values["eb_code2"],
        values["eb_api_token"] if api == EbApi.REST else "",
    )
    return ConnectionForm(values["name"], credentials), errors


def verify_connections(services: Services, credentials: Credentials) -> dict[str, str]:
    """Both connections, live, as the pages ask: short timeouts, "probeer het later"."""
    return connections.verify_connections(
        services, credentials, page_timeout=services.settings.web_upstream_timeout
    )
