"""map_order mutations: descriptions, booking modes and the wire fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.core.mapping import (
    map_order,
)
from app.core.mutations import Soort
from app.errors import MappingError
from app.states import BookingMode
from tests.factories import (
    DEFAULT,
    PSP,
    D,
    booked,
    debtor,
    fmt,
    line,
    order,
    settings,
)


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"status": 10}, "Creditnota 2001 - Truus Voorbeeldig"),
        (
            {"credited_order_number": 1000},
            "Creditnota 2001 bij bestelling 1000 - Truus Voorbeeldig",
        ),
        ({}, "Mijnwebwinkel bestelling 2001 - Truus Voorbeeldig"),
        (
            {"debtor": debtor(company="Voorbeeldig BV")},
            "Mijnwebwinkel bestelling 2001 - Voorbeeldig BV",
        ),
        ({"debtor": {"email": "x@example.com"}}, "Mijnwebwinkel bestelling 2001"),
    ],
)
def test_description(overrides: dict[str, Any], description: str) -> None:
    result = booked(map_order(order(number=2001, **overrides), DEFAULT))
    assert result.mutations[0].description == description


def test_long_description_is_shortened_not_refused() -> None:
    parsed = order(number="9" * 50, debtor=debtor(name="N" * 100, company="C" * 100))
    result = booked(map_order(parsed, DEFAULT))
    description = result.mutations[0].description
    assert description == f"Mijnwebwinkel bestelling {'9' * 50} - {'C' * 100}"
    long_credit = order(
        number="9" * 50, credited_order_number="8" * 50, debtor=debtor(company="C" * 100)
    )
    description = booked(map_order(long_credit, DEFAULT)).mutations[0].description
    assert len(description) == 200
    assert description.endswith("…")
    assert booked(map_order(long_credit, DEFAULT)).mutations[0].invoice_number == "9" * 50


# --- booking modes -------------------------------------------------------------------------

MODE_LINES = [line("article", "121.00", 21), line("shipping", "6.05", 21)]


@pytest.mark.parametrize("credit", [False, True], ids=["order", "credit"])
@pytest.mark.parametrize(
    ("mode", "soorts", "ledgers"),
    [
        (BookingMode.INVOICE, [Soort.FACTUUR_VERSTUURD], ["1300"]),
        # The payment follows when the money arrives (tests/test_payments.py).
        (BookingMode.INVOICE_AND_PAYMENT, [Soort.FACTUUR_VERSTUURD], ["1300"]),
        # Placed on the payment's date and ledger once paid (app/core/payments.py).
        (BookingMode.CASH, [Soort.GELD_ONTVANGEN], [PSP]),
    ],
)
def test_booking_modes(mode: str, soorts: list[Soort], ledgers: list[str], credit: bool) -> None:
    mapping = settings(booking_mode=mode, payment_ledger=PSP)
    # status 2 (Verzonden): not known to be paid, so an invoice gets a payment term
    parsed = order(*MODE_LINES, number=3001, status=10 if credit else 2)
    result = booked(map_order(parsed, mapping))
    total = D("-127.05") if credit else D("127.05")
    assert result.total == total
    assert [m.soort for m in result.mutations] == soorts
    assert [m.ledger for m in result.mutations] == ledgers
    for mutation in result.mutations:
        assert mutation.invoice_number == "3001"
        assert mutation.relation_code == result.relation.code
        assert mutation.date == dt.date(2025, 3, 14)
        assert mutation.in_ex_btw == "IN"
        assert mutation.total == total
    sales = result.mutations[0]
    sign = "-" if credit else ""
    assert [fmt(r) for r in sales.rows] == [
        f"HOOG_VERK_21 8010 {sign}121.00 {sign}100.00 {sign}21.00",
        f"HOOG_VERK_21 8000 {sign}6.05 {sign}5.00 {sign}1.05",
    ]
    if mode != BookingMode.CASH and not credit:  # an invoice not known to be paid yet
        assert sales.payment_term_days == 14
    else:  # cash (paid by definition) or a credit note: no payment term
        assert sales.payment_term_days is None


def test_invoice_mutation_fields() -> None:
    mapping = settings(debtors_ledger="1310", payment_term_days=30)
    parsed = order(line("article", "12.10", 21), number="2025-0042", status=2)
    result = booked(map_order(parsed, mapping))
    (invoice,) = result.mutations
    wire = invoice.to_wire()
    assert wire["Soort"] == "FactuurVerstuurd"
    assert wire["Rekening"] == "1310"
    assert wire["Factuurnummer"] == "2025-0042"
    assert wire["RelatieCode"] == result.relation.code
    assert wire["Datum"] == dt.date(2025, 3, 14)
    assert wire["InExBTW"] == "IN"
    assert wire["Betalingstermijn"] == "30"
    assert wire["MutatieRegels"] == [
        {
            "BedragInvoer": D("12.10"),
            "BedragExclBTW": D("10.00"),
            "BedragBTW": D("2.10"),
            "BedragInclBTW": D("12.10"),
            "BTWCode": "HOOG_VERK_21",
            "BTWPercentage": D("21"),
            "TegenrekeningCode": "8010",
            "KostenplaatsID": 0,
        }
    ]


def test_cash_mode_uses_the_configured_ledger() -> None:
    # Until the payment's own method ledger replaces it (app/core/payments.py).
    result = booked(
        map_order(order(), settings(booking_mode=BookingMode.CASH, payment_ledger="1020"))
    )
    assert result.mutations[-1].ledger == "1020"


def test_invoice_and_payment_books_no_payment_with_the_invoice() -> None:
    mapping = settings(booking_mode=BookingMode.INVOICE_AND_PAYMENT, payment_ledger="1020")
    result = booked(map_order(order(), mapping))
    assert [m.soort for m in result.mutations] == [Soort.FACTUUR_VERSTUURD]


# --- invoice number, payment term, descriptions ---------------------------------------------


@pytest.mark.parametrize(
    "mode", [BookingMode.INVOICE, BookingMode.INVOICE_AND_PAYMENT, BookingMode.CASH]
)
@pytest.mark.parametrize(
    ("invoice_format", "number"),
    [
        ("{number}", "7001"),
        ("W1-{number}", "W1-7001"),
        ("{number}-W2", "7001-W2"),
    ],
)
def test_every_mutation_carries_the_formatted_invoice_number(
    mode: str, invoice_format: str, number: str
) -> None:
    mapping = settings(booking_mode=mode, payment_ledger=PSP, invoice_format=invoice_format)
    result = booked(map_order(order(number=7001), mapping))
    assert result.invoice_number == number
    assert result.order_number == "7001"
    for mutation in result.mutations:
        assert mutation.invoice_number == number
        assert mutation.to_wire()["Factuurnummer"] == number
        assert "bestelling 7001" in mutation.description


@pytest.mark.parametrize(
    ("number", "invoice_format", "booked_ok"),
    [
        ("9" * 50, "{number}", True),
        ("9" * 47, "W1-{number}", True),
        ("9" * 48, "W1-{number}", False),
        ("9" * 51, "{number}", False),
    ],
)
def test_invoice_number_at_most_50(number: str, invoice_format: str, booked_ok: bool) -> None:
    mapping = settings(invoice_format=invoice_format)
    if booked_ok:
        assert len(booked(map_order(order(number=number), mapping)).invoice_number) <= 50
    else:
        with pytest.raises(MappingError, match="langer dan 50 tekens"):
            map_order(order(number=number), mapping)


# (order overrides, booking mode, payment term on the invoice)
TERM_CASES: list[tuple[str, dict[str, Any], str, int | None]] = [
    ("shipped-not-paid", {"status": 2}, BookingMode.INVOICE, 14),
    ("status-betaald", {"status": 3}, BookingMode.INVOICE, None),
    ("status-betaald-afgehaald", {"status": 6}, BookingMode.INVOICE, None),
    ("payment-captured", {"status": 2, "payment_status": "captured"}, BookingMode.INVOICE, None),
    ("payment-pending", {"status": 2, "payment_status": "pending"}, BookingMode.INVOICE, 14),
    ("credit-note", {"status": 10}, BookingMode.INVOICE, None),
    ("credited-order", {"status": 2, "credited_order_number": 7000}, BookingMode.INVOICE, None),
    # invoice_and_payment: shipped "op rekening" is not paid yet; its payment follows later
    ("invoice-and-payment-unpaid", {"status": 2}, BookingMode.INVOICE_AND_PAYMENT, 14),
    ("invoice-and-payment-paid", {"status": 3}, BookingMode.INVOICE_AND_PAYMENT, None),
    ("cash", {"status": 2}, BookingMode.CASH, None),
]


@pytest.mark.parametrize(
    ("overrides", "mode", "term"), [pytest.param(ov, m, t, id=i) for i, ov, m, t in TERM_CASES]
)
def test_payment_term_only_on_unpaid_invoices(
    overrides: dict[str, Any], mode: str, term: int | None
) -> None:
    mapping = settings(booking_mode=mode, payment_ledger=PSP)
    invoice = booked(map_order(order(**overrides), mapping)).mutations[0]
    assert invoice.payment_term_days == term
    assert invoice.to_wire()["Betalingstermijn"] == (None if term is None else str(term))


@pytest.mark.parametrize(
    "mode", [BookingMode.INVOICE, BookingMode.INVOICE_AND_PAYMENT, BookingMode.CASH]
)
@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({}, "Mijnwebwinkel bestelling 2001 - Truus Voorbeeldig"),
        ({"status": 10}, "Creditnota 2001 - Truus Voorbeeldig"),
        (
            {"credited_order_number": 1000},
            "Creditnota 2001 bij bestelling 1000 - Truus Voorbeeldig",
        ),
    ],
)
def test_mijnwebwinkel_keeps_its_capital(
    overrides: dict[str, Any], description: str, mode: str
) -> None:
    # (Payments describe themselves in app/core/payments.py: "Betaling bestelling …".)
    mapping = settings(booking_mode=mode, payment_ledger=PSP)
    result = booked(map_order(order(number=2001, **overrides), mapping))
    assert result.mutations[0].description == description
    for mutation in result.mutations:
        assert "mijnwebwinkel" not in mutation.description
