"""Adaptive polling: the back-off rule (table), and the clock with it against the
simulators: an idle shop polled less and less, back to the base interval after a hit, a
notification or a look at its page; two clocks claiming each due time once; a lost Redis
polling everyone at the base again.

The clock runs on a simulated time line (``tick(services, t)`` every ``STEP`` seconds) and
the passes it enqueues are run at once at that time, so hours pass in a second."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable

import pytest

from app import create_app
from app.booking.reconcile import run_pass
from app.core.polling import Backoff
from app.jobs.queue import reconcile_started
from app.polling import DUE_KEY, EMPTY_KEY, PollSchedule
from app.states import Role, RunMode
from reconciler.schedule import tick
from tests.helpers import World, signed_headers
from tests.web.helpers import login, password_hash

STEP = 20.0  # seconds between two ticks of the simulated clock
HOUR = 3600.0


@pytest.mark.parametrize(
    ("base", "maximum", "factor", "expected"),
    [
        (300, 3600, 2, [300, 600, 1200, 3600, 3600, 3600]),  # the default: 5, 10, 20, 60 min
        (300, 300, 2, [300] * 6),  # maximum = base: back-off off (today's fixed poll)
        (300, 100, 2, [300] * 6),  # a maximum below the base: off as well
        (300, 3600, 1, [300] * 6),  # factor 1: off
        (300, 7200, 2, [300, 600, 1200, 2400, 7200, 7200]),  # no short last step
        (300, 2400, 2, [300, 600, 1200, 2400, 2400, 2400]),  # the top reached exactly
        (60, 3600, 3, [60, 180, 540, 3600, 3600, 3600]),
        (0, 3600, 2, [0] * 6),  # polling switched off
    ],
)
def test_the_backoff_rule(base: int, maximum: int, factor: float, expected: list[int]) -> None:
    rule = Backoff(base, maximum, factor)
    assert [rule.interval(n) for n in range(6)] == expected
    assert rule.interval(10_000) == expected[-1]  # many empty polls: the top, no overflow
    assert rule.interval(-1) == expected[0]


class Clock:
    """The clock on a simulated time line; runs every pass it enqueues at once."""

    def __init__(self, world: World, start: float) -> None:
        self.world, self.now = world, start
        self.passes: list[tuple[float, str]] = []  # (simulated time, mode)

    def run(self, until: float) -> None:
        queue = self.world.services.queue
        while self.now < until:
            tick(self.world.services, self.now)
            for job in queue.get_jobs():
                if job.func_name.endswith("reconcile_shop_job"):
                    shop_id, mode = job.args
                    reconcile_started(self.world.services.redis, shop_id, mode)
                    at = dt.datetime.fromtimestamp(self.now, dt.UTC)
                    run_pass(self.world.services, self.world.reload_shop(), mode=mode, now=at)
                    self.passes.append((self.now, mode))
            queue.empty()  # the bookings a hit enqueued are not this test's business
            self.now += STEP

    def polls(self, since: float = 0.0) -> list[float]:
        return [at for at, mode in self.passes if mode == RunMode.POLL and at >= since]

    def hourly(self) -> list[float]:
        return [at for at, mode in self.passes if mode == RunMode.HOURLY]


def idle_clock(world: World, hours: int = 1) -> tuple[Clock, float]:
    """A clock that ran ``hours`` simulated hours up to the real now on an idle shop."""
    real_now = time.time()
    start = (real_now // HOUR - hours) * HOUR  # an hourly slot starts here
    clock = Clock(world, start)
    clock.run(real_now)
    return clock, start


@pytest.mark.parametrize(
    ("idle_max", "polls_per_hour"),
    [(3600, [3, 0, 0]), (300, [11, 11, 11])],  # adaptive, and the fixed poll of before
)
def test_an_idle_shop_is_polled_less_and_less(
    world: World, idle_max: int, polls_per_hour: list[int]
) -> None:
    world.services.settings = dataclasses.replace(
        world.services.settings, poll_idle_max_seconds=idle_max
    )
    start = 1_800_000_000.0  # an hourly slot starts here
    clock = Clock(world, start)
    clock.run(start + 3 * HOUR)
    assert clock.hourly() == [start, start + HOUR, start + 2 * HOUR]  # the hourly pass stays
    per_hour = [
        sum(1 for at in clock.polls() if h * HOUR <= at - start < (h + 1) * HOUR) for h in range(3)
    ]
    assert per_hour == polls_per_hour
    if idle_max == 3600:  # 5, 10, 20 minutes, then only the hourly pass
        assert [at - start for at in clock.polls()] == [300, 900, 2100]


def notification(world: World) -> None:
    app = create_app(services=world.services)
    body = json.dumps({"order_number": 8801}).encode()
    world.services.webhook_shops.forget()
    answer = app.test_client().post(
        f"/webhooks/mijnwebwinkel/{world.shop.webhook_key}",
        data=body,
        headers=signed_headers(world.webhook_secret, body),
    )
    assert answer.status_code == 202


def page_view(world: World) -> None:
    world.services.store.users.create("kijker@example.nl", password_hash(), Role.ADMIN)
    app = create_app(services=world.services)
    client = app.test_client()
    assert login(client, "kijker@example.nl").status_code == 302
    assert client.get(f"/koppelingen/{world.shop.id}").status_code == 200


def status_change(world: World) -> None:
    world.add_order(8802, status=3)
    world.sim_shop.set_status(8802, 3)


@pytest.mark.parametrize("wake", [notification, page_view, status_change], ids=lambda f: f.__name__)
def test_a_hit_brings_an_idle_shop_back_to_the_base_interval(
    world: World, wake: Callable[[World], None]
) -> None:
    clock, start = idle_clock(world)
    schedule = PollSchedule(world.services.redis, world.services.settings)
    due, empty = schedule.state(world.shop.id)
    assert empty == 3 and due is not None and due >= start + 2 * HOUR  # idle: hourly only
    woken = time.time()
    wake(world)
    awake = time.time()  # the wake read the clock somewhere in between
    clock.run(woken + 1.5 * HOUR)
    if wake is status_change:  # no poll due: the next hourly pass finds it, then polls
        woken = awake = next(at for at in clock.hourly() if at >= woken)
    # The passes after it: polls, and the hourly pass where its slot comes first (it
    # counts as the quiet shop's poll), so the real time of day cannot matter.
    first, second, *_ = sorted(at for at, _ in clock.passes if at > awake)
    assert first - awake <= 300 + STEP  # the base interval again …
    assert second - first <= 600 + STEP  # … and backing off again from there


def test_two_clocks_claim_each_due_time_once(world: World) -> None:
    one = PollSchedule(world.services.redis, world.services.settings)
    two = PollSchedule(world.services.redis, world.services.settings)
    one.sync([world.shop.id, 99], 1000.0)
    assert one.claim_due(1000.0) == sorted([world.shop.id, 99])
    assert two.claim_due(1000.0) == []  # the other clock: nothing left at this time
    assert two.claim_due(1300.0) == sorted([world.shop.id, 99])  # a base interval later
    assert one.claim_due(1300.0) == []
    one.sync([world.shop.id], 1300.0)  # shop 99 no longer books: dropped
    assert world.services.redis.zcard(DUE_KEY) == 1


def test_a_lost_redis_polls_every_shop_at_the_base_interval(world: World) -> None:
    clock, _ = idle_clock(world)
    world.services.redis.delete(DUE_KEY, EMPTY_KEY)  # the poll state lost
    lost = clock.now
    clock.run(lost + 900)
    # Polls, and the hourly pass where its slot comes first (as in the test above).
    first, second, *_ = sorted(at for at, _ in clock.passes if at >= lost)
    assert first - lost <= 300 + STEP  # the next poll slot puts every shop back …
    assert second - first <= 600 + STEP  # … with its count lost: 5 minutes, then 10
