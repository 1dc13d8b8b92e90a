"""The booked cache holds a window of recent bookings (app/booked.py): an order booked
before the window is not in the rebuilt set, yet a job for it finds the booking in SQL
and books nothing; the rebuild swaps the whole set at once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from app.booked import BookedCache
from app.booking.pipeline import book_order
from app.store.db import bookings
from app.store.engine import transaction, utcnow
from tests.helpers import World

pytestmark = pytest.mark.integration

SET, BUILT = "mww:booked:{}", "mww:booked:{}:built"


def _members(world: World) -> set[str]:
    raw = world.services.redis.smembers(SET.format(world.shop.id))
    return {m.decode() if isinstance(m, bytes) else m for m in raw}


def _booked_days_ago(world: World, number: str, days: int) -> None:
    with transaction(world.services.store.engine) as conn:
        conn.execute(
            update(bookings)
            .where(bookings.c.shop_id == world.shop.id, bookings.c.order_number == number)
            .values(booked_at=utcnow() - dt.timedelta(days=days))
        )


def test_an_order_booked_before_the_window_leaves_the_set_and_is_still_booked_once(
    world: World,
) -> None:
    for number in (7001, 7002):
        world.add_order(number)
        assert book_order(world.services, world.shop, str(number)).status == "booked"
    assert _members(world) == {"7001", "7002"}
    _booked_days_ago(world, "7001", BookedCache.WINDOW.days + 10)
    world.services.redis.delete(BUILT.format(world.shop.id))  # the marker's TTL ran out

    assert world.services.booked.booked_among(world.shop.id, ["7001", "7002"]) == {"7002"}
    assert _members(world) == {"7002"}  # rebuilt: trimmed to the window
    redis = world.services.redis
    assert 0 < redis.ttl(BUILT.format(world.shop.id)) <= BookedCache.REBUILD
    assert 0 < redis.ttl(SET.format(world.shop.id)) <= 2 * BookedCache.REBUILD
    assert not world.services.booked.is_booked(world.shop.id, "7001")  # a miss: SQL answers

    assert book_order(world.services, world.shop, "7001").status == "already_booked"
    assert book_order(world.services, world.shop, "7002").status == "already_booked"
    assert [len(world.mutations_for(n)) for n in (7001, 7002)] == [1, 1]


@pytest.mark.parametrize(
    ("days_ago", "in_set"),
    [(0, True), (BookedCache.WINDOW.days - 1, True), (BookedCache.WINDOW.days + 1, False)],
)
def test_the_rebuild_loads_the_window_only(world: World, days_ago: int, in_set: bool) -> None:
    world.add_order(7010)
    book_order(world.services, world.shop, "7010")
    _booked_days_ago(world, "7010", days_ago)
    world.services.redis.delete(BUILT.format(world.shop.id))
    assert world.services.booked.is_booked(world.shop.id, "7010") is in_set


def test_the_rebuild_swaps_the_whole_set_at_once(world: World) -> None:
    """Readers never see a half-built set: the live set stays as it was while the new one
    is filled (in chunks) under a key of its own, then the new one replaces it whole."""
    redis, shop_id = world.services.redis, world.shop.id
    new_numbers = [f"N{i}" for i in range(7)]
    seen_while_filling: list[set[str]] = []

    class Watched(BookedCache):
        CHUNK = 2

        def _fill(self, key: str, numbers: list[str]) -> None:
            super()._fill(key, numbers)
            seen_while_filling.append(_members(world))

    old = BookedCache(redis, lambda _shop, _since: ["OLD1", "OLD2"])
    assert old.is_booked(shop_id, "OLD1")
    redis.delete(BUILT.format(shop_id))
    cache = Watched(redis, lambda _shop, _since: new_numbers)

    assert cache.booked_among(shop_id, ["OLD1", "N0", "N6"]) == {"N0", "N6"}
    assert seen_while_filling == [{"OLD1", "OLD2"}]
    assert _members(world) == set(new_numbers)
    leftovers = [k for k in redis.scan_iter(f"mww:booked:{shop_id}:*") if b":new:" in k]
    assert leftovers == []


def test_an_empty_window_empties_the_set(world: World) -> None:
    redis, shop_id = world.services.redis, world.shop.id
    BookedCache(redis, lambda _shop, _since: ["OLD"]).is_booked(shop_id, "OLD")
    redis.delete(BUILT.format(shop_id))
    cache = BookedCache(redis, lambda _shop, _since: [])
    assert not cache.is_booked(shop_id, "OLD")
    assert _members(world) == set()
    cache.mark_booked(shop_id, "NEW")  # built (if empty): a new booking is added
    assert cache.is_booked(shop_id, "NEW")
