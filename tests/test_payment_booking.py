"""Payments booked when the money arrives, against both simulators over HTTP, on both
backends: the invoice and each payment booked exactly once, separately; the reconciler
finds late captures; cash mode books only paid orders; faults on the payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app.booking.pipeline import book_order
from app.booking.reconcile import HOURLY, POLL, run_pass
from app.core.mapping_settings import (
    NOT_BOOKED,
    MappingSettings,
)
from app.errors import UpstreamUnavailableError
from app.states import BookingMode, OrderPayment, PaymentState
from app.store.payments import PaymentStore
from tests.helpers import World, booking_row

TODAY = dt.date.today()
ORDER_DAY = TODAY - dt.timedelta(days=10)
LEDGERS = {"in_arrears": "1100", "ideal": "1010", "cash": "1000", "webshop_giftcard": NOT_BOOKED}


def use_mode(world: World, mode: str, ledgers: dict[str, str] | None = None) -> None:
    mapping = MappingSettings(
        booking_mode=mode, payment_ledgers=dict(LEDGERS if ledgers is None else ledgers)
    )
    world.services.store.shops.save_mapping(world.shop.id, mapping)
    world.reload_shop()


def order_with(
    world: World, number: int, method: str, *, paid: bool, status: int = 2, **kw: Any
) -> dict[str, Any]:
    order = world.add_order(number, status=status, date=kw.pop("date", ORDER_DAY), **kw)
    order["payment"] = {
        "gateway_name": "basic",
        "method_name": method,
        "status": {"id": 1 if paid else 5, "text": "Successful" if paid else "Pending"},
    }
    order["payment_status"] = "captured" if paid else "pending"
    return order


def at(day: dt.date, hour: int = 14) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0))


def payments_of(world: World, number: int) -> list[dict[str, Any]]:
    return [m for m in world.mutations_for(number) if m["Soort"] == "FactuurbetalingOntvangen"]


def datum(mutation: dict[str, Any]) -> dt.date:
    value = mutation["Datum"]
    return value.date() if isinstance(value, dt.datetime) else value


def calls(world: World, operation: str) -> int:
    return sum(1 for op, _ in world.mww.calls if op == operation)


def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)


def test_shipped_unpaid_is_invoiced_and_its_payment_booked_once_when_it_arrives(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's end-to-end case: "op rekening", paid three days after it was invoiced."""
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order = order_with(world, 8001, "in_arrears", paid=False)
    outcome = book_order(world.services, world.shop, "8001")
    assert (outcome.status, outcome.payment_state) == ("booked", "open")
    [invoice] = world.mutations_for(8001)
    assert invoice["Soort"] == "FactuurVerstuurd"  # no payment for money not received
    assert booking_row(world, 8001).payment_state == OrderPayment.OPEN

    paid_on = ORDER_DAY + dt.timedelta(days=3)
    world.sim_shop.pay(8001, "capture", at=at(paid_on))
    result = run_pass(world.services, world.reload_shop(), mode=HOURLY)
    assert result.outcome == "ok" and result.enqueued == 1
    run_jobs(world, monkeypatch)

    [payment] = payments_of(world, 8001)
    assert datum(payment) == paid_on
    assert payment["Rekening"] == "1100"  # the in_arrears method's ledger
    assert payment["RelatieCode"] == invoice["RelatieCode"]
    [row] = payment["MutatieRegels"]
    assert Decimal(row["BedragInclBTW"]) == Decimal(str(order["price"]["total"]))
    assert row["TegenrekeningCode"] == "1300"
    [record] = world.services.store.payments.for_order(world.shop.id, "8001")
    assert (record.state, record.mutation_number) == ("booked", payment["MutatieNr"])
    assert booking_row(world, 8001).payment_state == OrderPayment.SETTLED

    # Settled: the next passes and notifications cost no Mijnwebwinkel call for it.
    before = calls(world, "order_payments"), calls(world, "get_order")
    again = run_pass(world.services, world.reload_shop(), mode=HOURLY)
    assert again.enqueued == 0
    assert book_order(world.services, world.shop, "8001").status == "already_booked"
    assert (calls(world, "order_payments"), calls(world, "get_order")) == before
    assert len(payments_of(world, 8001)) == 1


