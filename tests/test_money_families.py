"""Random sale families on the simulators (issue 23, point 6: hypothesis generates the
orders): a sale captured in one to three parts (bank, iDEAL, gift card), zero to three
credit orders, refunds that may match them, exceed them or come without any. For every
generated family, over both adapters, in mode "Factuur én betaling", two shops on one
administration: each capture booked once on its own invoice, each refund booked at most
once and never beyond its credit note, a refund not booked is held on the sale with a
reason (an open item), and "settled" only when nothing is held or open.

Slow (a pipeline per example): runs in ``make chaos`` (``MONEY_MATRIX=full``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.booking.pipeline import book_order
from app.core.payment_facts import REFUND, parse_payments
from app.states import BookingMode, OrderPayment
from tests.helpers import Backend, _truncate
from tests.money import (
    BANK,
    LEDGERS,
    PSP,
    VOUCHER,
    Money,
    article,
    at,
    credit_of,
    money_rest_server,
    open_money,
    sale,
)

__all__ = ["money_rest_server"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("MONEY_MATRIX") != "full",
        reason="random families run in make chaos (MONEY_MATRIX=full)",
    ),
]

TODAY = dt.date.today()
DAY = TODAY - dt.timedelta(days=30)
METHODS = {"in_arrears": BANK, "ideal": PSP, "webshop_giftcard": VOUCHER}

cents = st.integers(min_value=100, max_value=9000)


@st.composite
def families(draw: st.DrawFn) -> dict[str, Any]:
    lines = draw(st.lists(cents, min_size=1, max_size=3))
    total = sum(lines)
    parts = draw(st.integers(1, 3))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1)))
    captures = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True) if b > a]
    methods = draw(st.lists(st.sampled_from(sorted(METHODS)), min_size=len(captures)))
    credits = draw(st.lists(st.integers(100, max(100, total // 2)), max_size=3))
    refunds = [
        draw(st.sampled_from([amount, amount, amount // 2 or 1, amount + 500]))
        for amount in credits
    ] + draw(st.lists(st.integers(100, 2000), max_size=1))  # perhaps one with no credit order
    days = draw(st.lists(st.integers(1, 15), min_size=len(refunds), max_size=len(refunds)))
    return {
        "lines": lines,
        "captures": list(zip(captures, methods, strict=False)),
        "credits": credits,
        "refunds": list(zip(refunds, days, strict=True)),
    }


def play(money: Money, family: dict[str, Any]) -> list[Any]:
    shops = [
        money.configure(
            money.shop,
            booking_mode=BookingMode.INVOICE_AND_PAYMENT,
            payment_ledgers={**LEDGERS, "webshop_giftcard": VOUCHER},
        ),
        money.configure(
            money.second_shop(),
            booking_mode=BookingMode.INVOICE_AND_PAYMENT,
            invoice_format="W2-{number}",
            payment_ledgers={**LEDGERS, "webshop_giftcard": VOUCHER},
        ),
    ]
    lines = [article(f"{Decimal(c) / 100:.2f}") for c in family["lines"]]
    for shop in shops:
        sim = money.sim(shop)
        original = sim.add_order(sale(9101, lines, day=DAY))
        book_order(money.services, shop, "9101")
        for index, (amount, method) in enumerate(family["captures"]):
            sim.pay(9101, "capture", amount=amount, method=method, at=at(DAY + dt.timedelta(index)))
        for index, amount in enumerate(family["credits"]):
            number = 9102 + index
            sim.add_order(credit_of(number, original, f"{Decimal(amount) / 100:.2f}", DAY))
        for amount, day in family["refunds"]:
            sim.pay(9101, "refund", amount=amount, method="ideal", at=at(DAY + dt.timedelta(day)))
        for number in ["9101", *(str(9102 + i) for i in range(len(family["credits"])))]:
            book_order(money.services, shop, number)
        book_order(money.services, shop, "9101")  # once more: the whole family is settled
    return shops


def check(money: Money, shops: list[Any], family: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    books = money.books()
    invoices = {b.invoice_number: b for b in books if b.soort == "FactuurVerstuurd"}
    for payment in (b for b in books if b.soort == "FactuurbetalingOntvangen"):
        invoice = invoices.get(payment.invoice_number)
        if invoice is None or invoice.relation_code != payment.relation_code:
            problems.append(f"payment {payment.number} not on an invoice of its own")
    for shop, prefix in zip(shops, ("", "W2-"), strict=True):
        store = money.services.store
        listing = money.sim(shop).payments.by_order.get("9101", [])
        moves = parse_payments({"payments": listing}).movements
        captures = Counter((m.date, m.amount, METHODS[m.method]) for m in moves if m.kind != REFUND)
        got = Counter((p.date, p.total, p.ledger) for p in money.payments(f"{prefix}9101"))
        if got != captures:
            problems.append(f"{prefix}9101: payments {sorted(got)} != captures {sorted(captures)}")
        booked: Counter[tuple[dt.date, Decimal]] = Counter()
        for index, amount in enumerate(family["credits"]):
            number = str(9102 + index)
            paid = money.payments(f"{prefix}{number}")
            booked.update((p.date, -p.total) for p in paid)
            if -sum((p.total for p in paid), Decimal(0)) > Decimal(amount) / 100:
                problems.append(f"{prefix}{number}: refunds beyond its total")
        refunds = Counter((m.date, m.amount) for m in moves if m.kind == REFUND)
        if booked - refunds:
            problems.append(f"{prefix}: refunds booked that never happened: {booked - refunds}")
        held = [r for r in store.payments.for_order(shop.id, "9101") if r.kind == "refund"]
        missing = refunds - booked
        if sum(missing.values()) != len(held) or any(
            r.state != "held" or not r.reason for r in held
        ):
            problems.append(
                f"{prefix}: {sum(missing.values())} refunds not booked, {len(held)} held"
            )
        sale_state = store.bookings.get(shop.id, "9101").payment_state
        if held and sale_state != OrderPayment.HELD:
            problems.append(f"{prefix}9101: held refunds but state {sale_state}")
    return problems


@hypothesis_settings(
    max_examples=int(os.environ.get("MONEY_FAMILIES") or 12),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(family=families(), adapter=st.sampled_from(["soap", "rest"]))
def test_random_families_book_each_movement_once(
    family: dict[str, Any],
    adapter: str,
    request: pytest.FixtureRequest,
    backend: Backend,
    mww_server: Any,
    eb_server: Any,
) -> None:
    _truncate(backend.database_url)  # a fresh register for each example
    backend.redis.flushdb()
    for money in open_money(request, backend, mww_server, eb_server, adapter=adapter):
        shops = play(money, family)
        problems = check(money, shops, family)
        assert not problems, "\n".join(problems)
