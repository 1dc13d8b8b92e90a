"""Failures that heal: refused credentials stop a shop's booking, and once they work
again every order that failed for a system reason is booked by itself.

- ``refused``: Mijnwebwinkel or e-Boekhouden refused the shop's credentials (a job or a
  pass met it): the shop becomes ``auth_failed`` with the system that refused, its
  owners get the banner and (opted in) one mail a day, and nothing is posted meanwhile.
  Orders met in the meantime are held: recorded as failed for a system reason (those of
  an e-Boekhouden refusal; while Mijnwebwinkel refuses, nothing can be read, and the first
  pass that can read again lists them from its watermark).
- ``retest``: the clock's passes re-test refused e-Boekhouden credentials (one session
  opened; a Mijnwebwinkel refusal is re-tested by the pass's own listing).
- ``recovered`` (the re-test worked, or a person saved the credentials on Gegevens):
  the shop is active again and ``heal`` re-enqueues, once, every booking that failed for
  a system reason, and every order whose money is still to be booked. Each pass of an
  active shop heals too (a job that held an order just as the shop recovered).
"""

from __future__ import annotations

import datetime as dt
import logging

from redis.exceptions import RedisError

from app.booking.alerts import credentials_refused
from app.errors import (
    BookkeepingAuthError,
    ConnectorError,
    ShopAuthError,
    UpstreamUnavailableError,
)
from app.jobs.queue import enqueue_booking
from app.services import Services
from app.states import BookingMode, FailureCause, ShopStatus
from app.store.shop_lifecycle import EBOEKHOUDEN, MIJNWEBWINKEL
from app.store.shops import Shop

log = logging.getLogger(__name__)
SYSTEM_NAMES = {MIJNWEBWINKEL: "Mijnwebwinkel", EBOEKHOUDEN: "e-Boekhouden.nl"}
HEAL = "heal"  # the enqueue source of the system's own retries


def failure_cause(err: ConnectorError) -> FailureCause:
    """The system's: refused credentials (either system) and everything transient (down,
    rate limited, timed out); those orders are booked again by themselves once the system
    is back. Anything else is the order's: its data, the mapping, or e-Boekhouden refusing
    this particular booking."""
    if isinstance(err, UpstreamUnavailableError | ShopAuthError | BookkeepingAuthError):
        return FailureCause.SYSTEM
    return FailureCause.ORDER


def system_of(err: ShopAuthError | BookkeepingAuthError) -> str:
    return MIJNWEBWINKEL if isinstance(err, ShopAuthError) else EBOEKHOUDEN


def refused(services: Services, shop: Shop, err: ShopAuthError | BookkeepingAuthError) -> None:
    """A system refused the shop's credentials: booking stops until they work again."""
    system = system_of(err)
    if services.store.shops.mark_auth_failed(shop.id, err.explanation, system):
        log.warning("credentials refused: booking stops", extra={"shop_id": shop.id})
    credentials_refused(services, shop, err)  # at most one mail a day (if opted in)


def held_reason(shop: Shop, explanation: str = "") -> str:
    """Why an order waits while the shop's credentials are refused, and that it need not
    be retried by hand."""
    system = SYSTEM_NAMES.get(shop.status_system or EBOEKHOUDEN, "e-Boekhouden.nl")
    what = explanation or shop.status_error or f"{system} weigert de inloggegevens."
    return (
        f"Niet geboekt: {what} Zodra de inloggegevens weer werken, wordt deze bestelling "
        "vanzelf geboekt; u hoeft haar niet opnieuw te proberen."
    )


def retest(services: Services, shop: Shop) -> bool | None:
    """Refused e-Boekhouden credentials, tried again (one session): True when they work,
    False when still refused, None when e-Boekhouden could not say (unreachable)."""
    bookkeeping = services.bookkeeping_factory(shop)  # a fresh client: a fresh session
    try:
        bookkeeping.verify()
        return True
    except BookkeepingAuthError:
        return False
    except ConnectorError as err:
        log.info("credentials re-test inconclusive: %s", type(err).__name__)
        return None if isinstance(err, UpstreamUnavailableError) else False
    finally:
        bookkeeping.close()


def retest_bookkeeping(services: Services, shop: Shop) -> Shop:
    """A pass of a shop whose e-Boekhouden credentials were refused: try them (one
    session). When they work, the shop is active again and healed; the pass goes on
    either way (orders met meanwhile are held by their jobs). Returns the shop as now."""
    if shop.status_system != EBOEKHOUDEN or not retest(services, shop):
        return shop
    recovered(services, shop.id)
    return services.load_shop(shop.id) or shop


def recovered(services: Services, shop_id: int) -> int:
    """The credentials work again: active again, and healed. Returns how many orders
    were sent again (0 when the shop was not refused: nothing to do)."""
    if not services.store.shops.reactivate(shop_id):
        return 0
    log.info("credentials work again: booking resumes", extra={"shop_id": shop_id})
    return heal(services, shop_id)


def heal(services: Services, shop_id: int, *, lookback_days: int | None = None) -> int:
    """Send every booking that failed for a system reason again (once), and every order
    whose money waits (payments held during the refusal). Returns how many were queued;
    a row whose job could not be queued stays ``retrying`` and the next pass queues it."""
    store = services.store
    numbers = store.bookings.retry_system_failures(shop_id)
    shop = services.load_shop(shop_id)
    if shop is not None and shop.mapping.booking_mode != BookingMode.INVOICE:
        days = services.settings.payment_lookback_days if lookback_days is None else lookback_days
        since = dt.date.today() - dt.timedelta(days=days)
        numbers += store.payments.outstanding(shop_id, since)
    queued = 0
    for number in dict.fromkeys(numbers):
        try:
            queued += enqueue_booking(services.queue, shop_id, number, source=HEAL)
        except RedisError:
            log.warning("heal: queue unavailable; the next pass queues the rest")
            break
    if numbers:
        log.info("healed", extra={"shop_id": shop_id, "orders": len(numbers)})
    return queued


def booking_stopped(shop: Shop) -> bool:
    """Refused credentials: nothing may be posted for this shop now."""
    return shop.status == ShopStatus.AUTH_FAILED
