"""Payments (pure): facts from the listing or the deprecated fields, and what each mode
books for paid, unpaid, partly paid, refunded, cash-at-the-counter and gift-card orders.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.core.mapping import Booking, map_order
from app.core.mapping_settings import (
    NOT_BOOKED,
    MappingSettings,
)
from app.core.mutations import Mutation, Soort
from app.core.order_schema import parse_order
from app.core.orders import Order
from app.core.payment_facts import (
    CAPTURE,
    REFUND,
    MoneyMovement,
    PaymentFacts,
    choose_facts,
    facts_from_order,
    parse_payments,
)
from app.core.payments import (
    HELD,
    MANUAL,
    NOT_BOOKED_STATE,
    POST,
    Held,
    Invoice,
    Waiting,
    cash_booking,
    plan_payments,
)
from app.core.settings_checks import validate
from app.states import BookingMode
from sandbox.order_factory import make_order

SPEC = Path("/work/shared/reference/mijnwebwinkel/openapi.json")
LEDGERS = {
    "podium_giftcard": "1610",  # "Uitstaande cadeaubonnen", a balance-sheet ledger
    "ideal": "1105",
    "cash": "1000",
    "pickup": "1000",
    "in_arrears": "1100",
    "bank_transfer": "1100",
    "webshop_giftcard": NOT_BOOKED,
}
DAY = dt.date(2026, 11, 2)


def settings(mode: str, **kw: Any) -> MappingSettings:
    return MappingSettings(booking_mode=mode, payment_ledgers=dict(LEDGERS), **kw)


def an_order(number: int = 7001, *, status: int = 2, **fields: Any) -> Order:
    data = make_order(number, status=status, date=DAY)
    data.update(fields)
    return parse_order(data)


def booking_of(order: Order, mode: str) -> Booking:
    result = map_order(order, settings(mode))
    assert isinstance(result, Booking)
    return result


def move(kind: str, amount: str, day: int, method: str = "ideal", key: str = "") -> MoneyMovement:
    return MoneyMovement(
        key or f"p:{kind}:{day}:{amount}", kind, dt.date(2026, 11, day), Decimal(amount), method
    )


def facts(*moves: MoneyMovement) -> PaymentFacts:
    return PaymentFacts(tuple(moves), "listing")


def invoice(
    number: str, total: Decimal, relation: str = "R", invoice_number: str = "", **kw: Any
) -> Invoice:
    """A booked invoice: its payments carry its own Factuurnummer (W1-… by default, so a
    payment carrying the bare order number fails the tests) and relation."""
    return Invoice(number, invoice_number or f"W1-{number}", relation, total, **kw)


# --- parsing ----------------------------------------------------------------------------


def test_the_spec_example_payment_parses_to_one_capture_in_euros_on_the_local_date() -> None:
    example = json.loads(SPEC.read_text())["components"]["schemas"]["Payment"]["example"]
    parsed = parse_payments({"payments": [example]})
    assert parsed.source == "listing"
    assert parsed.methods == ("ideal",)  # "ideal:ideal_INGBNL2A": the issuer is dropped
    [capture] = parsed.movements  # authorize is not money
    assert (capture.kind, capture.amount, capture.date) == (
        CAPTURE,
        Decimal("53.39"),
        dt.date(2022, 1, 18),
    )
    assert capture.key == f"{example['id']}:198"


def test_late_evening_utc_is_the_next_day_in_the_shop() -> None:
    payment = {
        "id": "p1",
        "method": "ideal",
        "currency": "EUR",
        "price": 1000,
        "mutations": [
            {"id": 1, "type": "capture", "price": "1000", "createdAt": "2026-11-02T23:30:00.000Z"}
        ],
    }
    [capture] = parse_payments({"payments": [payment]}).movements
    assert capture.date == dt.date(2026, 11, 3)


@pytest.mark.parametrize(
    "mutation_type, counted",
    [("authorize", False), ("void", False), ("failed", False), ("capture", True), ("refund", True)],
)
def test_only_captures_and_refunds_move_money(mutation_type: str, counted: bool) -> None:
    payment = {
        "id": "p1",
        "method": "creditcard",
        "currency": "EUR",
        "price": 500,
        "createdAt": "2026-11-02T10:00:00Z",
        "mutations": [{"id": 9, "type": mutation_type, "price": 500}],
    }
    parsed = parse_payments([payment])
    assert len(parsed.movements) == (1 if counted else 0)
    assert parsed.methods == ("creditcard",)


def test_test_payments_and_foreign_currencies_are_left_out() -> None:
    base = {
        "method": "ideal",
        "price": 500,
        "createdAt": "2026-11-02T10:00:00Z",
        "mutations": [{"id": 1, "type": "capture", "price": 500}],
    }
    parsed = parse_payments(
        [{**base, "id": "a", "isTest": True}, {**base, "id": "b", "currency": "USD"}]
    )
    assert parsed.movements == ()


def test_a_listing_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_payments({"payments": "nope"})


@pytest.mark.parametrize(
    "status, status_id, expected",
    [
        ("captured", None, [CAPTURE]),
        ("", 1, [CAPTURE]),
        ("refunded", 7, [CAPTURE, REFUND]),
        ("pending", 5, []),
        ("new", None, []),
        ("failed", 3, []),
    ],
)
def test_the_deprecated_fields_as_fallback(
    status: str, status_id: int | None, expected: list[str]
) -> None:
    payment = {
        "gateway_name": "basic",
        "method_name": "in_arrears",
        "status": {"id": status_id or 0, "text": "x"},
    }
    order = an_order(
        payment_status=status,
        payment=payment,
        status_changed_date="2026-11-20",
        status_changed_time="10:00:00",
    )
    got = facts_from_order(order)
    assert [m.kind for m in got.movements] == expected
    assert all(m.amount == order.total and m.date == dt.date(2026, 11, 20) for m in got.movements)
    assert got.methods == ("in_arrears",)


def test_the_listing_wins_when_it_shows_money_else_the_order_fields() -> None:
    order = an_order(
        payment_status="captured",
        payment={"method_name": "ideal", "status": {"id": 1, "text": "ok"}},
    )
    listing = facts(move(CAPTURE, "10.00", 5))
    assert choose_facts(listing, order) is listing
    assert choose_facts(facts(), order).source == "order"
    assert choose_facts(None, order).source == "order"
    unpaid = an_order(payment_status="pending", payment={"method_name": "in_arrears"})
    assert choose_facts(facts(), unpaid).source == "listing"


# --- invoice and payment ----------------------------------------------------------------

CASES = [
    # name, movements (kind, fraction of total or amount, day, method), expected states,
    # outstanding as a fraction of the total
    ("paid", [(CAPTURE, 1, 9, "ideal")], [POST], 0),
    ("unpaid", [], [], 1),
    ("partly paid", [(CAPTURE, Decimal("0.5"), 9, "in_arrears")], [POST], Decimal("0.5")),
    (
        "paid in two parts",
        [(CAPTURE, Decimal("0.5"), 9, "in_arrears"), (CAPTURE, Decimal("0.5"), 23, "in_arrears")],
        [POST, POST],
        0,
    ),
    ("cash at the counter", [(CAPTURE, 1, 2, "cash")], [POST], 0),
    ("gift card on niet boeken", [(CAPTURE, 1, 2, "webshop_giftcard")], [NOT_BOOKED_STATE], 0),
    ("gift card from its voucher ledger", [(CAPTURE, 1, 2, "podium_giftcard")], [POST], 0),
    (
        "gift card and iDEAL",
        [(CAPTURE, Decimal("0.25"), 2, "webshop_giftcard"), (CAPTURE, Decimal("0.75"), 2, "ideal")],
        [NOT_BOOKED_STATE, POST],
        0,
    ),
    ("unmapped method", [(CAPTURE, 1, 4, "paypal")], [HELD], 0),
    ("paid twice", [(CAPTURE, 1, 4, "ideal"), (CAPTURE, 1, 5, "ideal")], [POST, HELD], 0),
    (
        "refund on a sale is not its payment",
        [(CAPTURE, 1, 4, "ideal"), (REFUND, 1, 6, "ideal")],
        [POST],
        0,
    ),
]


@pytest.mark.parametrize("name, moves, states, outstanding", CASES, ids=[c[0] for c in CASES])
def test_invoice_and_payment(
    name: str, moves: list[tuple[str, Any, int, str]], states: list[str], outstanding: Any
) -> None:
    order = an_order()
    booking = booking_of(order, BookingMode.INVOICE_AND_PAYMENT)
    assert [m.soort for m in booking.mutations] == [Soort.FACTUUR_VERSTUURD]  # invoice only
    total = booking.total
    money = [
        move(
            kind, str((total * Decimal(share)).quantize(Decimal("0.01"))), day, method, key=f"k{i}"
        )
        for i, (kind, share, day, method) in enumerate(moves)
    ]
    plan = plan_payments(
        invoice(order.number, total, "MWWX"),
        facts(*money),
        settings(BookingMode.INVOICE_AND_PAYMENT),
    )
    assert [p.state for p in plan.payments] == states
    assert plan.outstanding == (total * Decimal(outstanding)).quantize(Decimal("0.01"))
    # Settled only when every part of the invoice has a booked payment.
    assert plan.settled == (plan.outstanding == 0 and set(states) <= {POST})
    for planned in plan.payments:
        if planned.state != POST:
            assert planned.mutation is None and planned.reason
            continue
        mutation = planned.mutation
        assert mutation is not None
        assert mutation.soort == Soort.FACTUURBETALING_ONTVANGEN
        assert mutation.date == planned.date  # the capture's day, not the order's
        assert mutation.ledger == LEDGERS[planned.method]
        assert mutation.invoice_number == f"W1-{order.number}"  # the invoice's own number
        assert mutation.relation_code == "MWWX"
        assert planned.order_number == order.number
        [row] = mutation.rows
        assert (row.ledger, row.amount_incl, row.btw_code) == ("1300", planned.amount, "GEEN")


def test_a_payment_three_weeks_later_is_dated_three_weeks_later() -> None:
    order = an_order()
    plan = plan_payments(
        invoice(order.number, order.total),
        facts(move(CAPTURE, str(order.total), 23, "in_arrears")),
        settings(BookingMode.INVOICE_AND_PAYMENT),
    )
    [payment] = plan.payments
    assert payment.mutation is not None and payment.mutation.date == dt.date(2026, 11, 23)
    assert order.date == DAY


def test_an_unmapped_method_says_what_to_configure() -> None:
    plan = plan_payments(
        invoice("7001", Decimal("10.00")),
        facts(move(CAPTURE, "10.00", 3, "paypal")),
        settings(BookingMode.INVOICE_AND_PAYMENT),
    )
    [held] = plan.payments
    assert "PayPal" in held.reason and "Betaalmethoden" in held.reason
    assert not plan.settled


@pytest.mark.parametrize(
    "refunds, states, outstanding",
    [
        ([], [], "12.50"),
        (["12.50"], [POST], "0.00"),
        (["5.00"], [POST], "7.50"),
        (["5.00", "7.50"], [POST, POST], "0.00"),
        (["12.50", "3.00"], [POST, HELD], "0.00"),
    ],
    ids=["not refunded", "refunded", "partly refunded", "refunded in two", "refunded too much"],
)
def test_a_credit_note_books_its_refunds_as_payments_out(
    refunds: list[str], states: list[str], outstanding: str
) -> None:
    money = [move(REFUND, amount, 10 + i, key=f"r{i}") for i, amount in enumerate(refunds)]
    money.append(move(CAPTURE, "40.00", 2, key="c"))  # the sale's capture: not the credit's
    plan = plan_payments(
        invoice("7002", Decimal("-12.50")), facts(*money), settings(BookingMode.INVOICE_AND_PAYMENT)
    )
    assert [p.state for p in plan.payments] == states
    assert plan.outstanding == Decimal(outstanding)
    for planned, amount in zip(plan.payments, refunds, strict=False):
        if planned.state == POST:
            assert planned.mutation is not None
            assert planned.mutation.total == -Decimal(amount)
            assert planned.mutation.date == planned.date  # the refund date
            assert planned.mutation.invoice_number == "W1-7002"  # the credit note's own


# --- cash ---------------------------------------------------------------------------------


def cash_mutation(order: Order) -> tuple[Mutation, Decimal]:
    booking = booking_of(order, BookingMode.CASH)
    return booking.mutations[0], booking.total


@pytest.mark.parametrize(
    "name, moves, expect",
    [
        ("paid", [("ideal", 1, 9)], ("post", 9, "1105")),
        ("unpaid", [], ("wait", None, None)),
        ("partly paid", [("ideal", Decimal("0.5"), 9)], ("wait", None, None)),
        (
            "paid in two parts",
            [("in_arrears", Decimal("0.5"), 9), ("in_arrears", Decimal("0.5"), 20)],
            ("post", 20, "1100"),
        ),
        ("cash at the counter", [("cash", 1, 2)], ("post", 2, "1000")),
        ("gift card", [("webshop_giftcard", 1, 2)], ("held", None, None)),
        (
            "two ledgers",
            [("cash", Decimal("0.5"), 2), ("ideal", Decimal("0.5"), 2)],
            ("held", None, None),
        ),
        ("unmapped", [("paypal", 1, 2)], ("held", None, None)),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_cash_mode(
    name: str, moves: list[tuple[str, Any, int]], expect: tuple[str, int | None, str | None]
) -> None:
    mutation, total = cash_mutation(an_order())
    money = [
        move(
            CAPTURE,
            str((total * Decimal(share)).quantize(Decimal("0.01"))),
            day,
            method,
            key=f"k{i}",
        )
        for i, (method, share, day) in enumerate(moves)
    ]
    result = cash_booking(mutation, total, facts(*money), settings(BookingMode.CASH))
    kind, day, ledger = expect
    if kind == "post":
        assert isinstance(result, Mutation)
        assert result.soort == Soort.GELD_ONTVANGEN
        assert (result.date, result.ledger) == (dt.date(2026, 11, day or 0), ledger)
        assert result.rows == mutation.rows  # the revenue rows, unchanged
    elif kind == "wait":
        assert isinstance(result, Waiting) and "wacht op betaling" in result.reason
    else:
        assert isinstance(result, Held)
        assert "7001" in result.reason


def test_cash_credit_note_waits_for_its_refund_and_is_dated_on_it() -> None:
    mutation = replace(cash_mutation(an_order())[0], date=DAY)
    total = -mutation.total
    assert isinstance(cash_booking(mutation, total, facts(), settings(BookingMode.CASH)), Waiting)
    refund = move(REFUND, str(-total), 14, "ideal")
    result = cash_booking(mutation, total, facts(refund), settings(BookingMode.CASH))
    assert isinstance(result, Mutation) and result.date == dt.date(2026, 11, 14)


def test_invoice_mode_is_unchanged() -> None:
    booking = booking_of(an_order(), BookingMode.INVOICE)
    assert [m.soort for m in booking.mutations] == [Soort.FACTUUR_VERSTUURD]


def test_payment_ledgers_are_validated_and_round_trip() -> None:
    mapping = settings(BookingMode.INVOICE_AND_PAYMENT)
    assert MappingSettings.from_json(mapping.to_json()) == mapping
    bad = replace(mapping, payment_ledgers={"ideal": "12345678901"})
    assert "payment_ledgers.ideal" in validate(bad)
    assert "payment_ledgers.ideal" in validate(
        replace(mapping, payment_ledgers={"ideal": "9999"}), known_ledgers={"1000"}
    )
    known = {"1000", "1100", "1105", "1300", "1610", "8000", "8010"}
    assert validate(mapping, known_ledgers=known) == {}


# --- the cases (issue 23) --------------------------------------------------------


def test_money_before_the_switch_date_is_left_to_the_bookkeeper() -> None:
    """An invoice booked without payments, followed since a switch on the 10th: money of
    the 5th the bookkeeper matched already; money of the 12th is booked."""
    total = Decimal("30.00")
    plan = plan_payments(
        invoice("7003", total, money_from=dt.date(2026, 11, 10)),
        facts(move(CAPTURE, "10.00", 5), move(CAPTURE, "20.00", 12, key="later")),
        settings(BookingMode.INVOICE_AND_PAYMENT),
    )
    assert [p.state for p in plan.payments] == [MANUAL, POST]
    assert "10-11-2026" in plan.payments[0].reason and plan.payments[0].mutation is None
    assert plan.outstanding == 0 and plan.settled


def test_niet_boeken_leaves_the_part_open_and_says_where() -> None:
    plan = plan_payments(
        invoice("8101", Decimal("25.00")),
        facts(
            move(CAPTURE, "10.00", 3, "webshop_giftcard", key="a"),
            move(CAPTURE, "15.00", 3, key="b"),
        ),
        settings(BookingMode.INVOICE_AND_PAYMENT),
    )
    assert [p.state for p in plan.payments] == [NOT_BOOKED_STATE, POST]
    assert not plan.settled
    reason = plan.payments[0].reason
    assert "W1-8101" in reason and "1300" in reason and "€ 10,00" in reason


def gift_card_order(number: int = 7050) -> Order:
    """24.99 at 21% paid in full with a gift card line: total 0.00, VAT 4.34."""
    data = make_order(number, status=3, date=DAY)
    article = {
        "id": "a1",
        "type": "article",
        "quantity": 1,
        "description": "Theepot",
        "price": {"amount": "20.652893", "amount_including_tax": "24.99", "rate": "21.00"},
    }
    gift = {
        "id": "g1",
        "type": "gift_card",
        "quantity": 1,
        "description": "Cadeaubon",
        "price": {"amount": "-24.990000", "amount_including_tax": "-24.99", "rate": "0.00"},
    }
    data["orderlines"] = [article, gift]
    data["price"] = {
        "tax": [{"amount": "4.34", "rate": "21.00"}, {"amount": "0.00", "rate": "0.00"}],
        "total": "0.00",
    }
    return parse_order(data)


@pytest.mark.parametrize("mode", list(BookingMode))
def test_an_order_paid_with_a_gift_card_books_revenue_vat_and_the_voucher(mode: str) -> None:
    """The issue's crash: cash mode raised IndexError on a 0.00 order. Every mode books
    the revenue and its 4.34 VAT against the voucher ledger, with no money to wait for."""
    mapping = settings(mode, line_type_ledgers={"gift_card": "1610"})
    booking = map_order(gift_card_order(), mapping)
    assert isinstance(booking, Booking) and booking.total == 0
    [mutation] = booking.mutations
    assert sum(r.amount_vat for r in mutation.rows) == Decimal("4.34")
    assert {r.ledger for r in mutation.rows} == {"8010", "1610"}
    if mode == BookingMode.CASH:
        result = cash_booking(mutation, booking.total, facts(), mapping)
        assert isinstance(result, Mutation)
        assert (result.soort, result.ledger, result.date) == (Soort.GELD_ONTVANGEN, "1610", DAY)
        assert result.rows == mutation.rows
    else:
        plan = plan_payments(invoice("7050", booking.total), facts(), mapping)
        assert plan.settled and plan.payments == ()


def test_a_zero_order_without_voucher_in_cash_mode_is_held_with_a_reason() -> None:
    mutation, _ = cash_mutation(an_order())
    result = cash_booking(mutation, Decimal("0"), facts(), settings(BookingMode.CASH))
    assert isinstance(result, Held)
    assert "€ 0,00" in result.reason and "met de hand" in result.reason
