"""A shop's status over its life, in SQL: installed, refused credentials and back, paused
and resumed, removed (secrets erased, the bookings register kept), and its start date.

Mixed into ``ShopStore`` (app/store/shops.py), which provides ``engine``, ``vault`` and
``_update``. Every status change is one conditional UPDATE, so two processes changing a
shop at once cannot undo each other's work (a paused shop is never made active by a
job that saw it active a moment ago). Every function owns its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, update

from app.crypto import Vault
from app.states import ShopStatus
from app.store.db import shops
from app.store.engine import transaction, utcnow

if TYPE_CHECKING:
    from app.store.shops import Shop

MIJNWEBWINKEL, EBOEKHOUDEN = "mijnwebwinkel", "eboekhouden"  # shops.status_system
ERASED = {"mww_token": "", "eb_username": "", "eb_code1": "", "eb_code2": ""}


class ShopLifecycle:
    engine: Engine
    vault: Vault

    def _update(self, conn: Connection, shop_id: int, **values: Any) -> None:
        raise NotImplementedError  # ShopStore's

    def _change(self, shop_id: int, from_: tuple[ShopStatus, ...], **values: Any) -> bool:
        """Set ``values`` if the shop's status is one of ``from_``; True if it was."""
        with transaction(self.engine) as conn:
            result = conn.execute(
                update(shops)
                .where(shops.c.id == shop_id, shops.c.status.in_([str(s) for s in from_]))
                .values(**values, updated_at=utcnow())
            )
        return bool(result.rowcount)

    def set_status(self, shop_id: int, status: ShopStatus) -> None:
        with transaction(self.engine) as conn:
            self._update(conn, shop_id, status=str(status), status_error=None, status_system=None)

    def mark_auth_failed(self, shop_id: int, explanation: str, system: str = MIJNWEBWINKEL) -> bool:
        """``system`` refused the shop's credentials: nothing is posted until they work
        again (a re-test on the clock, or a person saving them on Gegevens). Only an
        active shop changes (a paused or removed one stays so); True if it did now."""
        return self._change(
            shop_id,
            (ShopStatus.ACTIVE,),
            status=str(ShopStatus.AUTH_FAILED),
            status_error=explanation,
            status_system=system,
        )

    def reactivate(self, shop_id: int) -> bool:
        """The refused credentials work again: auth_failed → active. True if it did now."""
        return self._change(
            shop_id,
            (ShopStatus.AUTH_FAILED,),
            status=str(ShopStatus.ACTIVE),
            status_error=None,
            status_system=None,
        )

    def advance_watermark(self, conn: Connection, shop: Shop, end: dt.datetime) -> None:
        """After a good pass (in the caller's transaction): the next pass starts from
        ``end``. (A shop whose credentials work again is made active by the pass itself:
        app/booking/healing.py, which knows which system was re-tested.)"""
        if shop.watermark is not None and end <= shop.watermark:
            return
        self._update(conn, shop.id, watermark=end)

    def pause(self, shop_id: int) -> bool:
        """Booking stops; notifications are still accepted (202). The watermark stays, so
        the first pass after ``resume`` lists everything that changed meanwhile."""
        return self._change(
            shop_id,
            (ShopStatus.ACTIVE, ShopStatus.AUTH_FAILED),
            status=str(ShopStatus.PAUSED),
            status_error=None,
            status_system=None,
        )

    def resume(self, shop_id: int) -> bool:
        return self._change(shop_id, (ShopStatus.PAUSED,), status=str(ShopStatus.ACTIVE))

    def remove(self, shop_id: int) -> bool:
        """The shop stops for good: its credentials and webhook secrets are erased (the
        connector can no longer reach the shop or the books, and no notification is
        accepted); its name, settings and bookings register stay, read-only."""
        from app.store.shops import new_webhook_secret

        kept = tuple(s for s in ShopStatus if s != ShopStatus.REMOVED)
        return self._change(
            shop_id,
            kept,
            status=str(ShopStatus.REMOVED),
            status_error=None,
            status_system=None,
            credentials=self.vault.encrypt_json(ERASED),
            webhook_secret=self.vault.encrypt(new_webhook_secret()),  # known to nobody
            retired_webhook_secrets=None,
        )

    def set_book_from(self, shop_id: int, book_from: dt.datetime) -> None:
        with transaction(self.engine) as conn:
            self._update(conn, shop_id, book_from=book_from)
