"""PURE: the e-Boekhouden mutations that carry a booking's rows, per booking mode.

``invoice`` and ``invoice_and_payment``: FactuurVerstuurd on the debtors ledger; in
``invoice_and_payment`` each payment follows when its money arrives (app/core/payments.py),
never with the invoice. ``cash``: one GeldOntvangen, dated and placed on the payment's
ledger once the money is in (app/core/payments.py: cash_booking). Credit notes and orders
already paid carry no payment term (Betalingstermijn).
"""

from __future__ import annotations

from decimal import Decimal

from app.core.mapping_settings import MappingSettings
from app.core.mutations import Mutation, MutationRow, Soort
from app.core.orders import Order
from app.core.relations import invoice_address
from app.states import BookingMode

ZERO = Decimal("0")
MAX_DESCRIPTION = 200
PAID_STATUSES = frozenset({3, 6})  # Betaald, Betaald & afgehaald (NOTES.md §7)


def mutations(
    order: Order,
    settings: MappingSettings,
    rows: tuple[MutationRow, ...],
    relation_code: str,
    total: Decimal,
    credit: bool,
    number: str,
) -> tuple[Mutation, ...]:
    description = description_of(order, credit)
    if settings.booking_mode == BookingMode.CASH:
        return (
            Mutation(
                Soort.GELD_ONTVANGEN,
                order.date,
                settings.payment_ledger,
                number,
                description,
                rows,
                relation_code=relation_code,
            ),
        )
    # An order "op rekening" in invoice_and_payment is not paid yet: it keeps its term.
    paid = order.payment_status == "captured" or order.status in PAID_STATUSES
    return (
        Mutation(
            Soort.FACTUUR_VERSTUURD,
            order.date,
            settings.debtors_ledger,
            number,
            description,
            rows,
            relation_code=relation_code,
            payment_term_days=None if credit or paid else settings.payment_term_days,
        ),
    )


def description_of(order: Order, credit: bool) -> str:
    """Omschrijving: ours to write, so it is shortened to fit rather than refused."""
    if credit and order.credited_order_number:
        head = f"Creditnota {order.number} bij bestelling {order.credited_order_number}"
    elif credit:
        head = f"Creditnota {order.number}"
    else:
        head = f"Mijnwebwinkel bestelling {order.number}"
    address = invoice_address(order)
    name = address.company or address.name
    text = f"{head} - {name}" if name else head
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"
