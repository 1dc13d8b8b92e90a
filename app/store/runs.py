"""Reconcile runs: one record per pass of the reconciler over one shop, kept for
``RunStore.RETENTION`` (the pages show only each shop's latest run; the latest of each
mode is kept however old). The hourly pass prunes its shop's older ones in batches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from app.states import RunMode, RunOutcome
from app.store.db import reconcile_runs
from app.store.engine import aware, new_id, transaction, utcnow
from app.store.shops import Shop, ShopStore


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    shop_id: int
    mode: RunMode
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_ms: int | None
    outcome: RunOutcome
    seen: int
    already_booked: int
    enqueued: int
    skipped: int
    errors: int
    error: str | None


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a pass found and did."""

    seen: int = 0
    already_booked: int = 0
    enqueued: int = 0
    skipped: int = 0
    errors: int = 0


def _run(row: Any) -> Run:
    data = dict(row._mapping)
    for key in ("window_start", "window_end", "started_at", "finished_at"):
        data[key] = aware(data[key])
    data["mode"], data["outcome"] = RunMode(data["mode"]), RunOutcome(data["outcome"])
    return Run(**data)


class RunStore:
    RETENTION = dt.timedelta(days=30)
    PRUNE_BATCH = 500  # run records deleted per call (a shop makes ~300 a day at most)

    def __init__(self, engine: Engine, shops: ShopStore) -> None:
        self.engine, self.shops = engine, shops

    def start(
        self,
        shop_id: int,
        mode: RunMode,
        window_start: dt.datetime | None,
        window_end: dt.datetime | None,
    ) -> int:
        with transaction(self.engine) as conn:
            result = conn.execute(
                reconcile_runs.insert().values(
                    shop_id=shop_id,
                    mode=str(mode),
                    window_start=window_start,
                    window_end=window_end,
                    started_at=utcnow(),
                    outcome=str(RunOutcome.RUNNING),
                )
            )
            return new_id(result)

    def finish(
        self,
        run_id: int,
        *,
        outcome: RunOutcome,
        counts: RunCounts,
        error: str | None,
        duration_ms: int,
        shop: Shop | None = None,
        watermark: dt.datetime | None = None,
    ) -> None:
        """Record the pass's end; with ``watermark``, also advance ``shop``'s watermark
        in the same transaction (the next pass starts there)."""
        with transaction(self.engine) as conn:
            conn.execute(
                update(reconcile_runs)
                .where(reconcile_runs.c.id == run_id)
                .values(
                    outcome=str(outcome),
                    seen=counts.seen,
                    already_booked=counts.already_booked,
                    enqueued=counts.enqueued,
                    skipped=counts.skipped,
                    errors=counts.errors,
                    error=error,
                    duration_ms=duration_ms,
                    finished_at=utcnow(),
                )
            )
            if shop is not None and watermark is not None:
                self.shops.advance_watermark(conn, shop, watermark)

    def last(self, shop_id: int) -> Run | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(reconcile_runs)
                .where(reconcile_runs.c.shop_id == shop_id)
                .order_by(reconcile_runs.c.id.desc())
                .limit(1)
            ).first()
        return _run(row) if row else None

    def last_by_shop(self) -> dict[int, Run]:
        """The latest run of every shop (the shops list)."""
        latest = select(func.max(reconcile_runs.c.id)).group_by(reconcile_runs.c.shop_id)
        with self.engine.connect() as conn:
            rows = conn.execute(select(reconcile_runs).where(reconcile_runs.c.id.in_(latest))).all()
        return {row.shop_id: _run(row) for row in rows}

    def prune(self, shop_id: int, now: dt.datetime, limit: int = PRUNE_BATCH) -> int:
        """Delete up to ``limit`` of the shop's run records that started before
        ``now - RETENTION``, oldest first, never the latest of a mode; how many."""
        runs = reconcile_runs.c
        latest = select(func.max(runs.id)).where(runs.shop_id == shop_id).group_by(runs.mode)
        old = (
            select(runs.id)
            .where(runs.shop_id == shop_id, runs.started_at < now - self.RETENTION)
            .where(runs.id.not_in(latest))
            .order_by(runs.id)
            .limit(limit)
        )
        with transaction(self.engine) as conn:
            ids = list(conn.execute(old).scalars())
            if ids:
                conn.execute(delete(reconcile_runs).where(runs.id.in_(ids)))
        return len(ids)
