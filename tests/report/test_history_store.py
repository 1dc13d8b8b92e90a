"""The stored rows, attempts and alert preferences on both backends (SQLite and
PostgreSQL): what the report, the booking page, the charts and the alerts read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.booking.pipeline import book_order
from app.states import BookingState, Role
from app.store.alerts import AlertPref
from tests.helpers import World, warm_up_bookkeeping


def test_rows_attempts_and_alert_prefs(world: World) -> None:
    warm_up_bookkeeping(world)
    day = dt.date(2026, 10, 5)
    world.add_order(6101, kind="mixed_rates", date=day)
    world.add_order(6102, kind="oss", date=day)
    assert book_order(world.services, world.shop, "6101").status == "booked"
    assert book_order(world.services, world.shop, "6102").status == "failed"
    book_order(world.services, world.shop, "6102")  # the same failure again: not new
    history, bookings = world.services.store.history, world.services.store.bookings
    booked, failed = bookings.get(world.shop.id, "6101"), bookings.get(world.shop.id, "6102")
    assert booked is not None and failed is not None

    rows = history.rows(booked.id)
    [mutation] = world.mutations_for(6101)
    assert {r.mutation_number for r in rows} == {mutation["MutatieNr"]}
    assert (
        sum(r.incl for r in rows)
        == booked.total
        == Decimal(str(sum(Decimal(str(x["BedragInclBTW"])) for x in mutation["MutatieRegels"])))
    )
    assert all(r.excl + r.vat == r.incl and r.invoice_number == "6101" for r in rows)
    assert [a.outcome for a in history.attempts(booked.id)] == ["booked"]
    # One attempt, with its reason (the repeat told nothing new).
    [attempt] = history.attempts(failed.id)
    assert attempt.outcome == "failed" and "OSS" in (attempt.reason or "")

    period = history.period_rows(world.shop.id, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert {p.order_number for p in period} == {"6101"}
    assert history.period_rows(world.shop.id, dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == []
    turnover = history.turnover_by_day(world.shop.id, day, day)
    assert sum(t[2] for t in turnover) == sum(r.excl for r in rows)
    states = history.order_states(world.shop.id, ["6101", "6102", "6199"])
    assert states["6101"].state == BookingState.BOOKED and "6199" not in states
    assert [f.order_number for f in history.failures_after(world.shop.id, 0)] == ["6102"]
    assert history.failures_after(world.shop.id, 10**9) == []

    users, alerts = world.services.store.users, world.services.store.alerts
    a = users.create("a@example.nl", "x", shop_ids=(world.shop.id,))
    b = users.create("b@example.nl", "x", role=Role.ADMIN)  # an administrator sees every shop
    c = users.create("c@example.nl", "x")  # opted in, owns nothing: never a recipient
    alerts.save_prefs(c, [AlertPref(None, True, True)])
    alerts.save_prefs(a, [AlertPref(None, True, False)])
    alerts.save_prefs(b, [AlertPref(world.shop.id, True, True), AlertPref(None, False, False)])
    assert alerts.recipients(world.shop.id, "digest") == ["a@example.nl", "b@example.nl"]
    assert alerts.recipients(world.shop.id, "credentials") == ["b@example.nl"]
    assert alerts.prefs(b) == {world.shop.id: AlertPref(world.shop.id, True, True)}
    assert alerts.mark(world.shop.id, "digest").reported_upto == 0
    alerts.set_mark(world.shop.id, "digest", reported_upto=7)
    alerts.set_mark(world.shop.id, "digest", reported_upto=9)
    assert alerts.mark(world.shop.id, "digest").reported_upto == 9
