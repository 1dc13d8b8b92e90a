"""The feature-interaction run of issue 23 (tests/test_money_matrix.py), not fixtures: two
shops on one e-Boekhouden administration, the same order numbers, one setting combination,
the whole pipeline (passes, RQ jobs, both simulators), and the invariants checked on the
simulators' books.

The orders of each shop (the same numbers in both):

- 9001 paid at checkout (iDEAL);
- 9002 "op rekening", captured in two parts (3 and 8 days later, to the bank);
- 9003 paid at checkout, then credited by two credit orders of 10.00 each (9004 and 9005),
  refunded on day 2 and day 6;
- 9006 paid in full with a gift card (order total 0.00);
- 9007 paid partly by gift card (10.00 from the voucher ledger) and the rest by iDEAL
  (cash mode: all by gift card: one cash booking cannot split over two ledgers);
- 9008 unpaid;
- 9009 B2B (reverse charge, its own relation even with a verzameldebiteur), paid later by
  bank transfer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.booking.reconcile import HOURLY, run_pass
from app.core.payment_facts import CAPTURE, REFUND, MoneyMovement, parse_payments
from app.states import BookingMode
from app.store.db import bookings, payments
from app.store.shops import Shop
from tests.money import (
    LEDGERS,
    VOUCHER,
    Booked,
    Money,
    article,
    at,
    credit_of,
    line,
    sale,
)

TODAY = dt.date.today()
DAY = TODAY - dt.timedelta(days=20)
COLLECTIVE = "PARTICULIER"
METHOD_LEDGERS = {**LEDGERS, "webshop_giftcard": VOUCHER}
IAP, CASH, INVOICE = (
    BookingMode.INVOICE_AND_PAYMENT,
    BookingMode.CASH,
    BookingMode.INVOICE,
)


@dataclass(frozen=True)
class Combo:
    adapter: str  # soap | rest
    mode: BookingMode
    invoice_format: str  # the first shop's; the second shop books W2-{number}
    collective: bool  # verzameldebiteur on

    @property
    def id(self) -> str:
        fmt = "bare" if self.invoice_format == "{number}" else "W1"
        return f"{self.adapter}-{self.mode}-{fmt}-{'collective' if self.collective else 'own'}"


MATRIX = [
    Combo(adapter, mode, fmt, collective)
    for adapter in ("soap", "rest")
    for mode in (INVOICE, IAP, CASH)
    for fmt in ("{number}", "W1-{number}")
    for collective in (True, False)
]
# make test's share: every value of every setting, the risky pairs (a bare first shop beside
# a prefixed second one, with payments, on both adapters; cash on both adapters).
REDUCED = [
    Combo("soap", IAP, "{number}", True),
    Combo("rest", IAP, "W1-{number}", False),
    Combo("rest", CASH, "{number}", False),
    Combo("soap", CASH, "W1-{number}", True),
    Combo("rest", INVOICE, "{number}", True),
]


def day(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def configure(money: Money, shop: Shop, combo: Combo, invoice_format: str) -> Shop:
    return money.configure(
        shop,
        booking_mode=combo.mode,
        invoice_format=invoice_format,
        collective_debtor=COLLECTIVE if combo.collective else "",
        payment_ledgers=dict(METHOD_LEDGERS),
        line_type_ledgers={"gift_card": VOUCHER},
    )


def place_orders(money: Money, shop: Shop, combo: Combo) -> dict[str, dict[str, Any]]:
    sim = money.sim(shop)
    orders = {
        "9001": sale(9001, [article("24.95")], day=day(0), method="ideal", paid=True, status=3),
        "9002": sale(9002, [article("50.00"), article("12.50", "9")], day=day(0)),
        "9003": sale(
            9003,
            [article("10.00"), article("10.00", description="Kopje"), article("5.00", "9")],
            day=day(0),
            method="ideal",
            paid=True,
            status=3,
        ),
        "9006": sale(9006, [article("24.99"), line("gift_card", "-24.99", "0")], day=day(0)),
        "9007": sale(9007, [article("30.00")], day=day(0), method="ideal", status=3),
        "9008": sale(9008, [article("17.00")], day=day(0)),
        "9009": sale(9009, [article("200.00", "0")], day=day(0), kind="reverse_charge"),
    }
    orders["9006"].pop("payment")  # a 0.00 order has no payment at all
    orders["9006"]["payment_status"] = None
    for number, order in orders.items():
        orders[number] = sim.add_order(order)
        sim.set_status(number, order["status"])  # changed now: the passes see it
    return orders


def pay_and_credit(money: Money, shop: Shop, combo: Combo, orders: dict[str, Any]) -> None:
    sim = money.sim(shop)
    sim.pay(9002, "capture", amount=2500, method="in_arrears", at=at(day(3)))
    sim.pay(9002, "capture", method="in_arrears", at=at(day(8)))  # the rest
    if combo.mode == CASH:
        sim.pay(9007, "capture", method="webshop_giftcard", at=at(day(0), 15))
    else:
        sim.pay(9007, "capture", amount=1000, method="webshop_giftcard", at=at(day(0), 15))
        sim.pay(9007, "capture", method="ideal", at=at(day(0), 16))
    sim.pay(9009, "capture", method="bank_transfer", at=at(day(9)))
    for number, offset in ((9004, 1), (9005, 5)):
        sim.add_order(credit_of(number, orders["9003"], "10.00", day(offset)))
        sim.set_status(number, 10)
    for offset in (2, 6):
        sim.pay(9003, "refund", amount=1000, method="ideal", at=at(day(offset)))


def run(money: Money, shops: list[Shop], monkeypatch: pytest.MonkeyPatch) -> None:
    for shop in shops:
        result = run_pass(money.services, money.services.load_shop(shop.id), mode=HOURLY)
        assert result.outcome == "ok", result.error
    money.run_jobs(monkeypatch)


def play(money: Money, combo: Combo, monkeypatch: pytest.MonkeyPatch) -> list[Shop]:
    """The whole story, in three rounds of passes and jobs."""
    first = configure(money, money.shop, combo, combo.invoice_format)
    second = configure(money, money.second_shop(), combo, "W2-{number}")
    shops = [first, second]
    placed = {shop.id: place_orders(money, shop, combo) for shop in shops}
    run(money, shops, monkeypatch)
    for shop in shops:
        pay_and_credit(money, shop, combo, placed[shop.id])
    run(money, shops, monkeypatch)
    run(money, shops, monkeypatch)  # what the first round left open
    return shops


# --- the invariants ----------------------------------------------------------------------------


def movements(money: Money, shop: Shop, number: str) -> list[MoneyMovement]:
    listing = money.sim(shop).payments.by_order.get(number, [])
    return list(parse_payments({"payments": listing}).movements)


def register(money: Money, table: Any, shop: Shop) -> list[Any]:
    with money.services.engine.connect() as conn:
        return list(conn.execute(select(table).where(table.c.shop_id == shop.id)))


def check(money: Money, combo: Combo, shops: list[Shop]) -> list[str]:
    """Every violated invariant, in words (empty: all hold)."""
    problems: list[str] = []
    books = money.books()
    owner: dict[str, tuple[int, str]] = {}  # Factuurnummer → (shop, order)
    for shop in shops:
        for row in register(money, bookings, shop):
            if row.state == "booked":
                if row.invoice_number in owner:
                    problems.append(f"{row.invoice_number} is booked by two shops/orders")
                owner[row.invoice_number] = (shop.id, row.order_number)
    invoices = {b.invoice_number: b for b in books if b.soort != "FactuurbetalingOntvangen"}
    counted = Counter(b.invoice_number for b in books if b.soort != "FactuurbetalingOntvangen")
    for number, count in counted.items():
        if count != 1 or number not in owner:
            problems.append(
                f"invoice {number}: {count} in the books, registered: {number in owner}"
            )
    paid = [b for b in books if b.soort == "FactuurbetalingOntvangen"]
    if combo.mode != IAP and paid:
        problems.append(f"mode {combo.mode} booked {len(paid)} payments")
    for payment in paid:  # its own invoice's Factuurnummer and relation, of its own shop
        invoice = invoices.get(payment.invoice_number)
        if invoice is None or payment.relation_code != invoice.relation_code:
            problems.append(f"payment {payment.number} is not on an invoice of its own")
    recorded = Counter(r.mutation_number for shop in shops for r in register(money, payments, shop))
    for payment in paid:
        if recorded[payment.number] != 1:
            problems.append(
                f"payment {payment.number} is in the registers {recorded[payment.number]}x"
            )
    for shop in shops:
        problems += _shop(money, combo, shop, books, owner)
    return problems


def _shop(
    money: Money,
    combo: Combo,
    shop: Shop,
    books: list[Booked],
    owner: dict[str, tuple[int, str]],
) -> list[str]:
    problems: list[str] = []
    mine = {n: o for n, (s, o) in owner.items() if s == shop.id}
    by_order = {o: n for n, o in mine.items()}
    of = {n: [b for b in books if b.invoice_number == n] for n in mine}

    def money_of(order: str, soort: str) -> Counter[tuple[dt.date, Decimal, str]]:
        return Counter(
            (b.date, b.total, b.ledger)
            for b in of.get(by_order.get(order, ""), [])
            if b.soort == soort
        )

    expected_booked = {"9001", "9002", "9003", "9004", "9005", "9006", "9007", "9009"}
    if combo.mode != CASH:
        expected_booked.add("9008")  # an unpaid invoice is booked; in cash mode it waits
    if set(by_order) != expected_booked:
        problems.append(
            f"shop {shop.id}: booked {sorted(by_order)}, expected {sorted(expected_booked)}"
        )
    collective = combo.collective
    for order, number in by_order.items():
        [booked] = [b for b in of[number] if b.soort != "FactuurbetalingOntvangen"] or [None]
        if booked is None:
            continue
        b2b = order == "9009"
        if collective and combo.mode != CASH and (booked.relation_code == COLLECTIVE) == b2b:
            problems.append(
                f"{number}: relation {booked.relation_code} (verzameldebiteur {collective})"
            )
    for sale_number in ("9001", "9002", "9003", "9006", "9007", "9009"):
        moves = movements(money, shop, sale_number)
        captures = Counter(
            (m.date, m.amount, METHOD_LEDGERS[m.method]) for m in moves if m.kind == CAPTURE
        )
        refunds = Counter(
            (m.date, -m.amount, METHOD_LEDGERS[m.method]) for m in moves if m.kind == REFUND
        )
        if combo.mode == IAP:
            got = money_of(sale_number, "FactuurbetalingOntvangen")
            if got != captures:
                problems.append(
                    f"{sale_number}: payments {sorted(got)} != captures {sorted(captures)}"
                )
            if sale_number == "9003":
                got = money_of("9004", "FactuurbetalingOntvangen") + money_of(
                    "9005", "FactuurbetalingOntvangen"
                )
                if got != refunds:
                    problems.append(f"9003: refunds booked {sorted(got)} != {sorted(refunds)}")
                for credit in ("9004", "9005"):
                    total = sum(
                        k[1] * v for k, v in money_of(credit, "FactuurbetalingOntvangen").items()
                    )
                    if total != Decimal("-10.00"):
                        problems.append(f"{credit}: refunds booked {total}, expected -10.00")
        elif combo.mode == CASH:
            cash = money_of(sale_number, "GeldOntvangen")
            if captures and len(cash) != 1:
                problems.append(f"{sale_number}: {sum(cash.values())} cash bookings")
            elif captures:
                [(when, total, ledger)] = list(cash)
                last = max(k[0] for k in captures)
                ledgers = {k[2] for k in captures}
                if (when, total, {ledger}) != (
                    last,
                    sum(k[1] * v for k, v in captures.items()),
                    ledgers,
                ):
                    problems.append(
                        f"{sale_number}: cash booking {when} {total} {ledger} "
                        f"vs captures {sorted(captures)}"
                    )
            if sale_number == "9003":
                got = money_of("9004", "GeldOntvangen") + money_of("9005", "GeldOntvangen")
                if Counter((d, t) for d, t, _ in got.elements()) != Counter(
                    (d, t) for d, t, _ in refunds.elements()
                ):
                    problems.append(
                        f"9003: credit cash bookings {sorted(got)} != refunds {sorted(refunds)}"
                    )
    return problems
