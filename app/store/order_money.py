"""The orders' side of the payments register: where each order's money stands
(``bookings.payment_state``), which invoices booked without payments are followed after a
mode switch, and the Factuurnummer found for a booking from before it was stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, update

from app.states import BookingMode, BookingState, OrderPayment
from app.store.db import bookings
from app.store.engine import transaction
from app.store.payment_queries import AWAITING

__all__ = ["AWAITING", "OrderMoney"]


class OrderMoney:
    engine: Engine

    def set_order_states(self, shop_id: int, states: Mapping[str, OrderPayment | None]) -> None:
        with transaction(self.engine) as conn:
            for order_number, state in states.items():
                self._set_order_state(conn, shop_id, order_number, state)

    def set_invoice_number(self, shop_id: int, order_number: str, invoice_number: str) -> None:
        """A booking from before the Factuurnummer was stored: the number it was found
        under in e-Boekhouden (its own mutation), kept from now on."""
        with transaction(self.engine) as conn:
            conn.execute(
                update(bookings)
                .where(
                    bookings.c.shop_id == shop_id,
                    bookings.c.order_number == order_number,
                    bookings.c.invoice_number.is_(None),
                )
                .values(invoice_number=invoice_number)
            )

    def track_from(self, shop_id: int, since: dt.date | None) -> int:
        """A switch to a payment mode with a date (``since``: invoices placed from then
        on, the ones whose money may still come): the invoices booked without payments
        are followed for their money from now on. None: they no longer are. Returns how
        many bookings changed."""
        invoice_mode = [
            bookings.c.shop_id == shop_id,
            bookings.c.state == str(BookingState.BOOKED),
            bookings.c.booking_mode == str(BookingMode.INVOICE),
        ]
        with transaction(self.engine) as conn:
            if since is None:
                statement = (
                    update(bookings)
                    .where(*invoice_mode, bookings.c.payment_state.in_([str(s) for s in AWAITING]))
                    .values(payment_state=None)
                )
            else:
                statement = (
                    update(bookings)
                    .where(
                        *invoice_mode,
                        bookings.c.payment_state.is_(None),
                        bookings.c.order_date >= dt.datetime.combine(since, dt.time()),
                    )
                    .values(payment_state=str(OrderPayment.OPEN))
                )
            return int(conn.execute(statement).rowcount)

    def set_order_state(self, shop_id: int, order_number: str, state: OrderPayment | None) -> None:
        with transaction(self.engine) as conn:
            self._set_order_state(conn, shop_id, order_number, state)

    @staticmethod
    def _set_order_state(
        conn: Any, shop_id: int, order_number: str, state: OrderPayment | None
    ) -> None:
        conn.execute(
            update(bookings)
            .where(
                bookings.c.shop_id == shop_id,
                bookings.c.order_number == order_number,
            )
            .values(payment_state=str(state) if state else None)
        )
