"""A koppeling's life, as the pages and ``flask shops`` change it: new credentials (which
heal what their refusal held), pause and resume, remove; and the check that two shops
on one e-Boekhouden administration do not book under the same invoice numbers."""

from __future__ import annotations

import contextlib
import logging

from redis.exceptions import RedisError

from app.booking.healing import heal
from app.jobs.queue import enqueue_reconcile
from app.services import Services
from app.states import RunMode
from app.store.shops import Credentials, Shop

log = logging.getLogger(__name__)


def save_credentials(
    services: Services, shop_id: int, *, name: str, credentials: Credentials
) -> int:
    """Store checked credentials. Saved credentials count as working: a refused shop is
    active again, and every order that failed for a system reason is sent again. Returns
    how many were."""
    services.store.shops.update_connection(shop_id, name=name, credentials=credentials)
    services.webhook_shops.forget()
    return heal(services, shop_id)


def pause(services: Services, shop_id: int) -> bool:
    """Booking stops; notifications are still accepted. False if the shop cannot be
    paused (not installed, removed, or paused already)."""
    done = services.store.shops.pause(shop_id)
    services.webhook_shops.forget()
    if done:
        log.info("shop paused", extra={"shop_id": shop_id})
    return done


def resume(services: Services, shop_id: int) -> bool:
    """Booking goes on; a pass is queued at once and lists everything that changed while
    the shop was paused (its watermark stayed where pausing left it)."""
    done = services.store.shops.resume(shop_id)
    services.webhook_shops.forget()
    if done:
        log.info("shop resumed", extra={"shop_id": shop_id})
        with contextlib.suppress(RedisError):  # else the clock's next pass does it
            enqueue_reconcile(services.queue, shop_id, str(RunMode.POLL))
    return done


def remove(services: Services, shop_id: int) -> bool:
    """The shop stops for good: credentials and webhook secrets erased, notifications
    refused (404); its settings and bookings register are kept, read-only."""
    done = services.store.shops.remove(shop_id)
    services.webhook_shops.forget()
    if done:
        log.info("shop removed", extra={"shop_id": shop_id})
    return done


def same_invoice_numbers(
    services: Services, shop: Shop, invoice_format: str | None = None
) -> list[Shop]:
    """The other shops that book into the same e-Boekhouden administration under the same
    invoice-number format (``invoice_format``: the one about to be saved): their orders
    with equal numbers would get equal Factuurnummers, and e-Boekhouden keeps only one."""
    wanted = (invoice_format or shop.mapping.invoice_format).strip()
    administration = shop.credentials.administration_key
    return [
        other
        for other in services.store.shops.all()
        if other.id != shop.id
        and other.credentials.administration_key == administration
        and other.mapping.invoice_format.strip() == wanted
    ]
