"""The upstream limits (issue 28, item 2): a 429 with ``Retry-After`` from either system
defers the booking (a retry of the system kind, never a failed order), at most
EBOEKHOUDEN_MAX_CONCURRENT calls at once per administration across workers, and the
simulators' rate limit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

import worker.jobs
from app.clients.eboekhouden_rest import clear_caches
from app.errors import AdministrationBusyError, RateLimitedError
from app.jobs.defer import MAX_DEFER_SECONDS, MIN_DEFER_SECONDS, defer_seconds
from app.jobs.queue import enqueue_booking
from app.limits import AdministrationSlots
from app.services import Services
from sandbox.ratelimit import InFlight, RateLimit
from tests.helpers import API_TOKEN, World, booking_jobs, booking_row, switch_to_rest

# -- pure parts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        (None, 30.0, 36.0),  # no hint: half a minute
        (0.0, MIN_DEFER_SECONDS, 1.2 * MIN_DEFER_SECONDS),
        (120.0, 120.0, 144.0),
        (10**9, MAX_DEFER_SECONDS, 1.2 * MAX_DEFER_SECONDS),
    ],
)
def test_a_deferral_waits_at_least_the_hint_bounded_with_a_little_jitter(
    retry_after: float | None, low: float, high: float
) -> None:
    import random

    rng = random.Random(28)
    for _ in range(50):
        assert low <= defer_seconds(retry_after, rng) <= high


@pytest.mark.parametrize(
    ("per_second", "times", "answers"),
    [
        (None, [0.1, 0.2, 0.3], [None, None, None]),  # off
        (2, [10.1, 10.2, 10.3], [None, None, 1]),  # the third in one second waits
        (2, [10.1, 10.2, 11.0, 11.5, 11.9], [None, None, None, None, 1]),
        (1, [10.0, 10.99, 12.5], [None, 1, None]),  # Retry-After at least 1 (whole seconds)
    ],
)
def test_the_simulators_rate_limit_per_key(
    per_second: float | None, times: list[float], answers: list[int | None]
) -> None:
    now = iter(times)
    limit = RateLimit(per_second, clock=lambda: next(now))
    assert [limit.admit("admin") for _ in times] == answers


def test_the_rate_limit_counts_each_key_apart() -> None:
    limit = RateLimit(1, clock=lambda: 5.5)
    assert [limit.admit(k) for k in ("a", "b", "a", "b")] == [None, None, 1, 1]
    assert limit.refused == {"a": 1, "b": 1}


def test_in_flight_remembers_the_most_at_once() -> None:
    probe = InFlight()
    with probe.open("a"), probe.open("a"), probe.open("b"):
        pass
    with probe.open("a"):
        pass
    assert probe.most == {"a": 2, "b": 1} and probe.now == {"a": 0, "b": 0}


# -- the semaphore ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def slots(services: Services, clock: Clock, limit: int = 2) -> AdministrationSlots:
    return AdministrationSlots(
        services.redis, limit, lease_seconds=60, wait_seconds=1, clock=clock, sleep=clock.sleep
    )


def test_no_more_than_the_limit_at_once_and_a_freed_slot_is_taken(world: World) -> None:
    clock = Clock()
    gate = slots(world.services, clock)
    with gate.hold("soap:a"), gate.hold("soap:a"):
        assert gate.in_use("soap:a") == 2
        with gate.hold("soap:b"):  # another administration has its own
            pass
        with pytest.raises(AdministrationBusyError) as busy, gate.hold("soap:a"):
            pass
        assert busy.value.retryable and busy.value.retry_after
        assert "Andere webwinkels" in busy.value.explanation
    assert gate.in_use("soap:a") == 0
    with gate.hold("soap:a"):
        assert gate.in_use("soap:a") == 1


def test_a_killed_workers_slot_frees_itself_when_its_lease_ends(world: World) -> None:
    clock = Clock()
    gate = slots(world.services, clock, limit=1)
    held = gate.hold("soap:a")
    held.__enter__()  # a worker SIGKILLed mid-call never leaves the block
    with pytest.raises(AdministrationBusyError), gate.hold("soap:a"):
        pass
    clock.now += 61  # its lease runs out
    with gate.hold("soap:a"):
        assert gate.in_use("soap:a") == 1


def test_a_long_read_renews_its_lease(world: World) -> None:
    clock = Clock()
    gate = slots(world.services, clock, limit=1)
    with gate.hold("soap:a") as token:
        clock.now += 50
        gate.renew("soap:a", token)
        clock.now += 50  # past the first lease, within the renewed one
        with pytest.raises(AdministrationBusyError), gate.hold("soap:a"):
            pass


# -- deferral through the queue --------------------------------------------------------


@pytest.fixture
def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)

    def run() -> None:
        SimpleWorker(
            [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
        ).work(burst=True)

    return run


@pytest.fixture(params=["mijnwebwinkel", "soap", "rest"])
def limited(request: pytest.FixtureRequest, world: World, rest_server: Any) -> Iterator[Any]:
    """Forces three 429s (Retry-After: two minutes) on the call that books (or fetches)."""
    if request.param == "mijnwebwinkel":
        yield lambda n: world.mww.faults.add(
            "http_status", operation="get_order", times=n, status=429, retry_after="120"
        )
    elif request.param == "soap":
        yield lambda n: world.eb.faults.add(
            "http_status", operation="AddMutatie", times=n, status=429, retry_after="120"
        )
    else:
        rest, thread = rest_server
        rest.reset()
        clear_caches()
        switch_to_rest(world, thread.url)
        yield lambda n: rest.faults.add(
            "http_status", operation="create_mutation", times=n, status=429, retry_after="120"
        )
        clear_caches()


def booked_count(world: World, rest_server: Any, number: int) -> int:
    if world.shop.credentials.eb_api == "rest":
        rest, _ = rest_server
        return sum(m.get("invoiceNumber") == str(number) for m in rest.mutations(API_TOKEN))
    return len(world.mutations_for(number))


def test_a_rate_limited_booking_is_deferred_never_failed_and_books_once(
    world: World, limited: Any, rest_server: Any, run_jobs: Callable[[], None]
) -> None:
    world.add_order(7001)
    limited(3)
    enqueue_booking(world.services.queue, world.shop.id, "7001", source="webhook")
    scheduled = ScheduledJobRegistry(queue=world.services.queue)
    deferred = 0
    for _ in range(5):
        before = dt.datetime.now(dt.UTC)
        run_jobs()
        row = world.services.store.bookings.get(world.shop.id, "7001")
        assert row is None or row.state in ("retrying", "booked")  # never "failed"
        if row is not None and row.state == "retrying":
            assert "We proberen" not in (row.reason or "")  # a wait, not an error
        ids = scheduled.get_job_ids()
        if not ids:
            break
        [job_id] = ids
        assert scheduled.get_scheduled_time(job_id) >= before + dt.timedelta(seconds=119)
        deferred += 1
        scheduled.requeue(job_id)  # the two minutes are over
    assert deferred == 3
    assert booking_row(world, 7001).state == "booked"
    assert booked_count(world, rest_server, 7001) == 1
    jobs = booking_jobs(world.services.queue, world.shop.id, "7001")
    statuses = [job.return_value()["status"] for job in jobs]
    assert statuses == ["deferred", "deferred", "deferred", "booked"]
    assert [job.meta.get("deferrals", 0) for job in jobs] == [0, 1, 2, 3]
    assert world.services.queue.failed_job_registry.count == 0


def test_when_no_call_slot_comes_free_the_booking_waits_and_books_later(
    world: World, run_jobs: Callable[[], None]
) -> None:
    world.add_order(7002)
    admin = world.shop.credentials.administration_key
    world.services.slots = AdministrationSlots(
        world.services.redis, 1, lease_seconds=60, wait_seconds=0
    )
    world.services._bookkeepers.clear()
    blocker = world.services.slots.hold(admin)
    blocker.__enter__()  # another worker holds the only slot
    enqueue_booking(world.services.queue, world.shop.id, "7002", source="webhook")
    run_jobs()
    assert booking_row(world, 7002).state == "retrying"
    scheduled = ScheduledJobRegistry(queue=world.services.queue)
    [job_id] = scheduled.get_job_ids()
    blocker.__exit__(None, None, None)
    scheduled.requeue(job_id)
    run_jobs()
    assert booking_row(world, 7002).state == "booked"
    assert len(world.mutations_for(7002)) == 1


# -- across workers --------------------------------------------------------------------


def test_two_workers_on_one_administration_never_exceed_the_limit(
    world: World, rest_server: Any
) -> None:
    """Workers (threads, each with its own Redis connections and Services) book orders of
    one administration at once, some the same order; the REST simulator counts the calls
    it has open per administration at once. Every order is booked once."""
    from app.booking.pipeline import book_order

    rest, thread = rest_server
    rest.reset()
    clear_caches()
    switch_to_rest(world, thread.url)
    rest.faults.latency = 0.02  # every call takes a while: they overlap
    numbers = list(range(7100, 7112))
    for number in numbers:
        world.add_order(number)
    pool = world.services.redis.connection_pool  # each worker its own connections
    kw = pool.connection_kwargs

    def own_services() -> Services:
        return Services(
            settings=dataclasses.replace(world.settings, eboekhouden_max_concurrent=2),
            engine=world.services.engine,
            redis=Redis(connection_pool=type(pool)(connection_class=pool.connection_class, **kw)),
            vault=world.services.vault,
            queue=world.services.queue,
            shop_api_factory=world.services.shop_api_factory,
            bookkeeping_factory=world.services.bookkeeping_factory,
        )

    errors: list[BaseException] = []
    start = threading.Event()

    def work(services: Services, mine: list[int]) -> None:
        start.wait()
        try:
            for number in mine:
                for _ in range(100):  # deferred: the job would run again later
                    try:
                        book_order(services, world.shop, str(number))
                        break
                    except RateLimitedError:
                        continue
        except BaseException as err:
            errors.append(err)
        finally:
            services.close()

    shares = [numbers[0::2], numbers[1::2], numbers[::-3]]  # the third doubles some
    workers = [threading.Thread(target=work, args=(own_services(), s)) for s in shares]
    for t in workers:
        t.start()
    start.set()
    for t in workers:
        t.join()
    rest.faults.latency = 0.0
    assert errors == []
    most = rest.state()["most_in_flight"]
    assert most and max(most.values()) <= 2  # never more at once than the limit
    invoices = sorted(str(m.get("invoiceNumber")) for m in rest.mutations(API_TOKEN))
    assert invoices == sorted(str(n) for n in numbers)
    clear_caches()
