"""Reconcile run records are kept for ``RunStore.RETENTION`` (app/store/runs.py): the
hourly pass deletes its shop's older ones in batches, never the latest of a mode (the
pages show each shop's latest run)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

import worker.jobs
from app.states import RunMode, RunOutcome
from app.store.db import reconcile_runs
from app.store.engine import transaction, utcnow
from app.store.runs import RunCounts, RunStore
from tests.helpers import World

pytestmark = pytest.mark.integration

OLD = RunStore.RETENTION.days + 1
POLL, HOURLY, MANUAL = RunMode.POLL, RunMode.HOURLY, RunMode.MANUAL


def _run(world: World, mode: RunMode, days_ago: int) -> int:
    runs = world.services.store.runs
    run_id = runs.start(world.shop.id, mode, None, None)
    runs.finish(run_id, outcome=RunOutcome.OK, counts=RunCounts(), error=None, duration_ms=1)
    with transaction(world.services.store.engine) as conn:
        conn.execute(
            update(reconcile_runs)
            .where(reconcile_runs.c.id == run_id)
            .values(started_at=utcnow() - dt.timedelta(days=days_ago))
        )
    return run_id


def _kept(world: World) -> list[int]:
    with world.services.store.engine.connect() as conn:
        query = select(reconcile_runs.c.id).where(reconcile_runs.c.shop_id == world.shop.id)
        return sorted(conn.execute(query).scalars())


@pytest.mark.parametrize(
    ("runs", "kept"),
    [
        # (mode, days ago) in order of id → indexes of the runs kept
        ([(POLL, OLD), (POLL, OLD), (POLL, 1)], [2]),
        ([(POLL, OLD), (POLL, OLD)], [1]),  # the latest poll, however old
        ([(POLL, OLD), (HOURLY, OLD), (POLL, 0)], [1, 2]),  # the latest hourly too
        ([(MANUAL, OLD + 300), (POLL, OLD), (POLL, 0)], [0, 2]),
        ([(POLL, RunStore.RETENTION.days - 1), (POLL, 0)], [0, 1]),  # inside: kept
    ],
)
def test_runs_past_the_retention_go_but_the_latest_of_each_mode_stays(
    world: World, runs: list[tuple[RunMode, int]], kept: list[int]
) -> None:
    ids = [_run(world, mode, days) for mode, days in runs]
    pruned = world.services.store.runs.prune(world.shop.id, utcnow())
    assert _kept(world) == [ids[i] for i in kept]
    assert pruned == len(ids) - len(kept)
    last = world.services.store.runs.last(world.shop.id)
    assert last is not None and last.id == ids[-1]


def test_a_batch_deletes_the_oldest_first_and_no_more_than_its_limit(world: World) -> None:
    ids = [_run(world, POLL, OLD) for _ in range(5)]
    runs = world.services.store.runs
    assert runs.prune(world.shop.id, utcnow(), limit=2) == 2
    assert _kept(world) == ids[2:]
    assert runs.prune(world.shop.id, utcnow(), limit=2) == 2
    assert runs.prune(world.shop.id, utcnow(), limit=2) == 0  # the latest poll stays
    assert _kept(world) == ids[4:]


def test_another_shops_runs_are_left_alone(world: World) -> None:
    mine = _run(world, POLL, OLD)
    _run(world, POLL, 0)
    assert world.services.store.runs.prune(world.shop.id + 1, utcnow()) == 0
    assert mine in _kept(world)


def test_the_hourly_pass_prunes_its_shop(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    old = [_run(world, POLL, OLD), _run(world, HOURLY, OLD)]
    polled = worker.jobs.reconcile_shop_job(world.shop.id, str(POLL))
    assert "runs_pruned" not in polled and set(old) <= set(_kept(world))
    result = worker.jobs.reconcile_shop_job(world.shop.id, str(HOURLY))
    assert result["runs_pruned"] == 2  # both old ones: newer polls and hourlies exist now
    assert not set(old) & set(_kept(world))
