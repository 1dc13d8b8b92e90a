"""Fault injection on payments: every invoice and every capture booked exactly once.

The whole system (``bench.stack``: PostgreSQL, Redis, gunicorn, two RQ workers, the clock,
both simulators) with one shop in mode "invoice_and_payment". ``PAYMENT_CHAOS_ORDERS``
orders (default ``CHAOS_ORDERS // 4``, at least 24): half paid at checkout (invoice and
payment in one job), half shipped "op rekening" and paid days later, some in two parts.

Faults: slow AddMutatie calls with a worker SIGKILLed while it posts (between an invoice
and its payment, or inside a payment); then, while the late captures arrive,
commit-then-drop answers on AddMutatie (lost answers on payments) and e-Boekhouden 503s.
Afterwards the reconcile passes settle it. Checked: per order one FactuurVerstuurd; its
FactuurbetalingOntvangen mutations are exactly its captures (date and amount, on the
method's ledger); the payments register names the same mutation numbers.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select

from bench.orders import make_orders, shop_now
from bench.stack import ShopInfo, Stack
from tests.chaos.helpers import CHAOS_ORDERS, CHAOS_SETTLE_SECONDS, wait_quiet

pytestmark = pytest.mark.slow

ORDERS = int(os.environ.get("PAYMENT_CHAOS_ORDERS") or max(24, CHAOS_ORDERS // 4))
LEDGERS = {
    "ideal": "1010",
    "bancontact": "1010",
    "creditcard": "1010",
    "paypal": "1010",
    "klarna_paylater": "1010",
    "bank_transfer": "1100",
    "in_arrears": "1100",
}
Capture = tuple[dt.date, Decimal]


def configure(stack: Stack, shop: ShopInfo) -> None:
    from app.core.mapping_settings import MappingSettings
    from app.states import BookingMode

    mapping = MappingSettings(booking_mode=BookingMode.INVOICE_AND_PAYMENT, payment_ledgers=LEDGERS)
    stack.services().store.shops.save_mapping(shop.id, mapping)


def rows(stack: Stack, table_name: str, shop_id: int) -> list[Any]:
    from app.store import db

    table = getattr(db, table_name)
    with stack.services().engine.connect() as conn:
        return list(conn.execute(select(table).where(table.c.shop_id == shop_id)))


def pass_now(stack: Stack, shop: ShopInfo) -> Any:
    from app.booking.reconcile import MANUAL, run_pass

    services = stack.services()
    return run_pass(services, services.load_shop(shop.id), mode=MANUAL)


def pay(stack: Stack, shop: ShopInfo, number: str, cents: int, at: dt.datetime) -> None:
    answer = requests.post(
        f"{stack.mww_url}/_sandbox/shops/{shop.mww_token}/orders/{number}/payments",
        json={"action": "capture", "amount": cents, "at": at.isoformat()},
        timeout=30,
    )
    answer.raise_for_status()


def in_flight(stack: Stack, shop: ShopInfo) -> int:
    now = dt.datetime.now(dt.UTC)
    return sum(
        1
        for table in ("bookings", "payments")
        for r in rows(stack, table, shop.id)
        if r.state == "posting"
        and r.uncertain
        and r.claimed_until
        and r.claimed_until.replace(tzinfo=r.claimed_until.tzinfo or dt.UTC) > now
    )


def wait_for(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_invoices_and_payments_are_each_booked_once_under_faults(chaos_stack: Stack) -> None:
    stack = chaos_stack
    shop = stack.shops[0]
    configure(stack, shop)
    now = shop_now()
    orders = make_orders(ORDERS, seed="payment-chaos", start_number=5001, kinds=["domestic"])
    captures: dict[str, list[Capture]] = {}
    late: list[dict[str, Any]] = []
    for index, order in enumerate(orders):
        order["date"] = (now - dt.timedelta(days=10)).date().isoformat()
        order["status_changed_date"] = now.date().isoformat()
        order["status_changed_time"] = now.strftime("%H:%M:%S")
        order["status"] = 2
        total = Decimal(str(order["price"]["total"]))
        if index % 2 == 0:  # paid at checkout: its capture is dated on the order's day
            order["payment"] = {
                "gateway_name": "mollie",
                "method_name": "ideal",
                "status": {"id": 1, "text": "Successful"},
            }
            order["payment_status"] = "captured"
            captures[str(order["number"])] = [(dt.date.fromisoformat(order["date"]), total)]
        else:  # "op rekening": invoiced now, paid later
            order["payment"] = {
                "gateway_name": "basic",
                "method_name": "in_arrears",
                "status": {"id": 5, "text": "Pending"},
            }
            order["payment_status"] = "pending"
            late.append(order)
    stack.add_orders(shop, orders)

    # Phase 1: invoices (and the checkout payments) with slow posts; a worker is killed
    # while it posts, between an invoice and its payment or inside one.
    stack.faults(
        "eb", {"add": [{"kind": "latency", "seconds": 1.0, "operation": "AddMutatie", "times": 10}]}
    )
    assert pass_now(stack, shop).enqueued == ORDERS
    killed = 0
    for index in range(2):
        if wait_for(lambda: in_flight(stack, shop) > 0, 20):
            stack.kill_worker(index, restart=True)
            killed += 1
    stack.faults("eb", {"clear": True, "latency": 0.01})

    # Phase 2: the late money arrives (some in two parts) while answers get lost.
    stack.faults(
        "eb",
        {
            "add": [
                {"kind": "commit_then_drop", "operation": "AddMutatie", "times": 6},
                {"kind": "http_status", "status": 503, "times": None, "probability": 0.2},
            ]
        },
    )
    for index, order in enumerate(late):
        number, total = str(order["number"]), Decimal(str(order["price"]["total"]))
        cents = int(total * 100)
        first_day = dt.date.fromisoformat(order["date"]) + dt.timedelta(days=3)
        parts = [cents] if index % 3 else [cents // 2, cents - cents // 2]
        captures[number] = []
        for offset, part in enumerate(parts):
            day = first_day + dt.timedelta(days=offset * 4)
            pay(stack, shop, number, part, dt.datetime.combine(day, dt.time(11, 0)))
            captures[number].append((day, Decimal(part) / 100))
    pass_now(stack, shop)
    wait_quiet(stack)  # the pass's jobs have run into the faults
    stack.faults("eb", {"clear": True, "latency": 0.01})

    # Settle: passes until every order's money is booked; after each, until its jobs ran.
    deadline = time.monotonic() + CHAOS_SETTLE_SECONDS
    while time.monotonic() < deadline:
        states = Counter(r.payment_state for r in rows(stack, "bookings", shop.id))
        if states.get("settled", 0) == ORDERS and not in_flight(stack, shop):
            break
        pass_now(stack, shop)
        wait_quiet(stack)
        time.sleep(1.0)  # a retry RQ has scheduled runs on its own; look again shortly

    failures: list[str] = []
    ledger = {r.order_number: r for r in rows(stack, "bookings", shop.id)}
    payments: dict[str, list[Any]] = {}
    for r in rows(stack, "payments", shop.id):
        payments.setdefault(r.order_number, []).append(r)
    mutations: dict[str, list[dict[str, Any]]] = {}
    state = stack.eb_state()["administrations"][shop.eb_username]["mutations"]
    for mutation in state:
        mutations.setdefault(str(mutation["Factuurnummer"]), []).append(mutation)
    for number, expected in captures.items():
        booked = mutations.get(number, [])
        invoices = [m for m in booked if m["Soort"] == "FactuurVerstuurd"]
        paid = [m for m in booked if m["Soort"] == "FactuurbetalingOntvangen"]
        row = ledger.get(number)
        if len(invoices) != 1 or row is None or row.state != "booked":
            failures.append(f"{number}: {len(invoices)} invoices, ledger {row and row.state}")
            continue
        got = Counter(
            (_day(m["Datum"]), sum(Decimal(str(r["BedragInclBTW"])) for r in m["MutatieRegels"]))
            for m in paid
        )
        if got != Counter(expected):
            failures.append(f"{number}: payments {sorted(got.items())} != {expected}")
        ledgers = {m["Rekening"] for m in paid}
        method = "ideal" if number in {str(o["number"]) for o in orders[::2]} else "in_arrears"
        if paid and ledgers != {LEDGERS[method]}:
            failures.append(f"{number}: payments on {ledgers}, expected {LEDGERS[method]}")
        recorded = sorted(r.mutation_number for r in payments.get(number, []))
        if recorded != sorted(int(m["MutatieNr"]) for m in paid):
            failures.append(
                f"{number}: ledger of payments {recorded} != e-Boekhouden "
                f"{sorted(int(m['MutatieNr']) for m in paid)}"
            )
        if row.payment_state != "settled":
            failures.append(f"{number}: payment state {row.payment_state}")
    total_payments = sum(len(v) for v in captures.values())
    print(
        f"\nPAYMENT CHAOS: {ORDERS} orders, {total_payments} captures, {killed} workers "
        f"SIGKILLed while posting; invariants: "
        f"{'all hold' if not failures else f'{len(failures)} VIOLATED'}"
    )
    assert not failures, "\n".join(failures[:30])


def _day(value: Any) -> dt.date:
    text = str(value)[:10]
    return dt.date.fromisoformat(text)
