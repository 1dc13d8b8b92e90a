"""The start date ("Boek bestellingen vanaf"): orders placed before it are never booked by
notifications, the poll or the passes; Inhalen, `reconcile --since` and a person's retry
still book them. Against the simulators, on both backends."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app.booking.pipeline import book_order
from app.booking.reconcile import BACKFILL, HOURLY, POLL, run_pass, window_for
from app.core.start_date import parse_start, placed_before
from app.states import BookingState, JobOutcome, SkipCode
from app.store.booking_records import OrderFacts
from tests.helpers import World, booking_row

AMS = ZoneInfo("Europe/Amsterdam")
START = dt.datetime(2026, 11, 10, 10, 0, tzinfo=AMS)  # "Boek bestellingen vanaf"
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        (dt.date(2026, 11, 9), dt.time(23, 59), True),
        (dt.date(2026, 11, 10), dt.time(9, 59, 59), True),
        (dt.date(2026, 11, 10), dt.time(10, 0), False),  # the start itself books
        (dt.date(2026, 11, 11), dt.time(0, 0), False),
        (dt.date(2026, 11, 9), None, True),  # no time: an earlier day is before
        (dt.date(2026, 11, 10), None, False),  # … the start day itself is booked
        (None, None, False),  # no date: nothing to compare, booked
    ],
)
def test_placed_before_the_start(
    date: dt.date | None, time: dt.time | None, expected: bool
) -> None:
    assert placed_before(date, time, START.astimezone(dt.UTC)) is expected
    assert placed_before(date, time, None) is False  # no start date: everything books


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("10-11-2026 10:00", dt.datetime(2026, 11, 10, 10, 0)),
        ("2026-11-10 10:00", dt.datetime(2026, 11, 10, 10, 0)),
        ("2026-11-10T10:00", dt.datetime(2026, 11, 10, 10, 0)),
        (" 10-11-2026 ", dt.datetime(2026, 11, 10, 0, 0)),
        ("2026-07-01", dt.datetime(2026, 7, 1, 0, 0)),  # summer time: UTC+2
    ],
)
def test_a_start_date_is_read_as_people_write_it(text: str, local: dt.datetime) -> None:
    assert parse_start(text, NOW) == local.replace(tzinfo=AMS).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Vul de startdatum in als dd-mm-jjjj"),
        ("10/11/2026", "Vul de startdatum in als dd-mm-jjjj"),
        ("31-02-2026", "Vul de startdatum in als dd-mm-jjjj"),
        ("01-01-1999", "na 1 januari 2000"),
        ("01-01-2029", "meer dan een jaar in de toekomst"),
    ],
)
def test_a_wrong_start_date_says_what_to_write(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_start(text, NOW)


def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)


def start_at(world: World, when: dt.datetime) -> None:
    world.services.store.shops.set_book_from(world.shop.id, when.astimezone(dt.UTC))
    world.reload_shop()


def placed(world: World, number: int, at: dt.datetime) -> None:
    """An order placed at ``at`` (shop-local) and paid just now."""
    world.add_order(number, date=at.replace(tzinfo=None))
    world.sim_shop.set_status(number, 3)


def test_a_notification_of_an_order_before_the_start_books_nothing(world: World) -> None:
    start_at(world, START)
    placed(world, 9001, START - dt.timedelta(days=1))
    placed(world, 9002, START - dt.timedelta(seconds=1))
    placed(world, 9003, START)
    for number in ("9001", "9002"):
        outcome = book_order(world.services, world.shop, number)
        assert outcome.status == JobOutcome.SKIPPED
        assert "vóór de startdatum" in outcome.reason and "10-11-2026 10:00" in outcome.reason
        row = booking_row(world, number)
        assert row.state == BookingState.SKIPPED and row.error_code == SkipCode.BEFORE_START
        assert "Inhalen" in (row.reason or "")  # says how to book it anyway
    assert book_order(world.services, world.shop, "9003").status == JobOutcome.BOOKED
    assert [m["Factuurnummer"] for m in world.mutations()] == ["9003"]
    # On request (`flask book`, a retry, Inhalen) the older order is booked.
    assert book_order(world.services, world.shop, "9001", on_request=True).status == "booked"
    assert sorted(m["Factuurnummer"] for m in world.mutations()) == ["9001", "9003"]


def test_the_passes_leave_older_orders_alone_and_inhalen_books_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = dt.datetime.now(AMS).replace(microsecond=0) - dt.timedelta(hours=2)
    start_at(world, start)
    placed(world, 9101, start - dt.timedelta(days=3))  # paid now, placed before the start
    placed(world, 9102, start + dt.timedelta(minutes=5))
    for mode in (POLL, HOURLY):
        result = run_pass(world.services, world.reload_shop(), mode=mode)
        assert result.outcome == "ok" and result.skipped == 1, result
        run_jobs(world, monkeypatch)
    assert [m["Factuurnummer"] for m in world.mutations()] == ["9102"]
    assert world.services.store.bookings.get(world.shop.id, "9101") is None  # not even fetched
    # Inhalen from the day before: the older order is booked too (and only once).
    since = dt.datetime.combine(start.date() - dt.timedelta(days=4), dt.time(), AMS)
    backfill = run_pass(world.services, world.reload_shop(), mode=BACKFILL, since=since)
    assert backfill.outcome == "ok" and backfill.enqueued == 1
    run_jobs(world, monkeypatch)
    assert sorted(m["Factuurnummer"] for m in world.mutations()) == ["9101", "9102"]


def test_a_new_shops_first_pass_starts_at_its_start_date(world: World) -> None:
    """Not 24 hours back: what was placed before the start cannot have changed after it."""
    now = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
    start_at(world, now - dt.timedelta(hours=1))
    start = window_for(world.services, world.shop, HOURLY, now, None)
    overlap = dt.timedelta(minutes=world.settings.reconcile_overlap_minutes)
    assert start == now - dt.timedelta(hours=1) - overlap
    start_at(world, now - dt.timedelta(days=30))  # an old start: the 24-hour look-back
    assert window_for(world.services, world.shop, HOURLY, now, None) == now - dt.timedelta(
        hours=world.settings.reconcile_lookback_hours
    )


def test_an_order_in_progress_is_finished_after_the_start_date_moved_past_it(
    world: World,
) -> None:
    placed(world, 9201, START - dt.timedelta(days=2))
    claim = world.services.store.bookings.claim(
        world.shop.id, "9201", OrderFacts(), lease_seconds=300
    )
    assert not isinstance(claim, BookingState)
    world.services.store.bookings.mark_retrying(
        claim, error="timeout", reason="e-Boekhouden reageerde niet.", uncertain=False
    )
    start_at(world, START)  # moved later while the order waited for its retry
    assert book_order(world.services, world.shop, "9201").status == JobOutcome.BOOKED
