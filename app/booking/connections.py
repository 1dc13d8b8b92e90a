"""Test a shop's two connections live: Mijnwebwinkel's store endpoint and e-Boekhouden's
OpenSession. Used by the "Koppeling toevoegen" form and by ``flask shops add``."""

from __future__ import annotations

import logging

from app.core.mapping_settings import MappingSettings
from app.errors import ConnectorError, UpstreamUnavailableError
from app.services import Services
from app.states import ShopStatus
from app.store.shops import Credentials, Shop

log = logging.getLogger(__name__)


def verify_connections(
    services: Services, credentials: Credentials, *, page_timeout: float | None = None
) -> dict[str, str]:
    """Both connections, live; the Dutch problem per system (``mww``, ``eb``), if any.
    ``page_timeout``: a page asks, with clients that wait at most that long."""
    probe = Shop(
        id=0,
        name="",
        status=ShopStatus.DRAFT,
        webhook_key="",
        credentials=credentials,
        webhook_secrets=(),
        mapping=MappingSettings(),
    )
    errors: dict[str, str] = {}
    try:
        services.shop_api_factory(probe).store()
    except ConnectorError as err:
        log.info("mijnwebwinkel check failed: %s", err)
        errors["mww"] = explain(err, page_timeout)
    bookkeeping = None
    try:
        bookkeeping = services.bookkeeping_factory(probe)
        bookkeeping.verify()
    except ConnectorError as err:
        log.info("e-boekhouden check failed: %s", err)
        errors["eb"] = explain(err, page_timeout)
    finally:
        if bookkeeping is not None:
            bookkeeping.close()
    return errors


SYSTEM_NAMES = {"mijnwebwinkel": "Mijnwebwinkel", "eboekhouden": "e-Boekhouden.nl"}


def explain(err: ConnectorError, timeout: float | None) -> str:
    """What a page says about a failed call: for a slow or unreachable system (the pages
    wait at most ``timeout`` seconds, without retries) that the user should
    try again later; otherwise the error's own explanation."""
    if timeout is not None and isinstance(err, UpstreamUnavailableError):
        name = SYSTEM_NAMES.get(err.system, err.system)
        if err.code == "timeout":
            return f"{name} reageerde niet binnen {timeout:g} seconden. Probeer het later opnieuw."
        return f"{name} is nu niet bereikbaar. Probeer het later opnieuw."
    return err.explanation
