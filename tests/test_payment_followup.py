"""Issue 23's cases of missing and late money, end to end on the simulators over both
e-Boekhouden adapters and both backends:

5. A refund at the payment provider without a credit order is held with a reason, listed
   among the open items (the overview, the digest) and never "settled"; once a credit
   order is made for it, it is booked there.
6. A switch to "Factuur én betaling" books no payments for invoices booked before it,
   unless the owner chose a date: then the money from that date on.
7. A payment after the lookback: the invoice is an open item at the lookback's end; the
   shop's own lookback follows it longer; a change of the order books it whatever its age.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app.booking.alerts import send_digest
from app.booking.pipeline import book_order
from app.booking.reconcile import HOURLY, POLL, run_pass
from app.states import BookingMode, OrderPayment
from app.store.alerts import AlertPref
from tests.helpers import Backend, booking_row
from tests.money import (
    PSP,
    Money,
    article,
    at,
    credit_of,
    money_rest_server,
    open_money,
    sale,
)
from tests.smtp_server import smtp_server

__all__ = ["money_rest_server"]  # the session fixture, used through open_money

TODAY = dt.date.today()
DAY = TODAY - dt.timedelta(days=10)
IAP = BookingMode.INVOICE_AND_PAYMENT


@pytest.fixture(params=["soap", "rest"])
def money(
    request: pytest.FixtureRequest, backend: Backend, mww_server: Any, eb_server: Any
) -> Iterator[Money]:
    yield from open_money(request, backend, mww_server, eb_server)


def open_items(money: Money, **kw: Any) -> list[Any]:
    return money.services.store.payments.open_items(
        money.shop.id, kw.pop("as_of", TODAY), lookback_days=kw.pop("lookback", 60), term_days=14
    )


# --- 5. a refund without a credit order ----------------------------------------------------


def test_a_refund_without_a_credit_order_is_held_shown_and_never_settled(
    money: Money, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = money.configure(money.shop, booking_mode=IAP)
    original = money.sim(shop).add_order(sale(8501, [article("25.00")], day=DAY))
    assert book_order(money.services, shop, "8501").payment_state == OrderPayment.OPEN
    money.sim(shop).pay(8501, "capture", method="ideal", at=at(DAY + dt.timedelta(days=2)))
    money.sim(shop).pay(8501, "refund", amount=500, method="ideal", at=at(DAY + dt.timedelta(4)))
    assert run_pass(money.services, shop, mode=HOURLY).enqueued == 1
    money.run_jobs(monkeypatch)

    assert booking_row(money.world, 8501).payment_state == OrderPayment.HELD
    [capture] = money.payments("8501")  # the capture, booked; the refund not
    assert capture.total == Decimal("25.00")
    [item] = open_items(money)
    assert (item.kind, item.order_number, item.amount) == ("held", "8501", Decimal("-5.00"))
    assert "geen creditbestelling" in item.reason and "Maak in Mijnwebwinkel" in item.reason
    page = money.services.store.payments.for_order(shop.id, "8501")
    assert sorted(p.state for p in page) == ["booked", "held"]

    # The owner makes the credit order: the refund is booked there, once, and all settle.
    credit = credit_of(8502, original, "5.00", DAY + dt.timedelta(days=5))
    money.sim(shop).add_order(credit)
    outcome = book_order(money.services, shop, "8502")
    assert (outcome.payment_state, outcome.payments_booked) == (OrderPayment.SETTLED, 1)
    [refund] = money.payments("8502")
    assert (refund.total, refund.date, refund.ledger) == (
        Decimal("-5.00"),
        DAY + dt.timedelta(days=4),
        PSP,
    )
    assert booking_row(money.world, 8501).payment_state == OrderPayment.SETTLED
    assert open_items(money) == []


def test_the_digest_reports_open_money_once(money: Money) -> None:
    if money.adapter == "rest":
        pytest.skip("the digest reads the register only: once is enough")
    shop = money.configure(money.shop, booking_mode=IAP)
    money.sim(shop).add_order(sale(8510, [article("25.00")], day=DAY, method="ideal", paid=True))
    money.sim(shop).pay(8510, "refund", amount=500, at=at(DAY + dt.timedelta(days=1)))
    old = sale(8511, [article("40.00")], day=TODAY - dt.timedelta(days=70))
    money.sim(shop).add_order(old)
    for number in ("8510", "8511"):
        book_order(money.services, shop, number)
    with smtp_server() as (inbox, url):
        services = money.services
        services.settings = dataclasses.replace(
            services.settings, smtp_url=url, alert_from="koppeling@example.nl"
        )
        user = services.store.users.create("boekhouder@example.nl", "x")
        services.store.users.add_owner(shop.id, user)
        services.store.alerts.save_prefs(user, [AlertPref(shop.id, digest=True, credentials=False)])
        assert send_digest(services, shop) == 1
        [message] = inbox.to("boekhouder@example.nl")
        body = message.get_payload(decode=True).decode()
        assert "2 betalingen vragen aandacht" in message["Subject"]
        assert "Bestelling 8510" in body and "geen creditbestelling" in body
        assert "Bestelling 8511" in body and "60 dagen later nog" in body
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        assert send_digest(services, shop, now=later) == 0  # each item once


# --- 6. mode switches --------------------------------------------------------------------------


def invoiced_without_payments(money: Money) -> Any:
    """8601 paid at checkout, 8602 "op rekening" and paid later: booked in mode invoice."""
    shop = money.configure(money.shop, booking_mode=BookingMode.INVOICE)
    money.sim(shop).add_order(sale(8601, [article("20.00")], day=DAY, method="ideal", paid=True))
    money.sim(shop).add_order(sale(8602, [article("30.00")], day=DAY))
    for number in ("8601", "8602"):
        assert book_order(money.services, shop, number).status == "booked"
    money.sim(shop).pay(8602, "capture", at=at(DAY + dt.timedelta(days=2)))
    return shop


def test_a_switch_to_invoice_and_payment_books_nothing_for_earlier_invoices(
    money: Money, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = money.configure(invoiced_without_payments(money), booking_mode=IAP)
    for number in ("8601", "8602"):  # a notification for each, and the passes
        assert book_order(money.services, shop, number).status == "already_booked"
    run_pass(money.services, shop, mode=HOURLY)
    money.run_jobs(monkeypatch)
    assert money.payments() == []  # the bookkeeper matched them from the bank statement
    assert open_items(money) == []
    # New invoices in the new mode do get their payments.
    money.sim(shop).add_order(sale(8603, [article("15.00")], day=TODAY, method="ideal", paid=True))
    assert book_order(money.services, shop, "8603").payment_state == OrderPayment.SETTLED
    assert [p.invoice_number for p in money.payments()] == ["8603"]


def test_a_switch_with_a_date_books_the_money_from_that_date(
    money: Money, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = invoiced_without_payments(money)  # 8602 was paid on DAY + 2
    money.sim(shop).add_order(sale(8604, [article("45.00")], day=DAY))
    book_order(money.services, shop, "8604")
    start = DAY + dt.timedelta(days=4)
    shop = money.configure(shop, booking_mode=IAP, payments_from=start)
    # What the settings page does on saving the switch: follow the earlier invoices.
    assert money.services.store.payments.track_from(shop.id, TODAY - dt.timedelta(60)) == 3
    money.sim(shop).pay(8604, "capture", at=at(DAY + dt.timedelta(days=6)))
    run_pass(money.services, shop, mode=HOURLY)
    money.run_jobs(monkeypatch)
    [payment] = money.payments()  # 8604's, paid after the date; 8601/8602 were before
    assert (payment.invoice_number, payment.date) == ("8604", DAY + dt.timedelta(days=6))
    for number in ("8601", "8602", "8604"):
        assert booking_row(money.world, number).payment_state == OrderPayment.SETTLED
    manual = money.services.store.payments.for_order(shop.id, "8602")
    assert [p.state for p in manual] == ["manual"] and "verwerkt de boekhouder" in (
        manual[0].reason or ""
    )
    # Taking the date away again stops it: nothing followed, nothing open.
    money.configure(shop, booking_mode=IAP, payments_from=None)
    money.services.store.payments.track_from(shop.id, None)
    assert money.services.store.payments.outstanding(shop.id, None) == []


# --- 7. late money --------------------------------------------------------------------------


def test_an_invoice_unpaid_after_the_lookback_is_listed_and_late_money_still_booked(
    money: Money, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = money.configure(money.shop, booking_mode=IAP)
    placed = TODAY - dt.timedelta(days=70)  # a business customer who pays late
    money.sim(shop).add_order(
        sale(8701, [article("121.00", "0")], day=placed, kind="reverse_charge")
    )
    assert book_order(money.services, shop, "8701").payment_state == OrderPayment.OPEN
    [item] = open_items(money)
    assert (item.kind, item.order_number, item.amount) == ("lapsed", "8701", Decimal("121.00"))
    assert "60 dagen later nog niet" in item.reason
    assert item.since.date() == placed + dt.timedelta(days=61)
    assert run_pass(money.services, shop, mode=HOURLY).enqueued == 0  # past the lookback

    # The shop follows its invoices for 120 days: the hourly pass looks again.
    shop = money.configure(shop, booking_mode=IAP, payment_lookback_days=120)
    assert open_items(money, lookback=120)[0].kind == "overdue"  # past its 14-day term
    money.sim(shop).pay(8701, "capture", at=at(TODAY - dt.timedelta(days=1)))
    assert run_pass(money.services, shop, mode=HOURLY).enqueued == 1
    money.run_jobs(monkeypatch)
    [payment] = money.payments()
    assert (payment.total, payment.date) == (Decimal("121.00"), TODAY - dt.timedelta(days=1))
    assert open_items(money, lookback=120) == []


def test_a_late_payment_is_booked_when_the_order_changes_whatever_its_age(
    money: Money, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = money.configure(money.shop, booking_mode=IAP)
    money.sim(shop).add_order(sale(8702, [article("80.00")], day=TODAY - dt.timedelta(days=90)))
    book_order(money.services, shop, "8702")
    money.sim(shop).pay(8702, "capture", at=at(TODAY))
    money.sim(shop).set_status(8702, 3)  # the shop marks the late bank transfer "Betaald"
    assert run_pass(money.services, shop, mode=POLL).enqueued == 1
    money.run_jobs(monkeypatch)
    assert [p.total for p in money.payments()] == [Decimal("80.00")]
    assert booking_row(money.world, 8702).payment_state == OrderPayment.SETTLED
