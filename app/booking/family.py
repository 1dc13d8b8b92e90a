"""A sale and its credit notes: whose money is whose (app/booking/settlement.py and cash).

Mijnwebwinkel keeps the captures and refunds of a sale and of all its credit orders in the
sale's payments listing (NOTES.md §6.5), and lists the credit orders on the sale
(``credit_order_numbers``). So the money of any one of them is settled for all of them at
once: the sale's captures on its invoice, its refunds allocated over its credit notes
(app/core/refunds.py).

Which invoices get payments (docs/booking-rules.md, "Mode switches"): those booked in a
payment mode; an invoice booked without payments (mode "invoice") only after the shop
switched with a date (``MappingSettings.payments_from``), and only for money from then on;
a cash booking (GeldOntvangen) never: its money is in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from app.clients import ShopApi
from app.core.mapping_settings import MappingSettings
from app.core.orders import Order
from app.core.payment_facts import REFUND, PaymentFacts, choose_facts
from app.core.payments import Invoice
from app.core.refunds import Allocation, CreditNote, allocate_refunds
from app.errors import OrderDataError, OrderNotFoundError
from app.services import Services
from app.states import BookingMode, BookingState, PaymentState
from app.store.booking_records import BookingRecord
from app.store.shops import Shop

# Posted, or perhaps posted: the allocation keeps these where they are.
POSTED = (PaymentState.BOOKED, PaymentState.POSTING, PaymentState.RETRYING, PaymentState.FAILED)


def tracked(record: BookingRecord | None, settings: MappingSettings) -> bool:
    """Are this booking's payments booked by the connector?"""
    if record is None or record.state != BookingState.BOOKED or record.payment_state is None:
        return False
    if record.booking_mode == BookingMode.CASH:
        return False
    if record.booking_mode == BookingMode.INVOICE:
        return settings.payments_from is not None
    return True


def invoice_of(record: BookingRecord, settings: MappingSettings, number: str) -> Invoice:
    """What a tracked booking's payments carry: its own Factuurnummer and relation."""
    before = settings.payments_from if record.booking_mode == BookingMode.INVOICE else None
    return Invoice(
        number,
        record.invoice_number or number,  # from before the column: resolved before posting
        record.relation_code or "",
        Decimal(record.total or 0),
        money_from=before,
    )


@dataclass
class Family:
    sale_number: str
    sale: Order | None  # None: Mijnwebwinkel no longer has it
    records: dict[str, BookingRecord | None]  # the sale's and each credit note's
    credits: list[CreditNote]
    facts: PaymentFacts = field(default_factory=lambda: PaymentFacts((), "listing"))

    @property
    def members(self) -> list[str]:
        return [self.sale_number, *(c.number for c in self.credits)]

    def allocation(self, fixed: dict[str, str]) -> Allocation:
        return allocate_refunds(self.sale_number, self.credits, self.facts.of_kind(REFUND), fixed)


def family_of(services: Services, shop: Shop, order: Order, credit: bool) -> Family | None:
    """The sale of ``order`` (itself, or the order a credit order credits) with its credit
    notes and its payment facts; None for a credit order that names no sale."""
    api = services.shop_api(shop)
    if credit:
        if not order.credited_order_number:
            return None
        number = order.credited_order_number
        sale = _order_or_none(services, shop, number)
    else:
        number, sale = order.number, order
    bookings = services.store.bookings
    records: dict[str, BookingRecord | None] = {number: bookings.get(shop.id, number)}
    credit_numbers = list(sale.credit_order_numbers if sale else ())
    if credit and order.number not in credit_numbers:
        credit_numbers.append(order.number)
    credits = []
    for credit_number in credit_numbers:
        if credit_number.upper().startswith("T-"):
            continue
        record = bookings.get(shop.id, credit_number)
        note = _credit_note(services, shop, credit_number, record, order)
        if note is not None:
            records[credit_number] = record
            credits.append(note)
    facts = choose_facts(api.order_payments(number), sale) if sale else _listing(api, number)
    return Family(number, sale, records, credits, facts)


def _listing(api: ShopApi, number: str) -> PaymentFacts:
    """The listing of a sale Mijnwebwinkel no longer has (no deprecated fields to fall
    back on)."""
    listing = api.order_payments(number)
    return listing if listing is not None else PaymentFacts((), "order")


def _order_or_none(services: Services, shop: Shop, number: str) -> Order | None:
    try:
        return services.shop_api(shop).get_order(number)
    except (OrderNotFoundError, OrderDataError):
        return None


def _credit_note(
    services: Services,
    shop: Shop,
    number: str,
    record: BookingRecord | None,
    current: Order,
) -> CreditNote | None:
    """A credit order as allocation sees it: what it credits and its date. One that is
    deliberately not booked (skipped: not a credit status, nothing to book) takes no
    refund; its total comes from the register, else from Mijnwebwinkel."""
    if record is not None and record.state == BookingState.SKIPPED:
        return None
    if record is not None and record.total is not None and record.order_date is not None:
        return CreditNote(number, abs(Decimal(record.total)), _day(record.order_date))
    order = current if current.number == number else _order_or_none(services, shop, number)
    if order is None or order.is_test:
        return None
    return CreditNote(number, abs(order.total), order.date)


def _day(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def cash_facts(services: Services, shop: Shop, order: Order, credit: bool) -> PaymentFacts:
    """Cash mode: the money that completes this order: a sale's own captures; for a credit
    note the refunds allocated to it (so two credit notes never take the same refund)."""
    if not credit:
        return choose_facts(services.shop_api(shop).order_payments(order.number), order)
    family = family_of(services, shop, order, credit=True)
    if family is None:
        return PaymentFacts((), "listing")
    mine = family.allocation({}).of(order.number, family.facts.of_kind(REFUND))
    return PaymentFacts(tuple(mine), family.facts.source)
