"""The "Koppeling toevoegen" form: read and check the fields, then test both
connections live (Mijnwebwinkel's store endpoint, e-Boekhouden's OpenSession)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from app.core.mapping_settings import MappingSettings
from app.errors import ConnectorError
from app.services import Services
from app.states import ShopStatus
from app.store.shops import MIN_EB_USERNAME, Credentials, Shop

log = logging.getLogger(__name__)

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
    """Both connections, live; the Dutch problem per system (``mww``, ``eb``), if any."""
    probe = Shop(id=0, name="", status=ShopStatus.DRAFT, webhook_key="",
                       credentials=credentials, webhook_secrets=(), mapping=MappingSettings())
    errors: dict[str, str] = {}
    try:
        services.shop_api_factory(probe).store()
    except ConnectorError as err:
        log.info("mijnwebwinkel check failed: %s", err)
        errors["mww"] = err.explanation
    bookkeeping = None
    try:
        bookkeeping = services.bookkeeping_factory(probe)
        bookkeeping.verify()
    except ConnectorError as err:
        log.info("e-boekhouden check failed: %s", err)
        errors["eb"] = err.explanation
    finally:
        if bookkeeping is not None:
            bookkeeping.close()
    return errors