def test_paid_at_checkout_books_invoice_and_payment_on_the_capture_date(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order_with(
        world,
        8002,
        "ideal",
        paid=True,
        status=3,
        date=dt.datetime.combine(ORDER_DAY, dt.time(23, 30)),
    )
    outcome = book_order(world.services, world.shop, "8002")
    assert (outcome.status, outcome.payment_state, outcome.payments_booked) == (
        "booked",
        "settled",
        1,
    )
    [payment] = payments_of(world, 8002)
    # 23:30 in Amsterdam is 22:30 UTC: still the order's day in the shop.
    assert (datum(payment), payment["Rekening"]) == (ORDER_DAY, "1010")


def test_partial_captures_are_booked_one_by_one_until_settled(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order = order_with(world, 8003, "in_arrears", paid=False)
    total = int(Decimal(str(order["price"]["total"])) * 100)
    book_order(world.services, world.shop, "8003")
    world.sim_shop.pay(8003, "capture", amount=1000, at=at(ORDER_DAY + dt.timedelta(days=1)))
    outcome = book_order(world.services, world.shop, "8003")
    assert (outcome.status, outcome.payment_state) == ("already_booked", "open")
    world.sim_shop.pay(
        8003, "capture", amount=total - 1000, at=at(ORDER_DAY + dt.timedelta(days=5))
    )
    assert book_order(world.services, world.shop, "8003").payment_state == "settled"
    dates = [
        (datum(p), Decimal(p["MutatieRegels"][0]["BedragInclBTW"]))
        for p in payments_of(world, 8003)
    ]
    assert dates == [
        (ORDER_DAY + dt.timedelta(days=1), Decimal("10.00")),
        (ORDER_DAY + dt.timedelta(days=5), Decimal(total - 1000) / 100),
    ]


def test_failed_payment_attempts_book_nothing(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order_with(world, 8004, "in_arrears", paid=False)
    world.sim_shop.pay(8004, "fail", method="ideal", at=at(ORDER_DAY))
    assert book_order(world.services, world.shop, "8004").payment_state == "open"
    assert payments_of(world, 8004) == []


def test_an_unmapped_method_holds_the_payment_and_books_the_invoice(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT, ledgers={})
    order_with(world, 8005, "ideal", paid=True, status=3)
    outcome = book_order(world.services, world.shop, "8005")
    assert (outcome.status, outcome.payment_state) == ("booked", "held")
    assert "iDEAL" in outcome.reason and "Betaalmethoden" in outcome.reason
    assert [m["Soort"] for m in world.mutations_for(8005)] == ["FactuurVerstuurd"]
    # Once the method has a ledger, the hourly pass books the held payment.
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    assert "8005" in world.services.store.payments.outstanding(world.shop.id, ORDER_DAY)
    assert book_order(world.services, world.shop, "8005").payment_state == "settled"
    assert [p["Rekening"] for p in payments_of(world, 8005)] == ["1010"]


def test_a_gift_card_payment_on_niet_boeken_is_not_booked_and_stays_open(world: World) -> None:
    """Issue 23: "niet boeken" leaves that part of the invoice open on the debtors ledger;
    the order is not "settled" and the part shows among the open items."""
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order_with(world, 8006, "webshop_giftcard", paid=True, status=3)
    outcome = book_order(world.services, world.shop, "8006")
    assert outcome.payment_state == "not_booked" and payments_of(world, 8006) == []
    [record] = world.services.store.payments.for_order(world.shop.id, "8006")
    assert record.state == PaymentState.NOT_BOOKED
    [item] = world.services.store.payments.open_items(
        world.shop.id, TODAY, lookback_days=60, term_days=14
    )
    assert (item.kind, item.order_number, item.amount) == ("not_booked", "8006", record.amount)
    assert "blijft open" in item.reason


def test_the_deprecated_fields_are_used_when_the_listing_is_not_offered(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order = order_with(world, 8007, "ideal", paid=True, status=3)
    world.mww.faults.add("http_status", operation="order_payments", status=404)
    outcome = book_order(world.services, world.shop, "8007")
    assert outcome.payment_state == "settled"
    [payment] = payments_of(world, 8007)
    [record] = world.services.store.payments.for_order(world.shop.id, "8007")
    assert record.payment_key == "order:captured"
    # No capture date without the listing: the day the order reached its status.
    assert datum(payment) == dt.date.fromisoformat(order["status_changed_date"])


def test_a_refund_on_a_credit_order_is_a_payment_out_on_the_refund_date(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    sale = order_with(world, 8010, "ideal", paid=True, status=3)
    book_order(world.services, world.shop, "8010")
    credit = world.add_order(8011, kind="credit", credited=sale, date=ORDER_DAY)
    outcome = book_order(world.services, world.shop, "8011")
    assert (outcome.status, outcome.payment_state) == ("booked", "open")  # not yet refunded
    refund_day = ORDER_DAY + dt.timedelta(days=4)
    world.sim_shop.pay(8010, "refund", at=at(refund_day))
    assert book_order(world.services, world.shop, "8011").payment_state == "settled"
    [refund] = payments_of(world, 8011)
    assert datum(refund) == refund_day and refund["Rekening"] == "1010"
    total = Decimal(str(credit["price"]["total"]))
    assert Decimal(refund["MutatieRegels"][0]["BedragInclBTW"]) == -abs(total)
    assert len(payments_of(world, 8010)) == 1  # the sale's own payment, untouched


@pytest.mark.parametrize("method, ledger", [("cash", "1000"), ("in_arrears", "1100")])
def test_cash_mode_books_only_paid_orders_on_the_payment_date(
    world: World, method: str, ledger: str
) -> None:
    use_mode(world, BookingMode.CASH)
    order_with(world, 8020, method, paid=False)
    outcome = book_order(world.services, world.shop, "8020")
    assert outcome.status == "waiting_for_payment" and world.mutations_for(8020) == []
    assert booking_row(world, 8020).payment_state == OrderPayment.OPEN
    paid_on = ORDER_DAY + dt.timedelta(days=2)
    world.sim_shop.pay(8020, "capture", method=method, at=at(paid_on))
    assert book_order(world.services, world.shop, "8020").status == "booked"
    [mutation] = world.mutations_for(8020)
    assert (mutation["Soort"], datum(mutation), mutation["Rekening"]) == (
        "GeldOntvangen",
        paid_on,
        ledger,
    )


def test_a_lost_answer_on_a_payment_is_found_by_look_up_not_posted_twice(world: World) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order_with(world, 8030, "in_arrears", paid=False)
    assert book_order(world.services, world.shop, "8030").payment_state == "open"
    world.sim_shop.pay(8030, "capture", at=at(ORDER_DAY + dt.timedelta(days=1)))
    world.eb.faults.add("commit_then_drop", operation="AddMutatie")  # the payment's answer
    with pytest.raises(UpstreamUnavailableError):
        book_order(world.services, world.shop, "8030")
    [record] = world.services.store.payments.for_order(world.shop.id, "8030")
    assert record.state == "retrying" and record.uncertain
    assert booking_row(world, 8030).payment_state == OrderPayment.OPEN
    assert len(payments_of(world, 8030)) == 1  # it did land
    lookups = world.eb.calls["GetMutaties"]
    assert book_order(world.services, world.shop, "8030").payment_state == "settled"
    assert world.eb.calls["GetMutaties"] == lookups + 1
    [payment] = payments_of(world, 8030)
    [record] = world.services.store.payments.for_order(world.shop.id, "8030")
    assert (record.state, record.mutation_number) == ("booked", payment["MutatieNr"])


def test_a_worker_killed_between_invoice_and_payment_leaves_it_to_the_reconciler(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_mode(world, BookingMode.INVOICE_AND_PAYMENT)
    order_with(world, 8031, "ideal", paid=True, status=3)

    class WorkerDied(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise WorkerDied

    monkeypatch.setattr(PaymentStore, "record_family", die)
    with pytest.raises(WorkerDied):
        book_order(world.services, world.shop, "8031")
    monkeypatch.undo()
    assert booking_row(world, 8031).state == "booked"
    assert booking_row(world, 8031).payment_state == OrderPayment.OPEN
    assert payments_of(world, 8031) == []
    # The poll only looks among changed orders; the hourly pass finds it.
    result = run_pass(world.services, world.reload_shop(), mode=HOURLY)
    assert result.enqueued == 1
    run_jobs(world, monkeypatch)
    assert len(payments_of(world, 8031)) == 1
    assert len([m for m in world.mutations_for(8031) if m["Soort"] == "FactuurVerstuurd"]) == 1
    assert booking_row(world, 8031).payment_state == OrderPayment.SETTLED
    assert run_pass(world.services, world.reload_shop(), mode=POLL).enqueued == 0


def test_a_failed_invoice_waits_for_a_person_not_for_money(world: World) -> None:
    mapping = MappingSettings(
        booking_mode=BookingMode.INVOICE_AND_PAYMENT,
        debtors_ledger="1399",
        payment_ledgers=dict(LEDGERS),
    )  # 1399: not in the chart
    world.services.store.shops.save_mapping(world.shop.id, mapping)
    order_with(world, 8040, "ideal", paid=True, status=3)
    assert book_order(world.services, world.reload_shop(), "8040").status == "failed"
    assert world.mutations_for(8040) == []
    assert world.services.store.payments.outstanding(world.shop.id, ORDER_DAY) == []
    assert world.services.store.payments.count_awaiting(world.shop.id) == 0
