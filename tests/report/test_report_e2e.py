"""Issue 17, done-when: 500 orders over three months on the simulators, credit notes and
one order changed after booking. The report's totals per VAT code equal the e-Boekhouden
simulator's books for each month to the cent, and the changed order is listed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from app.booking.pipeline import book_order
from app.errors import UpstreamUnavailableError
from app.report.build import build_report
from app.report.formats import csv_table, to_csv, to_json
from app.report.model import CREDITS, OSS_VAT, PAYMENTS, SALES
from app.report.period import parse_period
from sandbox.order_factory import make_orders
from tests.helpers import World

pytestmark = pytest.mark.slow


def _books_by_month(world: World) -> dict[str, dict[tuple[str, str], Decimal]]:
    """The simulator's own state: per month, per (invoice|payment, BTW code), the sum of
    excl, VAT and incl of every MutatieRegel."""
    books: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for mutation in world.mutations():
        day = mutation["Datum"]
        month = f"{day.year}-{day.month:02d}"
        kind = "payment" if mutation["Soort"] == "FactuurbetalingOntvangen" else "invoice"
        for row in mutation["MutatieRegels"] or []:
            code = row["BTWCode"]
            books[month][(kind, code, "excl")] += Decimal(str(row["BedragExclBTW"]))
            books[month][(kind, code, "vat")] += Decimal(str(row["BedragBTW"]))
            books[month][(kind, code, "incl")] += Decimal(str(row["BedragInclBTW"]))
    return books


def _report_by_month(report: Any) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for section, kind in (
        (SALES, "invoice"),
        (CREDITS, "invoice"),
        (OSS_VAT, "invoice"),
        (PAYMENTS, "payment"),
    ):
        for code, total in report.by_vat_code(section).items():
            out[(kind, code, "excl")] += total.excl
            out[(kind, code, "vat")] += total.vat
            out[(kind, code, "incl")] += total.incl
    return out


def _book(world: World, number: str) -> str:
    """As the worker does: a transient error (a slow shared machine) is tried again."""
    for _ in range(4):
        try:
            return book_order(world.services, world.shop, number).status
        except UpstreamUnavailableError:
            continue
    raise AssertionError(f"order {number} could not be booked")


def test_report_matches_the_books_per_month(embedded_world: World) -> None:
    world = embedded_world
    orders = make_orders(500, seed=17, start=dt.datetime(2026, 7, 1, 8, 0))
    for order in orders:
        world.sim_shop.add_order(order)
    outcomes = defaultdict(int)
    for order in orders:
        outcomes[_book(world, str(order["number"]))] += 1
    assert outcomes["booked"] > 300
    assert any(o.get("credited_order_number") for o in orders), "credit notes in the mix"

    # One booked order changes afterwards in the shop (a line price corrected).
    changed = next(
        o
        for o in orders
        if o["status"] == 3
        and not o.get("credit_order_numbers")
        and world.services.store.bookings.get(world.shop.id, str(o["number"]))
    )
    stored = world.sim_shop.orders[str(changed["number"])]
    stored["price"]["total"] = f"{Decimal(stored['price']['total']) + Decimal('10.00'):.2f}"

    books = _books_by_month(world)
    months = sorted(
        {
            d.strftime("%Y-%m")
            for d in (dt.datetime.fromisoformat(str(o["date"])[:10]) for o in orders)
        }
    )
    assert len(months) >= 3
    changed_month = str(changed["date"])[:7]
    for month in months:
        world.mww.calls.clear()
        report = build_report(world.services, world.shop, parse_period(month))
        # One listing pass: pages of 100 until a short one, and no call per order.
        in_month = sum(1 for o in orders if str(o["date"])[:7] == month)
        assert [op for op, _args in world.mww.calls] == ["list_orders"] * (in_month // 100 + 1)
        mine = {k: v for k, v in _report_by_month(report).items() if v}
        theirs = {k: v for k, v in books[month].items() if v}
        assert mine == theirs, month
        # The totals equal the sum of the lines, to the cent.
        for section in (SALES, CREDITS, PAYMENTS, OSS_VAT):
            lines = report.section_lines(section)
            assert report.total(section).incl == sum((x.incl for x in lines), Decimal(0))
            assert all(x.excl + x.vat == x.incl for x in lines)
        assert report.doubles == []
        listed = [f.number for f in report.changed]
        if month == changed_month:
            assert str(changed["number"]) in listed
            finding = next(f for f in report.changed if f.number == str(changed["number"]))
            assert finding.current == finding.booked + Decimal("10.00")
        else:
            assert str(changed["number"]) not in listed
        # Every order of the month the connector did not book is listed with a reason
        # (test orders are never booked, never recorded and not in the report).
        not_booked = {f.number for f in report.not_booked}
        for order in orders:
            if (
                str(order["date"])[:7] == month
                and not str(order["number"]).upper().startswith("T-")
                and not world.services.store.bookings.get(world.shop.id, str(order["number"]))
            ):
                assert str(order["number"]) in not_booked
        assert all(f.reason for f in report.not_booked)
    quarter = build_report(world.services, world.shop, parse_period("2026-Q3"))
    assert '"shop_orders"' in to_json(quarter)
    table = csv_table(quarter, "aansluiting")
    assert table is not None and ";" in to_csv(table).splitlines()[1]
