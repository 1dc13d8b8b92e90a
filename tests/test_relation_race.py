"""Two first orders of one new customer, booked at the same moment by two workers, never
fail each other: relation creation is serialised per administration and relation code (a
Redis lock), and e-Boekhouden's "already exists" is recognised by its meaning (code or
text) on both adapters, then the relation is found and used."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
import requests

import sandbox.eboekhouden.state
from app.booking.pipeline import book_order
from app.clients.eboekhouden import errors as soap_errors
from app.clients.eboekhouden_rest import errors as rest_errors
from app.clients.eboekhouden_rest.answers import answer
from app.errors import DuplicateInvoiceError, RelationExistsError, UpstreamRejectedError
from app.fastpaths import relation_lock
from app.services import Services
from app.states import JobOutcome
from tests.adapter_worlds import Books, books_fixture, rest_sim_fixture  # noqa: F401
from tests.helpers import EB_USER, World, warm_up_bookkeeping

ROUNDS = 8  # customers, each with two first orders booked at once


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("RELATIE_BESTAAT", "Relatie met code 'MWW1' bestaat al."),  # the assumed code
        ("E0042", "Relatie met code 'MWW1' bestaat al."),  # a real code we do not know
        ("", "De relatiecode MWW1 is al in gebruik."),
        ("REL_DUP", "Relation code already exists"),
        ("99", "Duplicate key: relatiecode"),
        ("X", "Deze code bestaat reeds"),
    ],
)
def test_soap_already_exists_is_recognised_by_its_meaning(code: str, description: str) -> None:
    err = soap_errors.error_for(code, description, operation="AddRelatie")
    assert isinstance(err, RelationExistsError)
    assert "al in gebruik" in err.explanation  # Dutch, should it reach a person


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        ("E0042", "Relatie met code 'MWW1' bestaat al.", UpstreamRejectedError),
        ("E0043", "Factuurnummer 12 bestaat al.", DuplicateInvoiceError),
    ],
)
def test_soap_the_same_words_on_another_call_mean_something_else(
    code: str, description: str, expected: type[Exception]
) -> None:
    err = soap_errors.error_for(code, description, operation="AddMutatie")
    assert type(err) is expected


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("REL_049", "Code already exists.", RelationExistsError),
        ("REL_099", "Code already exists.", RelationExistsError),  # a newer code
        ("REL_099", "Relatiecode bestaat al", RelationExistsError),
        ("REL_005", "Code is invalid.", UpstreamRejectedError),
        ("REL_099", "Name is too long.", UpstreamRejectedError),
    ],
)
def test_rest_already_exists_is_recognised_by_code_or_text(
    code: str, text: str, expected: type[Exception]
) -> None:
    err = rest_errors.error_for(
        code, text, operation="create_relation", status=400, context={"relation_code": "MWW1"}
    )
    assert type(err) is expected


def test_rest_a_conflict_without_a_code_that_says_exists_is_recognised() -> None:
    response = requests.models.Response()
    response.status_code = 409
    response._content = (
        b'{"title": "Conflict", "message": "A relation with this code already exists"}'
    )
    with pytest.raises(RelationExistsError):
        answer(response, "create_relation", True, {"relation_code": "MWW1"}, lambda t: t)
    with pytest.raises(UpstreamRejectedError) as other:
        answer(response, "create_mutation", True, {}, lambda t: t)
    assert not isinstance(other.value, RelationExistsError)


def a_second_worker(services: Services) -> Services:
    """Another worker process: the same database and Redis, clients of its own."""
    return dataclasses.replace(services, _bookkeepers={}, _lock=threading.Lock())


def book_at_once(world: World, numbers: tuple[str, str]) -> list[Any]:
    workers = [world.services, a_second_worker(world.services)]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def work(index: int) -> None:
        barrier.wait()
        outcomes[index] = book_order(workers[index], world.shop, numbers[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    workers[1].close()
    return outcomes


def test_two_first_orders_of_one_customer_booked_at_once_never_fail(books: Books) -> None:
    world = books.world
    warm_up_bookkeeping(world)
    # A slow look-up opens the window in which both workers find no relation.
    books.fault("latency", operation="GetRelaties", times=None, seconds=0.3)
    for round_ in range(ROUNDS):
        email = f"klant{round_}@example.nl"
        numbers = (str(9400 + 2 * round_), str(9401 + 2 * round_))
        for number in numbers:
            world.add_order(int(number), email=email)
        outcomes = book_at_once(world, numbers)
        assert [o.status for o in outcomes] == [JobOutcome.BOOKED] * 2, outcomes
    assert len(books.invoice_numbers()) == 2 * ROUNDS
    assert len(books.relation_codes()) == ROUNDS  # one relation per customer
    # The lock: the second worker waited and found the relation the first one made.
    assert books.calls("AddRelatie") == ROUNDS
    assert books.calls("GetRelaties") == ROUNDS


def test_an_unknown_already_exists_code_finds_and_uses_the_relation(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """e-Boekhouden answers our AddRelatie with a code we never saw; its words say the
    relation is there: it is found by its code and booked on."""
    monkeypatch.setattr(sandbox.eboekhouden.state, "RELATION_EXISTS", "E0042")
    world.add_order(9501, email="oud@example.nl")
    assert book_order(world.services, world.shop, "9501").status == JobOutcome.BOOKED
    [relation] = world.eb.books.admin(EB_USER).relations
    relation["Email"] = "anders@example.nl"  # changed by hand: the e-mail search misses it
    world.services.redis.delete(f"mww:relations:{world.shop.id}")
    world.add_order(9502, email="oud@example.nl")
    assert book_order(world.services, world.shop, "9502").status == JobOutcome.BOOKED
    assert world.mutations_for(9502)[0]["RelatieCode"] == relation["Code"]
    assert len(world.eb.relations(EB_USER)) == 1


def test_the_relation_lock_is_per_administration_and_code(world: World) -> None:
    redis = world.services.redis
    with relation_lock(redis, "soap:boekhouder", "MWW1") as held:
        assert held
        with relation_lock(redis, "soap:boekhouder", "mww1", wait=0.2) as again:
            assert not again  # the same code (any case): waited, then went on without
        with relation_lock(redis, "soap:boekhouder", "MWW2", wait=0.2) as other:
            assert other  # another customer is not held up
        with relation_lock(redis, "soap:ander", "MWW1", wait=0.2) as elsewhere:
            assert elsewhere  # another administration neither
    with relation_lock(redis, "soap:boekhouder", "MWW1", wait=0.2) as after:
        assert after  # released
