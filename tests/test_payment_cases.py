"""Issue 23's cases, end to end on the simulators, over both e-Boekhouden adapters (SOAP and
REST) and both backends: the money goes to the right invoice, once.

1. Payments carry their invoice's own Factuurnummer and relation (two shops on one
   administration, the same order number), also when an answer was lost; a booking from
   before the number was stored gets it checked first.
2. Two credit orders on one sale: each refund booked once, on one credit note.
3. An order paid in full with a gift card (0.00) is booked in every mode.
4. A gift-card payment is a payment from the voucher ledger; on "niet boeken" the part
   stays open and the order is not "settled".
(5-7, late and missing money: tests/test_payment_followup.py.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from app.booking.pipeline import book_order
from app.core.mapping_settings import NOT_BOOKED
from app.errors import UpstreamUnavailableError
from app.states import BookingMode, OrderPayment
from app.store.db import bookings
from app.store.engine import transaction
from tests.helpers import Backend, booking_row
from tests.money import (
    BANK,
    LEDGERS,
    PSP,
    VOUCHER,
    Money,
    article,
    at,
    cents,
    credit_of,
    line,
    money_rest_server,
    open_money,
    sale,
)

__all__ = ["money_rest_server"]  # the session fixture, used through open_money

TODAY = dt.date.today()
DAY = TODAY - dt.timedelta(days=10)
IAP = BookingMode.INVOICE_AND_PAYMENT


@pytest.fixture(params=["soap", "rest"])
def money(
    request: pytest.FixtureRequest, backend: Backend, mww_server: Any, eb_server: Any
) -> Iterator[Money]:
    yield from open_money(request, backend, mww_server, eb_server)


def state(money: Money, number: str, shop_id: int | None = None) -> str | None:
    row = money.services.store.bookings.get(shop_id or money.shop.id, number)
    assert row is not None
    return row.payment_state


# --- 1. payments carry their invoice ---------------------------------------------------------


def two_shops(money: Money) -> tuple[Any, Any, dict[str, Any]]:
    """Shop one books the bare order number, shop two W1-{number} (as the README advises
    two shops on one administration); both have order 8101, for the same customer."""
    first = money.configure(money.shop, booking_mode=IAP)
    second = money.configure(money.second_shop(), booking_mode=IAP, invoice_format="W1-{number}")
    order = sale(8101, [article("24.99")], day=DAY)
    for shop in (first, second):
        money.sim(shop).add_order(order)
        assert book_order(money.services, shop, "8101").payment_state == OrderPayment.OPEN
    return first, second, order


def test_each_shops_payment_lands_on_its_own_invoice(money: Money) -> None:
    first, second, _ = two_shops(money)
    paid_on = DAY + dt.timedelta(days=3)
    for shop in (first, second):
        money.sim(shop).pay(8101, "capture", at=at(paid_on))
        outcome = book_order(money.services, shop, "8101")
        assert (outcome.payment_state, outcome.reason) == (OrderPayment.SETTLED, "")
    assert sorted(b.invoice_number for b in money.invoices()) == ["8101", "W1-8101"]
    for number in ("8101", "W1-8101"):
        [invoice] = money.invoices(number)
        [payment] = money.payments(number)  # over SOAP the bug put both on 8101
        assert payment.relation_code == invoice.relation_code
        assert (payment.total, payment.date, payment.ledger) == (invoice.total, paid_on, BANK)
        assert payment.rows == (("1300", "GEEN", invoice.total),)


def test_a_lost_answer_adopts_the_shops_own_payment_not_the_other_shops(money: Money) -> None:
    first, second, _ = two_shops(money)
    paid_on = DAY + dt.timedelta(days=3)
    money.sim(first).pay(8101, "capture", at=at(paid_on))
    assert book_order(money.services, first, "8101").payment_state == OrderPayment.SETTLED
    # The same amount on the same day in the second shop, and its answer is lost.
    money.sim(second).pay(8101, "capture", at=at(paid_on))
    money.faults.add("commit_then_drop", operation=money.add_operation)
    with pytest.raises(UpstreamUnavailableError):
        book_order(money.services, second, "8101")
    assert book_order(money.services, second, "8101").payment_state == OrderPayment.SETTLED
    [own] = money.payments("W1-8101")
    [other] = money.payments("8101")
    [record] = money.services.store.payments.for_order(second.id, "8101")
    assert record.mutation_number == own.number != other.number
    [first_record] = money.services.store.payments.for_order(first.id, "8101")
    assert first_record.mutation_number == other.number


def forget_invoice_number(money: Money, number: str, **values: Any) -> None:
    """As a booking from before migration 0005 looks: no Factuurnummer stored."""
    with transaction(money.services.engine) as conn:
        conn.execute(
            update(bookings)
            .where(bookings.c.shop_id == money.shop.id, bookings.c.order_number == number)
            .values(invoice_number=None, **values)
        )


def test_a_booking_from_before_the_stored_number_gets_its_invoice_checked(money: Money) -> None:
    money.configure(money.shop, booking_mode=IAP)
    for number in (8111, 8112):
        money.sim(money.shop).add_order(sale(number, [article("24.99")], day=DAY))
        book_order(money.services, money.shop, str(number))
    forget_invoice_number(money, "8111")
    forget_invoice_number(money, "8112", mutation_number=999_999)  # not the one under 8112
    shop = money.configure(money.shop, booking_mode=IAP, invoice_format="W1-{number}")
    for number in (8111, 8112):
        money.sim(shop).pay(number, "capture", at=at(DAY + dt.timedelta(days=1)))
        book_order(money.services, shop, str(number))
    [payment] = money.payments()  # only 8111's: its own invoice is under 8111
    assert payment.invoice_number == "8111"
    assert booking_row(money.world, 8111).invoice_number == "8111"  # kept from now on
    assert state(money, "8112") == OrderPayment.HELD
    [held] = money.services.store.payments.for_order(shop.id, "8112")
    assert held.state == "failed" and "niet haar eigen factuur" in (held.reason or "")
    lookups = money.lookups()  # the next pass does not look it up again
    assert book_order(money.services, shop, "8112").payment_state == OrderPayment.HELD
    assert money.lookups() == lookups


# --- 2. refunds over credit notes ------------------------------------------------------------


def test_two_credit_orders_each_book_their_own_refund_once(money: Money) -> None:
    shop = money.configure(money.shop, booking_mode=IAP)
    lines = [article("10.00"), article("10.00", description="Kopje"), article("5.00", "9")]
    original = money.sim(shop).add_order(
        sale(8201, lines, day=DAY, method="ideal", paid=True, status=3)
    )
    assert book_order(money.services, shop, "8201").payment_state == OrderPayment.SETTLED
    for number, day in ((8202, 1), (8203, 5)):
        money.sim(shop).add_order(credit_of(number, original, "10.00", DAY + dt.timedelta(day)))
        assert book_order(money.services, shop, str(number)).payment_state == OrderPayment.OPEN
    for day in (2, 6):
        money.sim(shop).pay(8201, "refund", amount=1000, at=at(DAY + dt.timedelta(days=day)))
    # One job settles the sale's whole family: both refunds, each on its own credit note.
    outcome = book_order(money.services, shop, "8202")
    assert (outcome.payment_state, outcome.reason, outcome.payments_booked) == ("settled", "", 2)
    assert state(money, "8203") == OrderPayment.SETTLED
    assert book_order(money.services, shop, "8203").status == "already_booked"
    [first] = money.payments("8202")
    [second] = money.payments("8203")
    assert (first.date, first.total) == (DAY + dt.timedelta(days=2), Decimal("-10.00"))
    assert (second.date, second.total) == (DAY + dt.timedelta(days=6), Decimal("-10.00"))
    assert first.ledger == second.ledger == PSP
    for payment in (first, second):
        [credit_note] = money.invoices(payment.invoice_number)
        assert payment.relation_code == credit_note.relation_code
    assert state(money, "8201") == OrderPayment.SETTLED
    assert (
        money.services.store.payments.open_items(shop.id, TODAY, lookback_days=60, term_days=14)
        == []
    )


# --- 3. zero totals in every mode --------------------------------------------------------------


@pytest.mark.parametrize("mode", list(BookingMode))
def test_an_order_paid_in_full_with_a_gift_card_is_booked_in_every_mode(
    money: Money, mode: BookingMode
) -> None:
    shop = money.configure(money.shop, booking_mode=mode, line_type_ledgers={"gift_card": VOUCHER})
    order = sale(8301, [article("24.99"), line("gift_card", "-24.99", "0")], day=DAY, status=3)
    order.pop("payment")  # "Orders with a total price of 0.00 … never have transactions"
    order["payment_status"] = None
    money.sim(shop).add_order(order)
    outcome = book_order(money.services, shop, "8301")
    assert outcome.status == "booked", outcome.reason
    [booked] = money.books()
    assert (booked.total, booked.vat, booked.date) == (Decimal("0.00"), Decimal("4.34"), DAY)
    assert sorted(booked.rows) == [
        (VOUCHER, "GEEN", Decimal("-24.99")),
        ("8010", "HOOG_VERK_21", Decimal("24.99")),
    ]
    if mode == BookingMode.CASH:
        assert (booked.soort, booked.ledger) == ("GeldOntvangen", VOUCHER)
    else:
        assert booked.soort == "FactuurVerstuurd"
    if mode == IAP:
        assert outcome.payment_state == OrderPayment.SETTLED  # no money to wait for


def test_a_zero_order_that_cannot_be_booked_in_cash_mode_fails_with_a_reason(
    money: Money,
) -> None:
    shop = money.configure(money.shop, booking_mode=BookingMode.CASH)
    lines = [article("24.99"), line("discount", "-24.99", "21", "Gratis")]
    shop = money.configure(
        shop,
        booking_mode=BookingMode.CASH,
        rules=tuple(  # the discount on its own ledger: the rows do not cancel out
            r
            if r.treatment != "rate:21"
            else type(r)(r.treatment, r.btw_code, {**r.ledgers, "korting": "8900"})
            for r in shop.mapping.rules
        ),
    )
    order = sale(8302, lines, day=DAY, status=3)
    order.pop("payment")
    money.sim(shop).add_order(order)
    outcome = book_order(money.services, shop, "8302")
    assert outcome.status == "failed" and "€ 0,00" in outcome.reason
    assert money.books() == []
    assert booking_row(money.world, 8302).state == "failed"


# --- 4. gift cards and store credit as payment -----------------------------------------------


def test_a_gift_card_payment_is_a_payment_from_the_voucher_ledger(money: Money) -> None:
    shop = money.configure(
        money.shop,
        booking_mode=IAP,
        payment_ledgers={**LEDGERS, "webshop_giftcard": VOUCHER},
    )
    money.sim(shop).add_order(sale(8401, [article("30.00")], day=DAY))
    book_order(money.services, shop, "8401")
    paid_on = DAY + dt.timedelta(days=1)
    money.sim(shop).pay(8401, "capture", amount=1000, method="webshop_giftcard", at=at(paid_on))
    money.sim(shop).pay(8401, "capture", amount=2000, method="ideal", at=at(paid_on))
    assert book_order(money.services, shop, "8401").payment_state == OrderPayment.SETTLED
    paid = sorted((p.ledger, p.total) for p in money.payments("8401"))
    assert paid == [(PSP, Decimal("20.00")), (VOUCHER, Decimal("10.00"))]
    [invoice] = money.invoices("8401")
    assert invoice.total == sum((p.total for p in money.payments("8401")), Decimal(0))


def test_a_gift_card_payment_on_niet_boeken_stays_open_and_is_listed(money: Money) -> None:
    shop = money.configure(
        money.shop,
        booking_mode=IAP,
        payment_ledgers={**LEDGERS, "webshop_giftcard": NOT_BOOKED},
    )
    money.sim(shop).add_order(sale(8402, [article("30.00")], day=DAY))
    book_order(money.services, shop, "8402")
    paid_on = DAY + dt.timedelta(days=1)
    money.sim(shop).pay(8402, "capture", amount=1000, method="webshop_giftcard", at=at(paid_on))
    money.sim(shop).pay(8402, "capture", amount=cents("20.00"), method="ideal", at=at(paid_on))
    outcome = book_order(money.services, shop, "8402")
    assert outcome.payment_state == OrderPayment.NOT_BOOKED  # not "settled"
    assert [p.total for p in money.payments("8402")] == [Decimal("20.00")]
    [item] = money.services.store.payments.open_items(
        shop.id, TODAY, lookback_days=60, term_days=14
    )
    assert (item.kind, item.order_number, item.amount) == ("not_booked", "8402", Decimal("10.00"))
    assert "blijft open" in item.reason and "1300" in item.reason
    # Choosing the voucher ledger afterwards books the part (the passes keep looking).
    shop = money.configure(
        shop, booking_mode=IAP, payment_ledgers={**LEDGERS, "webshop_giftcard": VOUCHER}
    )
    assert book_order(money.services, shop, "8402").payment_state == OrderPayment.SETTLED
    assert sorted(p.ledger for p in money.payments("8402")) == [PSP, VOUCHER]
