"""Failures that heal: an e-Boekhouden (or Mijnwebwinkel) refusal of the credentials stops
the shop's booking, holds what comes in meanwhile, and once the credentials work again —
a pass re-tests them, or a person saves them — every order that failed for a system
reason is booked by itself, once. Orders that failed for their own reason wait for a
person. On both adapters and both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app.booking import lifecycle
from app.booking.healing import failure_cause
from app.booking.pipeline import book_order
from app.booking.reconcile import HOURLY, POLL, run_pass
from app.core.mapping_settings import MappingSettings
from app.errors import (
    BookkeepingAuthError,
    ConnectorError,
    DuplicateInvoiceError,
    MappingError,
    OrderDataError,
    RateLimitedError,
    ShopAuthError,
    UnknownRelationError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from app.states import BookingMode, BookingState, FailureCause, JobOutcome, ShopStatus
from tests.adapter_worlds import Books, books_fixture, rest_sim_fixture  # noqa: F401
from tests.helpers import World, booking_row, warm_up_bookkeeping


def _up(cls: type[ConnectorError], **kw: Any) -> ConnectorError:
    if issubclass(cls, RateLimitedError):
        return cls("429", system="eboekhouden", **kw)
    if issubclass(cls, UpstreamRejectedError | UpstreamUnavailableError):
        return cls("x", system="eboekhouden", **kw)
    return cls("x")


@pytest.mark.parametrize(
    ("cls", "cause"),
    [
        (BookkeepingAuthError, FailureCause.SYSTEM),  # credentials refused
        (ShopAuthError, FailureCause.SYSTEM),
        (UpstreamUnavailableError, FailureCause.SYSTEM),  # down, timed out
        (RateLimitedError, FailureCause.SYSTEM),
        (MappingError, FailureCause.ORDER),  # a setting is missing: a person acts
        (OrderDataError, FailureCause.ORDER),
        (DuplicateInvoiceError, FailureCause.ORDER),
        (UnknownRelationError, FailureCause.ORDER),
        (UpstreamRejectedError, FailureCause.ORDER),  # e-Boekhouden refuses this booking
    ],
)
def test_every_failure_is_the_orders_or_the_systems(
    cls: type[ConnectorError], cause: FailureCause
) -> None:
    assert failure_cause(_up(cls)) == cause


def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)


def paid_now(world: World, number: int, **kw: Any) -> None:
    world.add_order(number, **kw)
    world.sim_shop.set_status(number, 3)


def test_a_refused_e_boekhouden_holds_orders_and_books_them_once_it_is_back(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = books.world
    for number in (9301, 9302, 9303):
        paid_now(world, number)
    paid_now(world, 9304, kind="oss")  # no OSS row: fails for its own reason
    warm_up_bookkeeping(world)
    assert book_order(world.services, world.shop, "9304").status == JobOutcome.FAILED
    books.fault("auth", times=None)  # e-Boekhouden refuses the credentials from now on

    held = book_order(world.services, world.shop, "9301")
    assert held.status == JobOutcome.HELD and "vanzelf geboekt" in held.reason
    shop = world.reload_shop()
    assert (shop.status, shop.status_system) == (ShopStatus.AUTH_FAILED, "eboekhouden")
    row = booking_row(world, 9301)
    assert (row.state, row.failure_cause) == (BookingState.FAILED, FailureCause.SYSTEM)
    # Booking stops: the next order is held without another call to e-Boekhouden.
    posted = books.calls("AddMutatie")
    assert book_order(world.services, shop, "9302").status == JobOutcome.HELD
    assert books.calls("AddMutatie") == posted
    # Still refused: the pass re-tests (and fails), its job holds the third order.
    world.sim_shop.set_status(9303, 3)
    assert run_pass(world.services, shop, mode=POLL).outcome == "ok"
    run_jobs(world, monkeypatch)
    assert world.reload_shop().status == ShopStatus.AUTH_FAILED
    assert booking_row(world, 9303).failure_cause == FailureCause.SYSTEM

    books.faults.clear()  # the refusal ends by itself: nobody clicks anything
    assert run_pass(world.services, world.reload_shop(), mode=POLL).outcome == "ok"
    assert world.reload_shop().status == ShopStatus.ACTIVE
    run_jobs(world, monkeypatch)
    assert books.invoice_numbers() == ["9301", "9302", "9303"]
    assert booking_row(world, 9304).state == BookingState.FAILED  # the order's: waits
    assert booking_row(world, 9304).failure_cause == FailureCause.ORDER


def test_saved_credentials_count_as_working_and_heal(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = books.world
    paid_now(world, 9311)
    warm_up_bookkeeping(world)
    books.fault("auth", times=None)
    assert book_order(world.services, world.shop, "9311").status == JobOutcome.HELD
    books.faults.clear()
    shop = world.reload_shop()
    sent = lifecycle.save_credentials(
        world.services, shop.id, name=shop.name, credentials=shop.credentials
    )
    assert sent == 1 and world.reload_shop().status == ShopStatus.ACTIVE
    assert booking_row(world, 9311).state == BookingState.RETRYING  # queued once
    run_jobs(world, monkeypatch)
    assert books.invoice_numbers() == ["9311"]


def test_a_refused_mijnwebwinkel_token_stops_booking_until_a_pass_can_read_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    paid_now(world, 9321)
    world.mww.faults.add("auth", times=None)
    outcome = book_order(world.services, world.shop, "9321")
    assert outcome.status == JobOutcome.HELD  # not retried by RQ seven times over
    shop = world.reload_shop()
    assert (shop.status, shop.status_system) == (ShopStatus.AUTH_FAILED, "mijnwebwinkel")
    assert world.services.store.bookings.get(shop.id, "9321") is None  # nothing to read
    assert run_pass(world.services, shop, mode=POLL).outcome == "failed"  # still refused
    world.mww.faults.clear()
    result = run_pass(world.services, world.reload_shop(), mode=HOURLY)
    assert result.outcome == "ok" and world.reload_shop().status == ShopStatus.ACTIVE
    run_jobs(world, monkeypatch)
    assert [m["Factuurnummer"] for m in world.mutations()] == ["9321"]


def test_a_payment_refused_waits_and_is_booked_once_it_is_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invoice and payment: the invoice is booked, then the payment meets the refusal;
    it waits (retrying, not failed) and the heal books it."""
    mapping = MappingSettings(
        booking_mode=BookingMode.INVOICE_AND_PAYMENT, payment_ledgers={"in_arrears": "1100"}
    )
    world.services.store.shops.save_mapping(world.shop.id, mapping)
    order = world.add_order(9331, status=2, date=dt.date.today() - dt.timedelta(days=2))
    order["payment"] = {
        "gateway_name": "basic",
        "method_name": "in_arrears",
        "status": {"id": 5, "text": "Pending"},
    }
    order["payment_status"] = "pending"
    assert book_order(world.services, world.reload_shop(), "9331").payment_state == "open"
    world.sim_shop.pay(9331, "capture", at=dt.datetime.combine(dt.date.today(), dt.time(9)))
    world.eb.faults.add("auth", operation="AddMutatie", times=None)
    outcome = book_order(world.services, world.shop, "9331")
    assert "vanzelf geboekt" in outcome.reason
    assert world.reload_shop().status == ShopStatus.AUTH_FAILED
    [payment] = world.services.store.payments.for_order(world.shop.id, "9331")
    assert payment.state == "retrying"
    world.eb.faults.clear()
    run_pass(world.services, world.reload_shop(), mode=POLL)  # re-test → heal
    run_jobs(world, monkeypatch)
    soorten = sorted(m["Soort"] for m in world.mutations_for(9331))
    assert soorten == ["FactuurVerstuurd", "FactuurbetalingOntvangen"]
