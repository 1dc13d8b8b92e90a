"""Issue 25's findings, each as it was seen, on both backends against the simulators:
payments missing from the report, an unsigned credit order flagged "gewijzigd", cash mode
in the wrong month, "Aantal" that does not add up, foreign OSS VAT counted as turnover.
Each of these failed before the issue's change."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from app.booking.pipeline import book_order
from app.core.mapping_settings import DEFAULT_RULES, OMZET, OSS_VAT, MappingSettings, TaxRule
from app.errors import UpstreamUnavailableError
from app.report.build import build_report
from app.report.period import parse_period
from app.states import BookingMode
from sandbox.order_factory import make_order
from tests.helpers import EB_USER, World

pytestmark = pytest.mark.slow
LEDGERS = {"ideal": "1010", "in_arrears": "1100"}


def use(world: World, **settings: Any) -> None:
    world.services.store.shops.save_mapping(world.shop.id, MappingSettings(**settings))
    world.reload_shop()


def book(world: World, number: int) -> str:
    for _ in range(4):
        try:
            return str(book_order(world.services, world.shop, str(number)).status)
        except UpstreamUnavailableError:
            continue
    raise AssertionError(number)


def paid_order(
    world: World, number: int, day: dt.datetime, kind: str = "domestic"
) -> dict[str, Any]:
    """Shipped, its money still to come (``world.sim_shop.pay`` captures it)."""
    order = make_order(number, kind=kind, date=day, status=2)
    order["payment"] = {"method_name": "ideal", "status": {"id": 5, "text": "Pending"}}
    order["payment_status"] = "pending"
    world.sim_shop.add_order(order)
    return order


def test_payments_are_in_the_report(world: World) -> None:
    """ "Totaal betalingen 0,00" while the receipts were booked."""
    use(world, booking_mode=BookingMode.INVOICE_AND_PAYMENT, payment_ledgers=LEDGERS)
    for number in (7101, 7102, 7103):
        day = dt.datetime(2026, 10, number - 7100, 10)
        paid_order(world, number, day)
        world.sim_shop.pay(number, "capture", at=day + dt.timedelta(hours=1))
        assert book(world, number) == "booked"
    booked = [m for m in world.mutations() if m["Soort"] == "FactuurbetalingOntvangen"]
    assert len(booked) == 3
    report = build_report(world.services, world.shop, parse_period("2026-10"))
    total = report.total("betalingen")
    assert total.incl == sum(Decimal(str(m["MutatieRegels"][0]["BedragInclBTW"])) for m in booked)
    assert total.incl > 0 and total.orders == 3


def test_an_unsigned_credit_order_is_not_changed_after_booking(world: World) -> None:
    original = make_order(7201, date=dt.datetime(2026, 10, 1, 10))
    world.sim_shop.add_order(original)
    credit = make_order(7202, kind="credit", credited=original, date=dt.datetime(2026, 10, 3, 10))
    unsigned = _unsigned(credit)  # the shop sends a credit order with positive amounts
    world.sim_shop.add_order(unsigned)
    assert book(world, 7201) == "booked" and book(world, 7202) == "booked"
    report = build_report(world.services, world.shop, parse_period("2026-10"))
    assert report.total("creditnota's").incl == -Decimal(unsigned["price"]["total"])
    assert report.changed == []


def test_cash_mode_goes_by_payment_date(world: World) -> None:
    """Placed on 30-09, paid in October: October's, and not a loose end in September."""
    use(world, booking_mode=BookingMode.CASH, payment_ledgers=LEDGERS)
    day = dt.datetime(2026, 9, 30, 15)
    paid_order(world, 7301, day)
    world.sim_shop.pay(7301, "capture", at=dt.datetime(2026, 10, 2, 9))
    assert book(world, 7301) == "booked"
    september = build_report(world.services, world.shop, parse_period("2026-09"), books=True)
    october = build_report(world.services, world.shop, parse_period("2026-10"), books=True)
    assert september.shop_orders == 0 and september.in_order
    assert (october.shop_orders, october.not_in_shop, october.not_booked) == (1, [], [])
    assert october.total("verkopen").orders == 1 and october.in_order
    [money] = october.section_lines("betalingen")
    assert money.ledger == "1010" and money.incl == october.total("verkopen").incl
    # The books agree: the GeldOntvangen is October's there too, on the payment's ledger.
    for report, read in ((september, 0), (october, 1)):
        books = report.books
        assert books.checked and books.read == read and books.open_count == 0
    assert october.received == money.incl and october.vat_return.source == "boeken"
    assert october.vat_return.rubrieken["1a"].vat == october.total("verkopen").vat


