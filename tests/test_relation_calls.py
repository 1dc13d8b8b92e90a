"""What a booking costs in relation calls (issue 18): one look-up per new customer, none
for a known one, a business compared once per set of details, and the collective debtor
(verzameldebiteur) for consumers. Against the SOAP simulator, on both backends."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from typing import Any

from app.booking.pipeline import book_order
from app.core.relations import COLLECTIVE_DEBTOR_NAME
from tests.helpers import EB_USER, World, booking_row


def calls_while(world: World, action: object) -> Counter[str]:
    """e-Boekhouden calls made by ``action``, but the session's (once per process)."""
    before = Counter(world.eb.calls)
    assert callable(action)
    action()
    after = Counter(world.eb.calls)
    after.subtract(before)
    after.pop("OpenSession", None)
    return +after


def book(world: World, number: int) -> None:
    assert book_order(world.services, world.shop, str(number)).status == "booked"


def test_a_new_customer_costs_one_look_up_and_the_relation(world: World) -> None:
    world.add_order(7101, email="nieuw@example.nl")
    assert calls_while(world, lambda: book(world, 7101)) == Counter(
        GetRelaties=1, AddRelatie=1, AddMutatie=1
    )
    world.add_order(7102, email="nieuw@example.nl")
    assert calls_while(world, lambda: book(world, 7102)) == Counter(AddMutatie=1)


def test_our_relation_whose_e_mail_was_changed_by_hand_is_used(world: World) -> None:
    world.add_order(7103, email="oud@example.nl")
    book(world, 7103)
    [relation] = world.eb.books.admin(EB_USER).relations
    relation["Email"] = "anders@example.nl"  # changed by hand in e-Boekhouden
    world.services.redis.delete(f"mww:relations:{world.shop.id}")  # the cache forgot
    world.add_order(7104, email="oud@example.nl")
    book(world, 7104)
    assert len(world.eb.relations(EB_USER)) == 1
    assert world.mutations_for(7104)[0]["RelatieCode"] == relation["Code"]


def business_order(world: World, number: int, debtor: dict[str, Any]) -> None:
    """An EU business order of the customer ``debtor`` (the same company and VAT number)."""
    order = world.add_order(number, kind="reverse_charge")
    world.sim_shop.add_order({**order, "debtor": copy.deepcopy(debtor)})


def test_a_business_is_compared_once_per_set_of_details(world: World) -> None:
    first = world.add_order(7105, kind="reverse_charge")
    book(world, 7105)
    business_order(world, 7106, first["debtor"])
    assert calls_while(world, lambda: book(world, 7106)) == Counter(AddMutatie=1)
    # Another VAT number on the next order: looked up once; this ICP sale goes on a
    # relation of its own with that number (issue 24), the first one is kept as it is.
    other = copy.deepcopy(first["debtor"])
    other["address"]["invoice"]["taxnumber"] = "DE811569869"
    business_order(world, 7107, other)
    calls = calls_while(world, lambda: book(world, 7107))
    assert calls == Counter(GetRelaties=1, AddRelatie=1, AddMutatie=1)
    assert "DE811569869" in (booking_row(world, 7107).warnings or "")
    codes = {m["RelatieCode"] for m in world.mutations_for(7105) + world.mutations_for(7107)}
    assert len(codes) == 2


def test_consumers_on_the_collective_debtor_cost_one_call_each(world: World) -> None:
    world.shop = replace(
        world.shop, mapping=replace(world.shop.mapping, collective_debtor="PARTICULIER")
    )
    for number in range(7110, 7114):
        world.add_order(number, email=f"klant{number}@example.nl")
    assert calls_while(world, lambda: book(world, 7110)) == Counter(
        GetRelaties=1, AddRelatie=1, AddMutatie=1
    )
    assert calls_while(world, lambda: [book(world, n) for n in range(7111, 7114)]) == Counter(
        AddMutatie=3
    )
    [relation] = world.eb.relations(EB_USER)
    assert (relation["Code"], relation["Bedrijf"], relation["Email"]) == (
        "PARTICULIER",
        COLLECTIVE_DEBTOR_NAME,
        "",
    )
    assert {m["RelatieCode"] for m in world.mutations()} == {"PARTICULIER"}
    # A business keeps its own relation.
    world.add_order(7115, kind="reverse_charge")
    book(world, 7115)
    assert world.mutations_for(7115)[0]["RelatieCode"] != "PARTICULIER"
