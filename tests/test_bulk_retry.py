"""Bulk retry: "Alles opnieuw proberen" per shop and per reason, `flask book --failed`, and
`flask book` on one failed order (it is tried again and the real reason printed). On both
adapters and both backends."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import app.booking.retry
import worker.jobs
from app import create_app
from app.booking.pipeline import book_order
from app.booking.retry import RetryOutcome, failure_groups, retry_failed
from app.states import BookingState, FailureCause, JobOutcome, ShopStatus
from tests.adapter_worlds import Books, books_fixture, rest_sim_fixture  # noqa: F401
from tests.helpers import World, booking_row, warm_up_bookkeeping


def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)


def with_revenue_ledger(world: World, ledger: str) -> None:
    """Every domestic sale booked on ``ledger`` ("8999": one e-Boekhouden does not have)."""
    mapping = world.reload_shop().mapping
    for treatment in ("rate:21", "rate:9"):
        rule = mapping.rule(treatment)
        assert rule is not None
        mapping = mapping.with_rule(replace(rule, ledgers={**rule.ledgers, "omzet": ledger}))
    world.services.store.shops.save_mapping(world.shop.id, mapping)
    world.reload_shop()


def fail_orders(books: Books) -> None:
    """Three orders e-Boekhouden refuses (a revenue ledger it does not have) and two OSS
    orders the mapping cannot place (DE 19 % and DE 7 %: two more reasons)."""
    world = books.world
    warm_up_bookkeeping(world)
    with_revenue_ledger(world, "8999")
    for number in (9601, 9602, 9603):
        world.add_order(number)
        assert book_order(world.services, world.shop, str(number)).status == JobOutcome.FAILED
    for number in (9604, 9605):
        world.add_order(number, kind="oss")
        assert book_order(world.services, world.shop, str(number)).status == JobOutcome.FAILED


def fix_ledgers(world: World) -> None:
    with_revenue_ledger(world, "8010")


def test_failed_bookings_are_grouped_by_their_reason(books: Books) -> None:
    fail_orders(books)
    groups = failure_groups(books.world.services, books.world.shop.id)
    assert [g.count for g in groups] == [3, 1, 1]
    refused, *unmapped = groups
    assert "8999" in refused.reason and "9601" not in refused.reason  # no order numbers
    assert {r.order_number for r in refused.rows} == {"9601", "9602", "9603"}
    assert all("OSS" in g.reason and "…" in g.reason for g in unmapped)
    assert all(g.cause == FailureCause.ORDER for g in groups)
    again = failure_groups(books.world.services, books.world.shop.id)
    assert [g.key for g in again] == [g.key for g in groups]  # what the buttons send


def test_retry_all_of_one_reason_after_the_fix(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = books.world
    fail_orders(books)
    refused = failure_groups(world.services, world.shop.id)[0]
    fix_ledgers(world)  # the person fixes the setting …
    result = retry_failed(world.services, world.shop.id, refused.key)  # … and one click
    assert result.outcome == RetryOutcome.QUEUED
    assert sorted(result.queued) == ["9601", "9602", "9603"]
    run_jobs(world, monkeypatch)
    assert books.invoice_numbers() == ["9601", "9602", "9603"]
    assert booking_row(world, 9604).state == BookingState.FAILED  # the other reason waits
    everything = retry_failed(world.services, world.shop.id)
    assert sorted(everything.queued) == ["9604", "9605"]


def test_retry_all_changes_nothing_when_the_queue_is_down(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    books = Books("soap", world)
    fail_orders(books)
    calls = []

    def flaky(*args: object, **kw: object) -> bool:
        calls.append(args)
        if len(calls) > 2:
            raise RedisConnectionError("down")
        return True

    monkeypatch.setattr(app.booking.retry, "enqueue_booking", flaky)
    result = retry_failed(world.services, world.shop.id)
    assert result.outcome == RetryOutcome.QUEUE_DOWN and len(result.queued) == 2
    states = world.services.store.bookings.states_of(
        world.shop.id, [str(n) for n in range(9601, 9606)]
    )
    assert sorted(states.values()).count(BookingState.RETRYING) == 2  # the two queued
    assert sorted(states.values()).count(BookingState.FAILED) == 3  # the rest as it was


def test_nothing_is_retried_while_the_credentials_are_refused(world: World) -> None:
    fail_orders(Books("soap", world))
    world.services.store.shops.set_status(world.shop.id, ShopStatus.ACTIVE)
    world.services.store.shops.mark_auth_failed(
        world.shop.id, "e-Boekhouden weigert.", "eboekhouden"
    )
    assert retry_failed(world.services, world.shop.id).outcome == RetryOutcome.REFUSED
    assert booking_row(world, 9601).state == BookingState.FAILED


def test_flask_book_tries_a_failed_order_again_and_prints_the_real_reason(world: World) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    world.add_order(9611, kind="oss")
    assert book_order(world.services, world.shop, "9611").status == JobOutcome.FAILED
    attempts = booking_row(world, 9611).attempts
    result = runner.invoke(args=["book", "--shop", str(world.shop.id), "9611"])
    assert result.exit_code == 1
    printed = json.loads(result.output)
    assert printed["status"] == "failed" and "OSS" in printed["reason"]  # not ""
    assert booking_row(world, 9611).updated_at is not None
    assert booking_row(world, 9611).attempts >= attempts


def test_flask_book_failed_books_every_failed_order_of_the_shop(books: Books) -> None:
    world = books.world
    fail_orders(books)
    fix_ledgers(world)
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(args=["book", "--shop", str(world.shop.id), "--failed"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((line["order_number"], line["status"]) for line in lines) == [
        ("9601", "booked"),
        ("9602", "booked"),
        ("9603", "booked"),
        ("9604", "failed"),  # still no OSS row: its reason is printed
        ("9605", "failed"),
    ]
    assert all(line["reason"] for line in lines if line["status"] == "failed")
    assert result.exit_code == 1  # not everything is booked
    assert "5 failed orders tried again" in result.stderr
    assert books.invoice_numbers() == ["9601", "9602", "9603"]
    neither = runner.invoke(args=["book", "--shop", str(world.shop.id)])
    assert neither.exit_code == 2 and "--failed" in neither.output
