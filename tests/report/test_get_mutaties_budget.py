"""GetMutaties is capped at 5,000 calls a month per e-Boekhouden administration (SOAP):
the count per administration and month (Redis, both backends), the recovery look-ups of
invoices and payments counting against it, shops on one administration sharing it, and
the period report reading the books only while enough is left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.booking.pipeline import book_order
from app.config import GET_MUTATIES_MONTHLY_LIMIT, GET_MUTATIES_RESERVE
from app.core.mapping_settings import MappingSettings
from app.errors import UpstreamUnavailableError
from app.fastpaths import GetMutatiesBudget
from app.report.build import build_report
from app.report.period import parse_period
from app.states import BookingMode, ShopStatus
from app.store.shops import Credentials
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, MWW_TOKEN, Backend, World


def test_counted_per_administration_and_calendar_month(backend: Backend) -> None:
    now = [dt.datetime(2026, 10, 31, 22, 30, tzinfo=dt.UTC)]  # 23:30 in Amsterdam
    budget = GetMutatiesBudget(backend.redis, clock=lambda: now[0])
    assert budget.remaining("soap:a") == GET_MUTATIES_MONTHLY_LIMIT
    assert budget.increment("soap:a", 3) == 3 and budget.increment("soap:a") == 4
    assert budget.increment("soap:b", 2) == 2
    assert (budget.used("soap:a"), budget.remaining("soap:a")) == (
        4,
        GET_MUTATIES_MONTHLY_LIMIT - 4,
    )
    now[0] = dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 November there
    assert budget.used("soap:a") == 0 and budget.remaining("soap:b") == GET_MUTATIES_MONTHLY_LIMIT
    assert budget.increment("soap:a", 0) == 0
    for key in backend.redis.scan_iter("mww:getmutaties:*"):
        assert 0 < backend.redis.ttl(key) <= 40 * 24 * 3600


def test_the_recovery_look_ups_count(world: World) -> None:
    admin = world.shop.credentials.administration_key
    world.add_order(5106)
    world.eb.faults.add("commit_then_drop", operation="AddMutatie")  # the answer is lost
    with pytest.raises(UpstreamUnavailableError):
        book_order(world.services, world.shop, "5106")
    before = world.eb.admin_calls(EB_USER)["GetMutaties"]
    assert book_order(world.services, world.shop, "5106").status == "booked"
    made = world.eb.admin_calls(EB_USER)["GetMutaties"] - before
    assert made == 1 and world.services.get_mutaties.used(admin) == 1

    # A payment whose answer was lost is looked up too (invoice_and_payment).
    mapping = MappingSettings(
        booking_mode=BookingMode.INVOICE_AND_PAYMENT, payment_ledgers={"ideal": "1010"}
    )
    world.services.store.shops.save_mapping(world.shop.id, mapping)
    world.reload_shop()
    order = world.add_order(5107, status=2, date=dt.date.today() - dt.timedelta(days=3))
    order["payment"] = {"method_name": "ideal", "status": {"id": 5, "text": "Pending"}}
    order["payment_status"] = "pending"
    assert book_order(world.services, world.shop, "5107").status == "booked"
    world.sim_shop.pay(5107, "capture", at=dt.datetime.now() - dt.timedelta(days=1))
    world.eb.faults.add("commit_then_drop", operation="AddMutatie")
    with pytest.raises(UpstreamUnavailableError):
        book_order(world.services, world.shop, "5107")
    before = world.eb.admin_calls(EB_USER)["GetMutaties"]
    assert book_order(world.services, world.shop, "5107").payment_state == "settled"
    made = world.eb.admin_calls(EB_USER)["GetMutaties"] - before
    assert made >= 1 and world.services.get_mutaties.used(admin) == 1 + made


def test_shops_on_one_administration_share_it_and_the_report_stops_short_of_it(
    world: World,
) -> None:
    second, _ = world.services.store.shops.register(
        name="Tweede winkel",
        status=ShopStatus.ACTIVE,
        credentials=Credentials(MWW_TOKEN, EB_USER.upper(), EB_CODE1, EB_CODE2),
    )
    other = world.services.load_shop(second)
    assert other is not None
    admin = world.shop.credentials.administration_key
    assert other.credentials.administration_key == admin
    world.add_order(5121, date=dt.date(2026, 10, 2))
    assert book_order(world.services, world.shop, "5121").status == "booked"
    period = parse_period("2026-10")

    world.services.count_get_mutaties(other, GET_MUTATIES_MONTHLY_LIMIT - GET_MUTATIES_RESERVE)
    before = world.eb.admin_calls(EB_USER)["GetMutaties"]
    report = build_report(world.services, world.shop, period, books=True)
    assert not report.books.checked and world.eb.admin_calls(EB_USER)["GetMutaties"] == before
    assert "niet uitgelezen" in report.books.skipped_reason
    assert f"nog {GET_MUTATIES_RESERVE} keer mutaties opvragen" in report.books.skipped_reason
    assert report.books.budget_left == GET_MUTATIES_RESERVE
    assert report.total("verkopen").incl > Decimal(0)  # the rest of the report stands

    backend_redis = world.services.redis
    for key in backend_redis.scan_iter("mww:getmutaties:*"):
        backend_redis.delete(key)
    report = build_report(world.services, world.shop, period, books=True)
    assert report.books.checked and report.books.calls == 1
    assert report.books.budget_left == GET_MUTATIES_MONTHLY_LIMIT - 1
