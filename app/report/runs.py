"""The period report off the web request: a job with live progress (as Inhalen), and the
finished reports cached per shop, period and data version.

- ``key``: a report is the same while the shop's bookings, payments, booked rows and
  settings are (``ReportStore.data_version``); anything booked since gives a new key.
- ``cached`` / ``latest``: the result under this key, or the newest one of this period
  (shown as "verouderd" while a fresh one is made or until a person asks for one).
- ``start``: enqueue the job (on the reports queue, which the workers take after the
  bookings queue) unless one for this key is waiting or running; ``run`` is the job.
- ``inline``: a month without e-Boekhouden may be built by the page itself, within
  ``REPORT_INLINE_SECONDS``; past that it becomes a job.
- The bookkeeper's "akkoord" marks are not part of the result: ``with_accords`` puts them
  on the differences when the report is shown or downloaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from typing import Any

from app.config import (
    REPORT_CACHE_TTL,
    REPORT_INLINE_SECONDS,
    REPORT_JOB_TIMEOUT,
    REPORT_PROGRESS_TTL,
)
from app.errors import ConnectorError
from app.jobs.queue import enqueue_report, report_queue
from app.report.build import TooSlowError, build_report
from app.report.model import Accord, Report
from app.report.period import Period
from app.report.restore import from_dict
from app.report.serial import to_dict
from app.services import Services
from app.store.shops import Shop

QUEUED, RUNNING, DONE, FAILED = "wachtrij", "bezig", "klaar", "mislukt"
STAGES = {"winkel": "Bestellingen van de winkel lezen", "boekhouding": "e-Boekhouden uitlezen"}
WRITE_EVERY = 0.5  # seconds between progress writes of a running job


def key(services: Services, shop: Shop, period: Period, books: bool) -> str:
    raw = json.dumps(
        [
            shop.id,
            shop.name,
            shop.mapping.to_json(),
            shop.credentials.administration_key if books else "",
            period.start.isoformat(),
            period.end.isoformat(),
            books,
            services.store.reports.data_version(shop.id),
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _result_key(shop_id: int, report_key: str) -> str:
    return f"mww:report:{shop_id}:{report_key}"


def _latest_key(shop_id: int, period: Period, books: bool) -> str:
    return f"mww:report-latest:{shop_id}:{period.key}:{int(books)}"


def _progress_key(shop_id: int, report_key: str) -> str:
    return f"mww:report-progress:{shop_id}:{report_key}"


def cached(services: Services, shop_id: int, report_key: str) -> Report | None:
    raw = services.redis.get(_result_key(shop_id, report_key))
    return from_dict(json.loads(raw)) if raw else None


def latest(services: Services, shop_id: int, period: Period, books: bool) -> Report | None:
    """The newest finished report of this period (possibly of older data)."""
    pointer = services.redis.get(_latest_key(shop_id, period, books))
    if not pointer:
        return None
    return cached(services, shop_id, pointer.decode() if isinstance(pointer, bytes) else pointer)


def _keep(services: Services, shop_id: int, report_key: str, books: bool, report: Report) -> None:
    pipe = services.redis.pipeline()
    pipe.set(_result_key(shop_id, report_key), json.dumps(to_dict(report)), ex=REPORT_CACHE_TTL)
    pipe.set(_latest_key(shop_id, report.period, books), report_key, ex=REPORT_CACHE_TTL)
    pipe.execute()


def forget(services: Services, shop_id: int, report_key: str) -> None:
    """Drop the result under this key (a person asked for a fresh one); a job that runs
    for it keeps running."""
    services.redis.delete(_result_key(shop_id, report_key))


def progress(services: Services, shop_id: int, report_key: str) -> dict[str, Any] | None:
    raw = services.redis.get(_progress_key(shop_id, report_key))
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    data["stage_label"] = STAGES.get(data.get("stage", ""), "Voorbereiden")
    data["finished"] = data.get("state") in (DONE, FAILED)
    total, done = data.get("total"), int(data.get("done") or 0)
    # (the books may hold more than the connector booked: never 100 % before the end)
    data["percent"] = 100 if data["finished"] else (min(99, 100 * done // total) if total else None)
    return data


def _save(services: Services, shop_id: int, report_key: str, **values: Any) -> None:
    target = _progress_key(shop_id, report_key)
    raw = services.redis.get(target)
    data = json.loads(raw) if raw else {}
    data.update(values, updated_at=time.time())
    services.redis.set(target, json.dumps(data), ex=REPORT_PROGRESS_TTL)


def busy(services: Services, shop_id: int, report_key: str) -> bool:
    """A job for this key waits or runs (one older than the job timeout is dead)."""
    current = progress(services, shop_id, report_key)
    if current is None or current["finished"]:
        return False
    return time.time() - float(current.get("updated_at") or 0) < REPORT_JOB_TIMEOUT


def start(services: Services, shop: Shop, period: Period, books: bool, report_key: str) -> bool:
    """Enqueue the report job; False when one for this key is waiting or running."""
    if busy(services, shop.id, report_key):
        return False
    services.redis.delete(_progress_key(shop.id, report_key))
    _save(services, shop.id, report_key, state=QUEUED, period=period.key, books=books, error="")
    queue = report_queue(services.redis, services.settings.queue_name)
    enqueue_report(queue, shop.id, period.key, books, report_key)
    return True


def run(services: Services, shop: Shop, period: Period, books: bool, report_key: str) -> str:
    """The job: build, keep the result, say so. A Mijnwebwinkel that cannot be read
    fails the run with its Dutch explanation (the page offers to try again)."""
    _save(services, shop.id, report_key, state=RUNNING, stage="winkel", done=0, total=None)
    last = [0.0]

    def tell(stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] >= WRITE_EVERY or (total is not None and done >= total):
            last[0] = now
            _save(services, shop.id, report_key, stage=stage, done=done, total=total)

    try:
        report = build_report(services, shop, period, books=books, progress=tell)
    except ConnectorError as err:
        _save(services, shop.id, report_key, state=FAILED, error=_unreadable(err))
        return FAILED
    except Exception:
        _save(
            services,
            shop.id,
            report_key,
            state=FAILED,
            error="Er ging iets mis; probeer het opnieuw.",
        )
        raise
    _keep(services, shop.id, report_key, books, report)
    _save(services, shop.id, report_key, state=DONE)
    return DONE


def inline(services: Services, shop: Shop, period: Period, report_key: str) -> Report | None:
    """A month without e-Boekhouden, built by the page itself within the time it may
    take; None when that was too slow (the job then makes it)."""
    deadline = time.monotonic() + REPORT_INLINE_SECONDS
    try:
        report = build_report(services, shop, period, deadline=deadline)
    except TooSlowError:
        start(services, shop, period, False, report_key)
        return None
    _keep(services, shop.id, report_key, False, report)
    return report


def _unreadable(err: ConnectorError) -> str:
    return f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}"


def with_accords(services: Services, report: Report) -> Report:
    """The report with the bookkeeper's akkoord marks on its differences."""
    marks = {
        (a.kind, a.invoice_number, a.mutation_number): Accord(
            a.note, a.by_email, a.at, a.difference
        )
        for a in services.store.reports.accords(report.shop_id)
    }
    books = report.books
    for name in ("missing", "changed", "unknown"):
        diffs = getattr(books, name)
        setattr(books, name, [dataclasses.replace(d, accord=marks.get(d.key)) for d in diffs])
    return report
