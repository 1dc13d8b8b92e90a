"""End to end on the simulators: the booking carries the shop's own invoice number, and a
mutation under that number that is not this order's is never taken for ours.

Two shops book into one e-Boekhouden administration; both have an order 7001. With their
own invoice-number formats they book two mutations, W1-7001 and W2-7001. A hand-made
FactuurVerstuurd with an order's number and another amount makes that order fail with a
reason (not "booked"), and the same order books once the shop's format moves it clear.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from app.booking.pipeline import book_order
from app.states import ShopStatus
from app.store.shops import Credentials, Shop
from sandbox.order_factory import make_order
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, World, booking_row

SECOND_TOKEN = "shop-token-0987654321"


def with_format(world: World, shop: Shop, invoice_format: str) -> Shop:
    mapping = dataclasses.replace(shop.mapping, invoice_format=invoice_format)
    world.services.store.shops.save_mapping(shop.id, mapping)
    loaded = world.services.load_shop(shop.id)
    assert loaded is not None and loaded.mapping.invoice_format == invoice_format
    return loaded


def second_shop(world: World) -> Shop:
    """Another webshop (its own Mijnwebwinkel token) on the same e-Boekhouden login."""
    world.mww.add_shop(SECOND_TOKEN, name="Tweede winkel")
    shop_id, _ = world.services.store.shops.register(
        name="Tweede winkel",
        status=ShopStatus.ACTIVE,
        credentials=Credentials(SECOND_TOKEN, EB_USER, EB_CODE1, EB_CODE2),
    )
    shop = world.services.load_shop(shop_id)
    assert shop is not None
    return shop


def test_two_shops_on_one_administration_book_order_7001_twice(world: World) -> None:
    first = with_format(world, world.shop, "W1-{number}")
    second = with_format(world, second_shop(world), "W2-{number}")
    world.add_order(7001)
    world.mww.shop(SECOND_TOKEN).add_order(
        make_order(7001, kind="domestic", seed="tweede", date=dt.date(2026, 11, 2))
    )

    assert book_order(world.services, first, "7001").status == "booked"
    assert book_order(world.services, second, "7001").status == "booked"

    numbers = sorted(m["Factuurnummer"] for m in world.mutations())
    assert numbers == ["W1-7001", "W2-7001"]
    assert booking_row(world, 7001).invoice_number == "W1-7001"
    row = world.services.store.bookings.get(second.id, "7001")
    assert row is not None and row.state == "booked" and row.invoice_number == "W2-7001"
    assert row.mutation_number != booking_row(world, 7001).mutation_number


def test_two_shops_with_the_bare_number_collide_and_the_second_fails(world: World) -> None:
    second = second_shop(world)
    world.add_order(7001)
    world.mww.shop(SECOND_TOKEN).add_order(
        make_order(7001, kind="mixed_rates", seed="tweede", date=dt.date(2026, 11, 2))
    )
    assert book_order(world.services, world.shop, "7001").status == "booked"
    outcome = book_order(world.services, second, "7001")
    assert outcome.status == "failed"
    assert "Factuurnummer 7001 bestaat al" in outcome.reason
    assert "eigen factuurnummer" in outcome.reason
    assert len(world.mutations_for(7001)) == 1


def test_hand_made_invoice_with_our_number_fails_the_order_with_a_reason(world: World) -> None:
    shop = with_format(world, world.shop, "W1-{number}")
    world.add_order(7002)
    world.eb.add_relation(EB_USER, "HANDMATIG", "Klant met de hand")
    world.eb.book(
        EB_USER,
        {
            "Soort": "FactuurVerstuurd",
            "Datum": dt.date(2026, 11, 1),
            "Rekening": "1300",
            "RelatieCode": "HANDMATIG",
            "Factuurnummer": "W1-7002",
            "MutatieRegels": [
                {
                    "BedragInvoer": Decimal("99.99"),
                    "BedragExclBTW": Decimal("82.64"),
                    "BedragBTW": Decimal("17.35"),
                    "BedragInclBTW": Decimal("99.99"),
                    "BTWCode": "HOOG_VERK_21",
                    "BTWPercentage": Decimal("21"),
                    "TegenrekeningCode": "8010",
                    "KostenplaatsID": 0,
                }
            ],
        },
    )
    outcome = book_order(world.services, shop, "7002")
    assert outcome.status == "failed"
    for fragment in (
        "Factuurnummer W1-7002 bestaat al",
        "€ 99,99",
        "niet de boeking van bestelling 7002",
        "De bestelling is niet geboekt",
    ):
        assert fragment in outcome.reason
    row = booking_row(world, 7002)
    assert row.state == "failed" and row.mutation_number is None
    assert [m["RelatieCode"] for m in world.mutations_for("W1-7002")] == ["HANDMATIG"]

    # The shop gives its invoices another format and retries: a new number, booked.
    shop = with_format(world, shop, "WW1-{number}")
    world.services.store.bookings.request_retry(shop.id, row.id)
    assert book_order(world.services, shop, "7002").status == "booked"
    assert booking_row(world, 7002).invoice_number == "WW1-7002"
    assert len(world.mutations_for("WW1-7002")) == 1


# --- the relation of an EU business sale -------------------------------------------------


def _b2b_order(world: World, number: int) -> dict[str, object]:
    order = world.add_order(number, kind="reverse_charge")
    invoice = order["debtor"]["address"]["invoice"]  # type: ignore[index]
    assert invoice["taxnumber"] and invoice["company"]
    return order


def test_existing_relation_without_vat_number_is_updated_before_booking(world: World) -> None:
    order = _b2b_order(world, 7003)
    invoice = order["debtor"]["address"]["invoice"]  # type: ignore[index]
    # made by hand, with the company's name but without its VAT number
    world.eb.add_relation(EB_USER, "KLANT7003", invoice["company"], email=order["debtor"]["email"])  # type: ignore[index]
    assert book_order(world.services, world.shop, "7003").status == "booked"
    relation = next(r for r in world.eb.relations(EB_USER) if r["Code"] == "KLANT7003")
    assert relation["BTWNummer"] == invoice["taxnumber"].replace(" ", "").upper()
    assert relation["Bedrijf"] == invoice["company"]
    assert relation["Email"] == order["debtor"]["email"]  # type: ignore[index]
    assert world.mutations_for(7003)[0]["RelatieCode"] == "KLANT7003"
    assert booking_row(world, 7003).warnings is None


def test_a_different_vat_number_is_kept_with_a_warning(world: World) -> None:
    """A Dutch business sale (Dutch VAT, no ICP): the relation found keeps its own VAT
    number and name, and the booking says so. (An ICP sale never goes on a relation with
    another VAT number: tests/test_icp_relations.py.)"""
    order = world.add_order(7004)
    invoice = order["debtor"]["address"]["invoice"]
    invoice.update(company="Klant BV", taxnumber="NL123456789B01")
    world.sim_shop.add_order(order)
    world.eb.add_relation(EB_USER, "KLANT7004", "Ander Bedrijf BV", email=order["debtor"]["email"])
    stored = next(r for r in world.eb.books.admin(EB_USER).relations if r["Code"] == "KLANT7004")
    stored["BTWNummer"] = "NL999999999B01"
    assert book_order(world.services, world.shop, "7004").status == "booked"
    relation = next(r for r in world.eb.relations(EB_USER) if r["Code"] == "KLANT7004")
    assert (relation["BTWNummer"], relation["Bedrijf"]) == ("NL999999999B01", "Ander Bedrijf BV")
    assert world.mutations_for(7004)[0]["RelatieCode"] == "KLANT7004"
    warnings = booking_row(world, 7004).warnings or ""
    assert "btw-nummer NL999999999B01" in warnings and "niet aangepast" in warnings
    assert "Ander Bedrijf BV" in warnings
