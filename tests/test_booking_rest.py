"""The booking pipeline through the REST adapter (the services' real factory picks it for a
shop with an API token), against the Mijnwebwinkel and REST simulators, on both backends.

The pipeline cases of ``test_booking.py`` that touch e-Boekhouden, again: exactly once
under lost answers, crashes, duplicate answers and outages; relations; credits; and a shop
that switches from SOAP to REST keeps its bookings and never books an order twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete

from app.booking.pipeline import book_order
from app.clients.eboekhouden_rest import EBoekhoudenRestClient, clear_caches
from app.core.mapping_settings import MappingSettings
from app.errors import UpstreamUnavailableError
from app.services import real_bookkeeping_factory
from app.store.bookings import BookingStore
from app.store.db import bookings, transaction
from app.store.shops import Credentials
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.server import ServerThread
from tests.helpers import Backend, World, booking_row, expire_lease, make_world

API_TOKEN = "rest-api-token-0123456789abcdef"


@pytest.fixture(scope="session")
def rest_server() -> Iterator[tuple[EBoekhoudenRestSimulator, ServerThread]]:
    sim = EBoekhoudenRestSimulator()
    sim.add_administration(API_TOKEN, name="Testwinkel BV")
    with ServerThread(sim) as server:
        yield sim, server


@dataclasses.dataclass
class RestWorld:
    world: World
    rest: EBoekhoudenRestSimulator

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)

    @property
    def services(self) -> Any:
        return self.world.services

    @property
    def shop(self) -> Any:
        return self.world.shop

    def mutations_for(self, number: int | str) -> list[dict[str, Any]]:
        return [m for m in self.rest.mutations(API_TOKEN) if m["invoiceNumber"] == str(number)]

    def relations(self) -> list[dict[str, Any]]:
        return self.rest.relations(API_TOKEN)

    def calls(self) -> int:
        return sum(self.rest.calls.values())


def switch_to_rest(world: World, rest_url: str) -> None:
    """What "Gegevens" does when the owner fills in an API token."""
    settings = dataclasses.replace(world.settings, eboekhouden_rest_url=rest_url)
    world.services.bookkeeping_factory = real_bookkeeping_factory(settings, world.services.redis)
    creds = world.shop.credentials
    world.services.store.shops.update_connection(
        world.shop.id,
        name=world.shop.name,
        credentials=Credentials(
            creds.mww_token, creds.eb_username, creds.eb_code1, creds.eb_code2, API_TOKEN
        ),
    )
    world.reload_shop()
    assert world.shop.credentials.eb_api == "rest"


@pytest.fixture
def rw(backend: Backend, mww_server: Any, eb_server: Any, rest_server: Any) -> Iterator[RestWorld]:
    rest, thread = rest_server
    rest.reset()
    clear_caches()
    for world in make_world(backend, mww_server, eb_server):
        switch_to_rest(world, thread.url)
        yield RestWorld(world, rest)
    clear_caches()


def test_the_factory_picks_the_adapter_per_shop(rw: RestWorld) -> None:
    client = rw.services.bookkeeping(rw.shop)
    assert isinstance(client, EBoekhoudenRestClient)
    assert rw.shop.credentials.to_json()["eb_api_token"] == API_TOKEN
    assert API_TOKEN not in repr(rw.shop)


def test_a_paid_order_is_booked_with_its_relation(rw: RestWorld) -> None:
    order = rw.add_order(5001)
    outcome = book_order(rw.services, rw.shop, "5001")
    assert outcome.status == "booked"
    [mutation] = rw.mutations_for(5001)
    assert mutation["type"] == 2 and mutation["ledgerCode"] == "1300"
    total = sum(r["amount"] for r in mutation["rows"])
    assert total == Decimal(str(order["price"]["total"]))
    row = booking_row(rw.world, 5001)
    assert (row.state, row.mutation_number) == ("booked", mutation["id"])
    [relation] = rw.relations()
    assert relation["id"] == mutation["relationId"] and relation["code"] == row.relation_code
    assert rw.world.mutations() == []  # nothing went to SOAP


def test_booking_twice_books_once_and_returning_customers_cost_one_call(rw: RestWorld) -> None:
    for number in range(5010, 5015):
        rw.add_order(number, email="vaste.klant@example.nl")
    assert book_order(rw.services, rw.shop, "5010").status == "booked"
    first = rw.calls()
    assert book_order(rw.services, rw.shop, "5010").status == "already_booked"
    assert rw.calls() == first
    for number in range(5011, 5015):
        clear_caches()  # like RQ: every job in a fresh work horse, nothing in memory
        rw.services._bookkeepers.clear()
        assert book_order(rw.services, rw.shop, str(number)).status == "booked"
    assert rw.calls() - first == 4  # POST /v1/mutation only: ids and session from Redis
    assert len(rw.relations()) == 1


def test_twenty_concurrent_jobs_for_one_order_book_it_once(rw: RestWorld) -> None:
    rw.add_order(5003)
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def run() -> None:
        barrier.wait()
        outcomes.append(book_order(rw.services, rw.shop, "5003").status)

    threads = [threading.Thread(target=run) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rw.mutations_for(5003)) == 1 and outcomes.count("booked") == 1


def test_commit_then_drop_books_once(rw: RestWorld) -> None:
    rw.add_order(5006)
    rw.rest.faults.add("commit_then_drop", operation="create_mutation")
    with pytest.raises(UpstreamUnavailableError):
        book_order(rw.services, rw.shop, "5006")
    row = booking_row(rw.world, 5006)
    assert row.state == "retrying" and row.uncertain
    assert len(rw.mutations_for(5006)) == 1
    lookups = rw.rest.calls["get_mutations"]
    assert book_order(rw.services, rw.shop, "5006").status == "booked"
    assert len(rw.mutations_for(5006)) == 1
    assert rw.rest.calls["get_mutations"] == lookups + 1
    assert booking_row(rw.world, 5006).mutation_number == rw.mutations_for(5006)[0]["id"]


def test_crash_between_post_and_ledger_write_books_once(
    rw: RestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    rw.add_order(5007)

    class WorkerDied(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise WorkerDied

    monkeypatch.setattr(BookingStore, "mark_booked", die)
    with pytest.raises(WorkerDied):
        book_order(rw.services, rw.shop, "5007")
    monkeypatch.undo()
    assert book_order(rw.services, rw.shop, "5007").status == "in_progress"
    expire_lease(rw.world, 5007)
    assert book_order(rw.services, rw.shop, "5007").status == "booked"
    assert len(rw.mutations_for(5007)) == 1


def test_someone_elses_mutation_with_our_invoice_number_is_never_adopted(rw: RestWorld) -> None:
    """A hand-made invoice holds the number: the order fails with a reason, not "booked"
    (issue 13; tests/test_booking.py has the same test over SOAP)."""
    rw.add_order(5008)
    relation = rw.rest.add_relation(API_TOKEN, "HANDMATIG", "Klant met de hand")
    admin = rw.rest.books.administrations[API_TOKEN]
    ids = {g["code"]: g["id"] for g in admin.ledgers.values()}
    rw.rest.books.create_mutation(
        admin,
        {
            "type": 2,
            "date": "2026-11-02",
            "ledgerId": ids["1300"],
            "invoiceNumber": "5008",
            "inExVat": "IN",
            "relationId": relation,
            "rows": [{"ledgerId": ids["8010"], "vatCode": "HOOG_VERK_21", "amount": 12.10}],
        },
    )
    outcome = book_order(rw.services, rw.shop, "5008")
    assert outcome.status == "failed"
    hand_made = rw.mutations_for(5008)[0]["id"]
    for fragment in (
        "Factuurnummer 5008 bestaat al",
        f"mutatie {hand_made}",
        "niet de boeking van bestelling 5008",
        "relatie HANDMATIG",
        "eigen factuurnummer",
        "opnieuw",
    ):
        assert fragment in outcome.reason
    row = booking_row(rw.world, 5008)
    assert row.state == "failed" and row.error_code == "foreign_invoice"
    assert row.mutation_number is None
    assert len(rw.mutations_for(5008)) == 1  # only the hand-made one


def test_our_own_mutation_is_adopted_when_the_ledger_forgot_it(rw: RestWorld) -> None:
    """POST /v1/mutation says the number exists and it is this order's booking: adopt it
    (relation, ledgers and rows come back from GET /v1/mutation/{id} as codes)."""
    rw.add_order(5010)
    assert book_order(rw.services, rw.shop, "5010").status == "booked"
    first = rw.mutations_for(5010)[0]["id"]
    with transaction(rw.services.engine) as conn:  # the ledger lost its row
        conn.execute(delete(bookings).where(bookings.c.order_number == "5010"))
    rw.services.redis.flushdb()
    clear_caches()
    assert book_order(rw.services, rw.shop, "5010").status == "booked"
    assert [m["id"] for m in rw.mutations_for(5010)] == [first]
    assert booking_row(rw.world, 5010).mutation_number == first
    assert booking_row(rw.world, 5010).invoice_number == "5010"


def test_e_boekhouden_down_then_recovered(rw: RestWorld) -> None:
    rw.add_order(5009)
    rw.rest.faults.add("http_status", operation="create_mutation", times=3, status=503)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            book_order(rw.services, rw.shop, "5009")
        assert booking_row(rw.world, 5009).state == "retrying"
    assert book_order(rw.services, rw.shop, "5009").status == "booked"
    assert len(rw.mutations_for(5009)) == 1


def test_permanent_error_fails_once_with_readable_reason(rw: RestWorld) -> None:
    rw.add_order(5030)
    shop = dataclasses.replace(rw.shop, mapping=MappingSettings(debtors_ledger="1399"))
    outcome = book_order(rw.services, shop, "5030")
    assert outcome.status == "failed"
    row = booking_row(rw.world, 5030)
    assert row.state == "failed" and "1399" in (row.reason or "")
    rw.services.store.bookings.request_retry(rw.shop.id, row.id)
    assert book_order(rw.services, rw.shop, "5030").status == "booked"


def test_credit_order_books_a_negative_mutation(rw: RestWorld) -> None:
    from sandbox.order_factory import make_order

    original = rw.add_order(5040)
    book_order(rw.services, rw.shop, "5040")
    credit = rw.world.sim_shop.add_order(
        make_order(5041, kind="credit", credited=original, date=dt.date(2026, 11, 3))
    )
    assert book_order(rw.services, rw.shop, "5041").status == "booked"
    [mutation] = rw.mutations_for(5041)
    total = sum(r["amount"] for r in mutation["rows"])
    assert total == -abs(Decimal(str(credit["price"]["total"])))
    assert all(r["vatAmount"] <= 0 for r in mutation["rows"])


def test_new_customer_orders_at_once_share_one_relation(rw: RestWorld) -> None:
    numbers = [5050 + i for i in range(6)]
    for number in numbers:
        rw.add_order(number, email="nieuwe.klant@example.nl")
    barrier = threading.Barrier(len(numbers))
    outcomes: list[str] = []

    def run(number: int) -> None:
        barrier.wait()
        outcomes.append(book_order(rw.services, rw.shop, str(number)).status)

    threads = [threading.Thread(target=run, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["booked"] * len(numbers)
    assert len(rw.relations()) == 1


def test_a_relation_deleted_by_hand_is_created_again(rw: RestWorld) -> None:
    rw.add_order(5060, email="weg@example.nl")
    rw.add_order(5061, email="weg@example.nl")
    book_order(rw.services, rw.shop, "5060")
    rw.rest.books.administrations[API_TOKEN].relations.clear()
    assert book_order(rw.services, rw.shop, "5061").status == "booked"
    assert len(rw.relations()) == 1


def test_switching_a_live_shop_from_soap_to_rest_books_nothing_twice(
    backend: Backend, mww_server: Any, eb_server: Any, rest_server: Any
) -> None:
    rest, thread = rest_server
    rest.reset()
    clear_caches()
    for world in make_world(backend, mww_server, eb_server):
        assert world.shop.credentials.eb_api == "soap"
        for number in (5070, 5071):
            world.add_order(number)
        assert book_order(world.services, world.shop, "5070").status == "booked"
        assert len(world.mutations_for(5070)) == 1
        switch_to_rest(world, thread.url)
        world.services.close()  # the SOAP client of this shop is not used any more
        assert book_order(world.services, world.shop, "5070").status == "already_booked"
        world.services.redis.flushall()  # even without the fast path
        assert book_order(world.services, world.shop, "5070").status == "already_booked"
        assert rest.mutations(API_TOKEN) == []
        assert book_order(world.services, world.shop, "5071").status == "booked"
        assert [m["invoiceNumber"] for m in rest.mutations(API_TOKEN)] == ["5071"]
        assert len(world.mutations()) == 1  # SOAP kept its one booking
        assert booking_row(world, 5070).state == "booked"


def test_shops_add_with_an_api_token_books_through_rest(rw: RestWorld) -> None:
    import json

    from app import create_app

    runner = create_app(services=rw.services).test_cli_runner()
    token = rw.shop.credentials.mww_token
    # The secrets come from the environment here (never from options, which `ps` shows).
    no_eb = runner.invoke(args=["shops", "add", "--name", "X"], env={"SHOP_MWW_TOKEN": "t"})
    assert no_eb.exit_code == 2 and "--eb-api rest|soap" in no_eb.output
    no_token = runner.invoke(
        args=["shops", "add", "--name", "X", "--eb-api", "rest"], env={"SHOP_MWW_TOKEN": "t"}
    )
    assert no_token.exit_code == 2 and "SHOP_EB_API_TOKEN" in no_token.output
    wrong = runner.invoke(
        args=["shops", "add", "--name", "X"],
        env={"SHOP_MWW_TOKEN": token, "SHOP_EB_API_TOKEN": "wrong-token"},
    )
    assert wrong.exit_code == 1 and "eb:" in wrong.output  # checked live, not saved
    added = runner.invoke(
        args=["shops", "add", "--name", "REST-winkel"],
        env={"SHOP_MWW_TOKEN": token, "SHOP_EB_API_TOKEN": API_TOKEN},
    )
    assert added.exit_code == 0, added.output
    assert API_TOKEN not in added.output
    shop = rw.services.load_shop(json.loads(added.stdout)["id"])
    assert shop is not None and shop.credentials.eb_api == "rest"
    assert API_TOKEN not in runner.invoke(args=["shops", "list"]).output
    rw.add_order(8001)
    booked = runner.invoke(args=["book", "--shop", str(shop.id), "8001"])
    assert json.loads(booked.output)["status"] == "booked", booked.output
    assert len(rw.mutations_for(8001)) == 1
