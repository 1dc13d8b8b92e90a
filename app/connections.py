"""Test a shop's two connections live: Mijnwebwinkel's store endpoint and e-Boekhouden's
OpenSession. Used by the "Koppeling toevoegen" form and by ``flask shops add``."""

from __future__ import annotations

import logging

from app.core.mapping_settings import MappingSettings
from app.errors import ConnectorError
from app.services import Services
from app.states import ShopStatus
from app.store.shops import Credentials, Shop

log = logging.getLogger(__name__)


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

