"""The RQ path end to end: notification → queue → worker → booked, with retries, and a
worker process killed with SIGKILL between AddMutatie and the ledger write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from rq import SimpleWorker
from rq.job import JobStatus
from rq.serializers import JSONSerializer

import worker.jobs
from app import create_app
from app.jobs.queue import enqueue_booking
from tests.helpers import (
    EB_USER,
    SERVICES_AVAILABLE,
    World,
    booking_jobs,
    booking_row,
    expire_lease,
    signed_headers,
)


@pytest.fixture
def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)

    def run() -> None:
        SimpleWorker(
            [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
        ).work(burst=True)

    return run


def test_notification_to_booking_through_the_queue(world: World, run_jobs) -> None:  # type: ignore[no-untyped-def]
    world.add_order(6001)
    app = create_app(services=world.services)
    body = json.dumps({"order_number": 6001}).encode()
    response = app.test_client().post(
        f"/webhooks/mijnwebwinkel/{world.shop.webhook_key}",
        data=body,
        headers=signed_headers(world.webhook_secret, body),
    )
    assert response.status_code == 202
    run_jobs()
    assert booking_row(world, 6001).state == "booked"
    [job] = booking_jobs(world.services.queue, world.shop.id, "6001")
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value()["status"] == "booked"


def test_webhook_and_reconciler_enqueue_of_one_order_book_once(world: World, run_jobs) -> None:  # type: ignore[no-untyped-def]
    world.add_order(6002)
    enqueue_booking(world.services.queue, world.shop.id, "6002", source="webhook")
    run_jobs()
    enqueue_booking(world.services.queue, world.shop.id, "6002", source="hourly")
    run_jobs()
    assert len(world.mutations_for(6002)) == 1


def test_transient_failures_are_retried_until_booked(
    world: World,
    run_jobs,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.jobs.queue.BOOKING_RETRY_INTERVALS", [0, 0, 0, 0])
    world.add_order(6003)
    world.eb.faults.add("http_status", operation="AddMutatie", times=2, status=503)
    enqueue_booking(world.services.queue, world.shop.id, "6003", source="webhook")
    run_jobs()
    assert booking_row(world, 6003).state == "booked"
    assert len(world.mutations_for(6003)) == 1
    assert world.eb.calls["AddMutatie"] == 3


def test_permanent_error_is_recorded_once_and_not_retried(
    world: World,
    run_jobs,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.jobs.queue.BOOKING_RETRY_INTERVALS", [0, 0, 0, 0])
    world.add_order(6004)
    world.eb.faults.add("soap_fault", operation="AddMutatie", times=5, code="Client")
    enqueue_booking(world.services.queue, world.shop.id, "6004", source="webhook")
    run_jobs()
    row = booking_row(world, 6004)
    assert row.state == "failed" and row.attempts == 1 and row.reason
    assert world.eb.calls["AddMutatie"] == 1
    [job] = booking_jobs(world.services.queue, world.shop.id, "6004")
    assert job.get_status() == JobStatus.FINISHED  # handled, not an RQ failure


KILLER = textwrap.dedent("""
    import os, signal, sys
    from app.store.bookings import BookingStore
    import worker.jobs

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    BookingStore.mark_booked = die
    worker.jobs.book_order_job(int(sys.argv[1]), sys.argv[2])
""")


@pytest.mark.skipif(not SERVICES_AVAILABLE, reason="needs the local PostgreSQL and Redis")
def test_worker_killed_between_add_mutatie_and_ledger_write(world: World) -> None:
    if not world.settings.database_url.startswith("postgresql"):
        pytest.skip("a second process needs the shared PostgreSQL and Redis")
    world.add_order(6005)
    conn_kwargs = world.services.redis.connection_pool.connection_kwargs
    env = {
        **os.environ,
        "DATABASE_URL": world.settings.database_url,
        "REDIS_URL": f"redis://{conn_kwargs['host']}:{conn_kwargs['port']}/{conn_kwargs['db']}",
        "ENCRYPTION_KEY": world.settings.encryption_key,
        "MIJNWEBWINKEL_API_URL": world.mww_url,
        "EBOEKHOUDEN_SOAP_URL": world.settings.eboekhouden_soap_url,
    }
    process = subprocess.run(
        [sys.executable, "-c", KILLER, str(world.shop.id), "6005"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert process.returncode == -9, process.stderr.decode()[-2000:]
    assert len(world.mutations_for(6005)) == 1
    assert booking_row(world, 6005).state == "posting"
    # The restarted worker finds the claim expired, looks the order up, and records it.
    expire_lease(world, 6005)
    assert worker.jobs.book_order(world.services, world.shop, "6005").status == "booked"
    assert len(world.mutations_for(6005)) == 1
    assert booking_row(world, 6005).mutation_number == world.mutations_for(6005)[0]["MutatieNr"]
    assert world.eb.admin_calls(EB_USER)["GetMutaties"] == 1
    assert world.services.store.bookings.counts(world.shop.id)["booked"] == 1


def test_the_same_notification_twenty_times_at_once_books_once(world: World, run_jobs) -> None:  # type: ignore[no-untyped-def]
    import threading

    world.add_order(6010)
    app = create_app(services=world.services)
    body = json.dumps({"order_number": 6010}).encode()
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(
            client.post(
                f"/webhooks/mijnwebwinkel/{world.shop.webhook_key}",
                data=body,
                headers=signed_headers(world.webhook_secret, body),
            ).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 20
    run_jobs()
    assert len(world.mutations_for(6010)) == 1
    assert booking_row(world, 6010).state == "booked"