def test_cash_mode_an_order_waiting_for_its_money_needs_no_action(world: World) -> None:
    use(world, booking_mode=BookingMode.CASH, payment_ledgers=LEDGERS)
    paid_order(world, 7311, dt.datetime(2026, 10, 5, 15))
    assert book(world, 7311) == "waiting_for_payment"
    report = build_report(world.services, world.shop, parse_period("2026-10"))
    [waiting] = report.not_booked
    assert waiting.state == "wacht op betaling" and not waiting.needs_action and report.in_order


def test_aantal_counts_orders_once_and_adds_up(world: World) -> None:
    for number in (7401, 7402):  # 21 %, 9 % (and shipping) lines: several per order
        world.add_order(number, kind="mixed_rates", date=dt.date(2026, 10, 7))
        assert book(world, number) == "booked"
    report = build_report(world.services, world.shop, parse_period("2026-10"))
    lines = report.section_lines("verkopen")
    assert len(lines) > 2
    assert sum(line.orders for line in lines) == report.total("verkopen").orders == 2
    codes = report.by_vat_code("verkopen")
    assert sum(t.orders for t in codes.values()) == 2


def test_foreign_oss_vat_is_not_turnover(world: World) -> None:
    world.eb.add_ledger(EB_USER, "8401", "Omzet OSS DE", "VW")
    world.eb.add_ledger(EB_USER, "1641", "Te betalen OSS-btw DE", "BAL")
    rules = [
        TaxRule(f"oss:DE:{rate}", "AFST_VERK", {OMZET: "8401", OSS_VAT: "1641"})
        for rate in ("19", "7", "0")
    ]
    use(world, rules=(*DEFAULT_RULES, *rules))
    order = make_order(7501, kind="oss", seed=8, date=dt.date(2026, 10, 9))  # DE, 19 % and 7 %
    assert order["tax_region"] == "DE"
    world.sim_shop.add_order(order)
    assert book(world, 7501) == "booked"
    report = build_report(world.services, world.shop, parse_period("2026-10"))
    sales, foreign = report.total("verkopen"), report.total("oss-btw")
    assert foreign.incl > 0 and [x.ledger for x in report.section_lines("oss-btw")] == ["1641"]
    assert sales.excl + foreign.incl == Decimal(str(order["price"]["total"]))  # VAT apart
    oss = report.vat_return.oss
    assert [(o.country, o.rate) for o in oss] == [("DE", Decimal(7)), ("DE", Decimal(19))]
    assert sum(o.vat for o in oss) == foreign.incl and sum(o.turnover for o in oss) == sales.excl
    assert report.vat_return.rubrieken["3c"].turnover == sales.excl


def _unsigned(order: dict[str, Any]) -> dict[str, Any]:
    flipped = copy.deepcopy(order)

    def positive(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: positive(v) for k, v in value.items()}
        if isinstance(value, list):
            return [positive(v) for v in value]
        if isinstance(value, str) and value.startswith("-") and value[1:2].isdigit():
            return value[1:]
        return value

    flipped["orderlines"] = positive(flipped["orderlines"])
    flipped["price"] = positive(flipped["price"])
    return flipped
