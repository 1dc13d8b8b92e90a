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
    NOT_BOOKED_STATE,
    POST,
    Held,
    Waiting,
    cash_booking,
    plan_payments,
)
from app.core.settings_checks import validate
from app.states import BookingMode
from sandbox.order_factory import make_order

SPEC = Path("/work/shared/reference/mijnwebwinkel/openapi.json")
LEDGERS = {
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
    ("gift card", [(CAPTURE, 1, 2, "webshop_giftcard")], [NOT_BOOKED_STATE], 0),
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
        order.number, total, "MWWX", facts(*money), settings(BookingMode.INVOICE_AND_PAYMENT)
    )
    assert [p.state for p in plan.payments] == states
    assert plan.outstanding == (total * Decimal(outstanding)).quantize(Decimal("0.01"))
    for planned in plan.payments:
        if planned.state != POST:
            assert planned.mutation is None and planned.reason
            continue
        mutation = planned.mutation
        assert mutation is not None
        assert mutation.soort == Soort.FACTUURBETALING_ONTVANGEN
        assert mutation.date == planned.date  # the capture's day, not the order's
        assert mutation.ledger == LEDGERS[planned.method]
        assert mutation.invoice_number == order.number
        assert mutation.relation_code == "MWWX"
        [row] = mutation.rows
        assert (row.ledger, row.amount_incl, row.btw_code) == ("1300", planned.amount, "GEEN")


def test_a_payment_three_weeks_later_is_dated_three_weeks_later() -> None:
    order = an_order()
    plan = plan_payments(
        order.number,
        order.total,
        "R",
        facts(move(CAPTURE, str(order.total), 23, "in_arrears")),
        settings(BookingMode.INVOICE_AND_PAYMENT),
    )
    [payment] = plan.payments
    assert payment.mutation is not None and payment.mutation.date == dt.date(2026, 11, 23)
    assert order.date == DAY


def test_an_unmapped_method_says_what_to_configure() -> None:
    plan = plan_payments(
        "7001",
        Decimal("10.00"),
        "R",
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
        "7002", Decimal("-12.50"), "R", facts(*money), settings(BookingMode.INVOICE_AND_PAYMENT)
    )
    assert [p.state for p in plan.payments] == states
    assert plan.outstanding == Decimal(outstanding)
    for planned, amount in zip(plan.payments, refunds, strict=False):
        if planned.state == POST:
            assert planned.mutation is not None
            assert planned.mutation.total == -Decimal(amount)
            assert planned.mutation.date == planned.date  # the refund date


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
    assert validate(mapping, known_ledgers={"1000", "1100", "1105", "1300", "8000", "8010"}) == {}
