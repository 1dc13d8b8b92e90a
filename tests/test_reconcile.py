"""The reconciler against the Mijnwebwinkel simulator: catching missed orders, racing the
webhook path, paging, failures, DST, rate limits, revoked tokens, locks and the clock."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app import create_app
from app.booking.pipeline import book_order
from app.booking.reconcile import HOURLY, POLL, local_window, run_pass
from app.core.orders import OrderSummary
from app.jobs.queue import enqueue_booking
from app.states import ShopStatus
from app.store.booking_records import Claim, OrderFacts
from app.store.db import shops
from app.store.engine import transaction
from app.store.shops import Credentials
from reconciler.schedule import due_modes, tick_for
from tests.helpers import MWW_TOKEN, World

UTC = dt.UTC


def paid_now(world: World, number: int, *, status: int = 3, **kw: Any) -> None:
    world.add_order(number, status=status, **kw)
    world.sim_shop.set_status(number, status)


def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)


def list_calls(world: World) -> list[dict[str, str]]:
    return [args for op, args in world.mww.calls if op == "list_orders"]


def test_orders_missed_by_notifications_are_booked_by_the_next_pass(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in (7001, 7002, 7003):
        paid_now(world, number)
    paid_now(world, 7004, status=1)  # not paid: seen, not enqueued
    result = run_pass(world.services, world.shop, mode=HOURLY)
    assert (result.outcome, result.seen, result.enqueued, result.skipped) == ("ok", 4, 3, 1)
    run_jobs(world, monkeypatch)
    assert sorted(m["Factuurnummer"] for m in world.mutations()) == ["7001", "7002", "7003"]
    again = run_pass(world.services, world.reload_shop(), mode=POLL)
    assert (again.enqueued, again.already_booked) == (0, 3)
    record = world.services.store.runs.last(world.shop.id)
    assert record is not None and record.id == again.run_id
    assert record.already_booked == 3 and record.outcome == "ok"


def test_webhook_poll_and_hourly_racing_book_each_order_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = list(range(7100, 7110))
    for number in numbers:
        paid_now(world, number)
    for number in numbers[:5]:
        enqueue_booking(world.services.queue, world.shop.id, str(number), source="webhook")
    run_pass(world.services, world.shop, mode=POLL)
    run_pass(world.services, world.shop, mode=HOURLY)
    for number in numbers[::2]:  # and the same orders booked synchronously meanwhile
        book_order(world.services, world.shop, str(number))
    run_jobs(world, monkeypatch)
    run_pass(world.services, world.reload_shop(), mode=HOURLY)
    run_jobs(world, monkeypatch)
    booked = [m["Factuurnummer"] for m in world.mutations()]
    assert sorted(booked) == [str(n) for n in numbers]


def test_paging_over_several_pages_with_status_changes_during_the_pass(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 10 (the API's are 100): the same three pages at a tenth of the bookings.
    monkeypatch.setattr("app.clients.mijnwebwinkel.client.PAGE_SIZE", 10)
    world.sim_shop.generate(25, seed=3, kinds=["domestic", "mixed_rates"])
    now = dt.datetime.now(UTC)
    numbers = sorted(int(n) for n in world.sim_shop.orders)
    for number in numbers:
        world.sim_shop.set_status(number, 3, at=now - dt.timedelta(minutes=30))
    real_factory = world.services.shop_api_factory

    class ChangingShop:
        """Between pages, three orders of the first page become Verzonden."""

        def __init__(self, api: Any) -> None:
            self.api = api

        def __getattr__(self, name: str) -> Any:
            return getattr(self.api, name)

        def iter_orders_changed(
            self, start: dt.datetime, end: dt.datetime
        ) -> Iterator[OrderSummary]:
            for position, summary in enumerate(self.api.iter_orders_changed(start, end)):
                if position == 10:
                    for number in numbers[:3]:
                        world.sim_shop.set_status(number, 2, at=now - dt.timedelta(minutes=1))
                yield summary

    world.services.shop_api_factory = lambda shop: ChangingShop(real_factory(shop))
    result = run_pass(world.services, world.shop, mode=HOURLY, now=now)
    assert result.outcome == "ok"
    assert len(list_calls(world)) == 3  # 10 + 10 + 5
    assert result.seen == 25 and result.enqueued == 25
    run_jobs(world, monkeypatch)
    assert len(world.mutations()) == 25
    assert len({m["Factuurnummer"] for m in world.mutations()}) == 25


def test_a_failed_pass_leaves_the_watermark_and_the_next_catches_up(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_pass(world.services, world.shop, mode=POLL)
    watermark = world.reload_shop().watermark
    assert first.outcome == "ok" and watermark is not None
    paid_now(world, 7201)
    world.mww.faults.add("http_status", operation="list_orders", times=10, status=500)
    failed = run_pass(world.services, world.reload_shop(), mode=POLL)
    assert failed.outcome == "failed" and failed.error
    assert world.reload_shop().watermark == watermark
    world.mww.faults.clear()
    later = run_pass(world.services, world.reload_shop(), mode=POLL)
    assert later.outcome == "ok" and later.enqueued == 1
    assert later.window_start is not None and later.window_start <= watermark


def test_rate_limited_listing_backs_off_and_completes(world: World) -> None:
    paid_now(world, 7301)
    world.mww.faults.add("http_status", operation="list_orders", times=1, status=429, retry_after=1)
    result = run_pass(world.services, world.shop, mode=POLL)
    assert result.outcome == "ok" and result.enqueued == 1
    assert len(list_calls(world)) == 2


def test_revoked_token_is_reported_and_other_shops_go_on(world: World) -> None:
    world.mww.add_shop("second-shop-token", name="Tweede")
    other_id, _ = world.services.store.shops.register(
        name="Tweede",
        status=ShopStatus.ACTIVE,
        credentials=Credentials("second-shop-token", "winkelier", "c1", "c2"),
    )
    world.mww.revoke(MWW_TOKEN)
    app = create_app(services=world.services)
    result = app.test_cli_runner().invoke(args=["reconcile"])
    records = [json.loads(line) for line in result.output.strip().splitlines()]
    by_shop = {r["shop_id"]: r for r in records}
    assert by_shop[world.shop.id]["outcome"] == "failed"
    assert "token" in by_shop[world.shop.id]["error"].lower()
    assert by_shop[other_id]["outcome"] == "ok"
    assert result.exit_code == 1
    shop = world.reload_shop()
    assert shop.status == ShopStatus.AUTH_FAILED and shop.status_error
    run = world.services.store.runs.last(world.shop.id)
    assert run is not None and run.outcome == "failed"


def test_one_pass_per_shop_at_a_time(world: World) -> None:
    lock = world.services.redis.lock(f"mww:reconcile:{world.shop.id}", timeout=60)
    assert lock.acquire(blocking=False)
    assert run_pass(world.services, world.shop, mode=POLL).outcome == "locked"
    lock.release()
    assert run_pass(world.services, world.shop, mode=POLL).outcome == "ok"


def test_two_clocks_enqueue_each_slot_once(world: World) -> None:
    now = 1_800_000_000.0
    first, second = due_modes(world.services, now), due_modes(world.services, now)
    assert first == [HOURLY] and second == []
    assert due_modes(world.services, now + 300) == [POLL]


def test_dry_run_lists_and_changes_nothing(world: World) -> None:
    paid_now(world, 7401)
    app = create_app(services=world.services)
    result = app.test_cli_runner().invoke(
        args=["reconcile", "--shop", str(world.shop.id), "--dry-run"]
    )
    record = json.loads(result.output)
    assert record["outcome"] == "dry_run" and record["would_enqueue"] == ["7401"]
    assert list(world.services.queue.get_job_ids()) == []
    assert world.reload_shop().watermark is None


def test_since_on_a_first_connection_backfills_by_order_date(world: World) -> None:
    world.add_order(7501, date=dt.date(2026, 6, 1))
    world.add_order(7502, date=dt.date(2026, 6, 2), status=2)
    world.add_order(7503, date=dt.date(2025, 1, 1))
    app = create_app(services=world.services)
    result = app.test_cli_runner().invoke(
        args=["reconcile", "--shop", str(world.shop.id), "--since", "2026-05-01"]
    )
    record = json.loads(result.output)
    assert record["mode"] == "backfill" and record["enqueued"] == 2
    statuses = sorted(int(args["status_id"]) for args in list_calls(world))
    assert statuses == sorted({2, 3, 6, 10})


def test_a_stuck_retrying_row_is_re_enqueued_whatever_the_window(world: World) -> None:
    world.add_order(7601, date=dt.date(2020, 1, 1))
    bookings = world.services.store.bookings
    claim = bookings.claim(world.shop.id, "7601", OrderFacts(), lease_seconds=60)
    assert isinstance(claim, Claim)
    bookings.mark_retrying(claim, error="x", reason="y", uncertain=False)
    result = run_pass(world.services, world.shop, mode=HOURLY)
    assert result.enqueued == 1


@pytest.mark.parametrize(
    ("start", "end", "local_start", "local_end"),
    [
        # An ordinary hour in winter (UTC+1).
        ("2026-01-10T10:00:00", "2026-01-10T11:00:00", "2026-01-10 11:00", "2026-01-10 12:00"),
        # Autumn night: 00:15 UTC = 02:15 CEST, 01:45 UTC = 02:45 CET; local time
        # repeats 02:00-03:00, so the naive window starts an hour earlier.
        ("2026-10-25T00:15:00", "2026-10-25T01:45:00", "2026-10-25 01:15", "2026-10-25 02:45"),
        # Spring night: 01:30 UTC = 03:30 CEST; 02:00-03:00 local does not exist.
        ("2026-03-29T00:30:00", "2026-03-29T01:30:00", "2026-03-29 01:30", "2026-03-29 03:30"),
    ],
)
def test_local_window_covers_dst_changes(
    start: str, end: str, local_start: str, local_end: str
) -> None:
    got = local_window(
        dt.datetime.fromisoformat(start).replace(tzinfo=UTC),
        dt.datetime.fromisoformat(end).replace(tzinfo=UTC),
    )
    assert got == (dt.datetime.fromisoformat(local_start), dt.datetime.fromisoformat(local_end))


def test_dst_night_orders_in_the_repeated_hour_are_found(world: World) -> None:
    """Both 02:30s of 25 October 2026 (CEST, then CET) fall in one pass."""
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    world.add_order(7701)
    world.add_order(7702)
    world.sim_shop.set_status(7701, 3, at=first)
    world.sim_shop.set_status(7702, 3, at=second)
    with transaction(world.services.engine) as conn:
        conn.execute(
            shops.update()
            .where(shops.c.id == world.shop.id)
            .values(watermark=dt.datetime(2026, 10, 25, 0, 40, tzinfo=UTC))
        )
    result = run_pass(
        world.services,
        world.reload_shop(),
        mode=POLL,
        now=dt.datetime(2026, 10, 25, 1, 40, tzinfo=UTC),
    )
    assert result.outcome == "ok"
    assert result.enqueued == 2


@pytest.mark.parametrize(
    ("poll", "tick"),
    [
        (300, 5.0),  # production: the clock's own tick
        (900, 5.0),  # a slower poll does not slow the clock
        (75, 1.25),  # a compressed poll (the scale benchmark): a sixtieth of it
        (0, 5.0),  # no fast poll: the hourly pass on the normal tick
        (3, 0.1),  # never a busy loop
    ],
)
def test_the_clock_ticks_at_most_a_sixtieth_of_the_poll_interval(poll: float, tick: float) -> None:
    assert tick_for(poll) == tick
