"""An ICP sale is booked under the buyer's own VAT number (issue 24): the opgaaf ICP lists
it by the VAT number of the relation it is booked on. Through SOAP and REST, on both
backends: relations with the matching, a missing and another VAT number; every booking
mode; an own invoice-number format and the verzameldebiteur; a credit order; two shops on
one administration."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from app.booking.pipeline import book_order
from app.clients.eboekhouden_rest import clear_caches
from app.core.mapping_settings import MappingSettings
from app.states import BookingMode, ShopStatus
from app.store.shops import Credentials
from sandbox.order_factory import make_order
from tests.helpers import (
    API_TOKEN,
    EB_CODE1,
    EB_CODE2,
    EB_USER,
    Backend,
    World,
    booking_row,
    make_world,
    switch_to_rest,
)

OTHER_VAT = "DE999999999"
METHODS = ("ideal", "bancontact", "creditcard", "paypal", "bank_transfer", "klarna_paylater")


@dataclasses.dataclass
class Books:
    """The world and the administration behind it, whichever adapter the shop uses."""

    world: World
    adapter: str
    rest: Any = None

    def seed(self, code: str, name: str, email: str, vat: str) -> None:
        """A relation made by hand in e-Boekhouden."""
        if self.adapter == "soap":
            self.world.eb.add_relation(EB_USER, code, name, email=email)
            stored = self.world.eb.books.admin(EB_USER).relations
            next(r for r in stored if r["Code"] == code)["BTWNummer"] = vat or None
        else:
            ident = self.rest.add_relation(API_TOKEN, code, name, email=email)
            self.rest.books.administrations[API_TOKEN].relations[ident]["vatNumber"] = vat or None

    def relations(self) -> dict[str, tuple[str, str]]:
        """code → (name, VAT number)."""
        if self.adapter == "soap":
            return {
                r["Code"]: (r["Bedrijf"], r.get("BTWNummer") or "")
                for r in self.world.eb.relations(EB_USER)
            }
        return {
            r["code"]: (r["name"], r.get("vatNumber") or "") for r in self.rest.relations(API_TOKEN)
        }

    def booked_on(self, invoice_number: str) -> list[str]:
        """The relation codes of the mutations under this Factuurnummer."""
        if self.adapter == "soap":
            return [
                m["RelatieCode"]
                for m in self.world.mutations()
                if m.get("Factuurnummer") == invoice_number
            ]
        codes = {r["id"]: r["code"] for r in self.rest.relations(API_TOKEN)}
        return [
            codes[m["relationId"]]
            for m in self.rest.mutations(API_TOKEN)
            if m["invoiceNumber"] == invoice_number
        ]


@pytest.fixture(params=["soap", "rest"])
def books(
    request: pytest.FixtureRequest,
    backend: Backend,
    mww_server: Any,
    eb_server: Any,
    rest_server: Any,
) -> Iterator[Books]:
    rest, thread = rest_server
    rest.reset()
    clear_caches()
    for world in make_world(backend, mww_server, eb_server):
        if request.param == "rest":
            switch_to_rest(world, thread.url)
        yield Books(world, request.param, rest)
    clear_caches()


def icp_order(books: Books, number: int, *, kind: str = "reverse_charge", **kw: Any) -> dict:
    order = make_order(number, kind=kind, date=dt.date(2026, 11, 2), **kw)
    return books.world.sim_shop.add_order(order)  # type: ignore[no-any-return]


def buyer(order: dict[str, Any]) -> tuple[str, str, str]:
    invoice = order["debtor"]["address"]["invoice"]
    return order["debtor"]["email"], invoice["company"], invoice["taxnumber"]


# (case, the relation made by hand with the buyer's e-mail: its VAT number or None for
# no relation, whether the booking goes on that relation, the note)
CASES = [
    ("geen-relatie", None, False, False),
    ("zelfde-btw-nummer", "ORDER", True, False),
    ("zonder-btw-nummer", "", True, False),
    ("ander-btw-nummer", OTHER_VAT, False, True),
]


@pytest.mark.parametrize(("case", "on_file", "on_it", "noted"), CASES, ids=[c[0] for c in CASES])
def test_an_icp_sale_goes_on_a_relation_with_the_buyers_vat_number(
    books: Books, case: str, on_file: str | None, on_it: bool, noted: bool
) -> None:
    order = icp_order(books, 7401)
    email, company, vat = buyer(order)
    if on_file is not None:
        books.seed("KLANT7401", "Ander Bedrijf BV", email, vat if on_file == "ORDER" else on_file)
    assert book_order(books.world.services, books.world.shop, "7401").status == "booked"
    [code] = books.booked_on("7401")
    relations = books.relations()
    assert relations[code][1] == vat  # the opgaaf ICP reads this number
    if on_file is not None:
        assert (code == "KLANT7401") == on_it
        kept = OTHER_VAT if on_file == OTHER_VAT else vat
        assert relations["KLANT7401"] == ("Ander Bedrijf BV", kept)  # never overwritten
    if not on_it:
        assert relations[code][0] == company
    warnings = booking_row(books.world, 7401).warnings or ""
    assert (OTHER_VAT in warnings and vat in warnings and "opgaaf ICP" in warnings) == noted
    row = booking_row(books.world, 7401)
    assert (row.buyer_vat_number, row.destination) == (vat, order["tax_region"])

    # the buyer's next order: the same relation, no new look-up or relation
    again = icp_order(books, 7402)
    again["debtor"] = order["debtor"]
    books.world.sim_shop.add_order(again)
    before = len(relations)
    assert book_order(books.world.services, books.world.shop, "7402").status == "booked"
    assert books.booked_on("7402") == [code] and len(books.relations()) == before


@pytest.mark.parametrize(
    "mode", [BookingMode.INVOICE, BookingMode.INVOICE_AND_PAYMENT, BookingMode.CASH]
)
def test_every_mode_with_an_own_format_and_the_verzameldebiteur(
    books: Books, mode: BookingMode
) -> None:
    mapping = MappingSettings(
        booking_mode=mode,
        payment_ledgers=dict.fromkeys(METHODS, "1100"),
        invoice_format="W1-{number}",
        collective_debtor="PARTICULIER",
    )
    world = books.world
    world.services.store.shops.save_mapping(world.shop.id, mapping)
    world.reload_shop()
    order = icp_order(books, 7411)
    email, _, vat = buyer(order)
    books.seed("KLANT7411", "Ander Bedrijf BV", email, OTHER_VAT)
    assert book_order(world.services, world.shop, "7411").status == "booked"
    codes = set(books.booked_on("W1-7411"))
    assert len(codes) == 1 and codes.isdisjoint({"KLANT7411", "PARTICULIER"})
    assert books.relations()[codes.pop()][1] == vat
    assert OTHER_VAT in (booking_row(world, 7411).warnings or "")
    # the credit order of that sale: the same relation, its own note
    credit = make_order(7412, kind="credit", credited=order, date=dt.date(2026, 11, 9))
    world.sim_shop.add_order(credit)
    outcome = book_order(world.services, world.shop, "7412")
    assert outcome.status in ("booked", "waiting_for_payment")
    if outcome.status == "booked":
        assert set(books.booked_on("W1-7412")) == set(books.booked_on("W1-7411"))


def test_two_shops_on_one_administration_share_the_buyers_relation(books: Books) -> None:
    world = books.world
    shop_b = "second-shop-token"
    world.mww.add_shop(shop_b, name="Tweede winkel")
    creds = world.shop.credentials
    second_id, _ = world.services.store.shops.register(
        name="Tweede winkel",
        status=ShopStatus.ACTIVE,
        credentials=Credentials(shop_b, EB_USER, EB_CODE1, EB_CODE2, creds.eb_api_token),
    )
    for shop_id, prefix in ((world.shop.id, "W1-"), (second_id, "W2-")):
        world.services.store.shops.save_mapping(
            shop_id, MappingSettings(invoice_format=prefix + "{number}")
        )
    first = icp_order(books, 7421)
    email, _, vat = buyer(first)
    books.seed("KLANT7421", "Ander Bedrijf BV", email, OTHER_VAT)
    second = make_order(7421, kind="reverse_charge", date=dt.date(2026, 11, 3))
    second["debtor"] = first["debtor"]
    world.mww.shop(shop_b).add_order(second)
    shop_a, shop_b_loaded = world.reload_shop(), world.services.load_shop(second_id)
    assert shop_b_loaded is not None
    assert book_order(world.services, shop_a, "7421").status == "booked"
    assert book_order(world.services, shop_b_loaded, "7421").status == "booked"
    [code_a], [code_b] = books.booked_on("W1-7421"), books.booked_on("W2-7421")
    assert code_a == code_b != "KLANT7421"
    assert [c for c, (_, v) in books.relations().items() if v == vat] == [code_a]
