"""A backfill whose worker died counts as failed within its lease (issue 26): the probe
found that a backfill whose worker was killed blocked every new backfill of the shop for
seven days (its progress said "bezig" until the key expired)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

import app.booking.backfill as backfill
from app.config import BACKFILL_LEASE_SECONDS
from tests.helpers import World


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the job's own error handling runs."""


def the_job(world: World) -> Job:
    [job_id] = world.services.queue.get_job_ids()
    return Job.fetch(job_id, connection=world.services.redis, serializer=JSONSerializer)


def test_a_backfill_killed_mid_pass_stops_blocking_after_its_lease(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = dt.date(2026, 11, 1)
    assert backfill.start(world.services, world.shop, since)
    assert backfill.progress(world.services, world.shop.id)["state"] == backfill.QUEUED
    assert not backfill.start(world.services, world.shop, since)  # waiting: one at a time

    # A worker takes the job (RQ marks it started) and is killed in the middle of the pass.
    job = the_job(world)
    world.services.queue.remove(job)
    job.set_status(JobStatus.STARTED)

    def killed(*_: Any, **__: Any) -> Any:
        raise Killed

    api = world.services.shop_api(world.shop)
    monkeypatch.setattr(type(api), "iter_orders_by_date", killed)
    with pytest.raises(Killed):
        backfill.run(world.services, world.shop, since)
    monkeypatch.undo()
    assert backfill.progress(world.services, world.shop.id)["state"] == backfill.RUNNING
    assert not backfill.start(world.services, world.shop, since)  # inside its lease

    now = backfill.wall_clock()
    monkeypatch.setattr(backfill, "wall_clock", lambda: now + BACKFILL_LEASE_SECONDS + 1)
    shown = backfill.progress(world.services, world.shop.id)
    assert shown["state"] == backfill.FAILED and shown["finished"]
    assert "onderbroken" in shown["error"] and "opnieuw" in shown["error"]
    assert backfill.start(world.services, world.shop, since)  # a new one may start


def test_a_backfill_job_that_ended_without_a_word_does_not_block(world: World) -> None:
    """Its job finished (or failed, or RQ lost it) but the progress still says waiting:
    e.g. the shop could not be read, so the job returned before the pass."""
    since = dt.date(2026, 11, 1)
    assert backfill.start(world.services, world.shop, since)
    job = the_job(world)
    job.delete()  # gone from RQ: expired, deleted, or lost with Redis
    shown = backfill.progress(world.services, world.shop.id)
    assert shown["state"] == backfill.FAILED
    assert backfill.start(world.services, world.shop, since)
