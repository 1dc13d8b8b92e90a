"""The booking pipeline against the simulators over HTTP, on both backends, through both
e-Boekhouden adapters (SOAP, and REST: the services' real factory picks it for a shop
with an API token): every test that touches e-Boekhouden runs on each (``books``).

Exactly once under faults: concurrency, lost answers, crashes between the post and the
register write, Redis losing its data, e-Boekhouden down for a while, permanent errors;
relations; credits; and a shop that switches from SOAP to REST keeps its bookings and
never books an order twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete

from app import create_app
from app.booking.pipeline import book_order
from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.eboekhouden_rest import EBoekhoudenRestClient, clear_caches
from app.clients.eboekhouden_rest.wire import SOORT_BY_TYPE
from app.core.mapping_settings import MappingSettings
from app.errors import UpstreamUnavailableError
from app.store.bookings import BookingStore
from app.store.db import bookings
from app.store.engine import transaction
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.order_factory import make_order
from tests.helpers import (
    API_TOKEN,
    EB_USER,
    Backend,
    World,
    booking_row,
    expire_lease,
    make_world,
    switch_to_rest,
)

# SOAP operation → the REST simulator's, for faults and call counts.
REST_OPERATIONS = {"AddMutatie": "create_mutation", "GetMutaties": "get_mutations"}


@dataclasses.dataclass
class Mutation:
    """One mutation as either simulator holds it, in one vocabulary."""

    number: int
    soort: str
    ledger: str
    relation: str  # the relation's code
    invoice: str
    rows: list[tuple[Decimal, Decimal]]  # (amount incl. VAT, VAT) per row

    @property
    def total(self) -> Decimal:
        return sum((incl for incl, _ in self.rows), Decimal(0))


class Books:
    """The shop's e-Boekhouden administration, whichever adapter books it."""

    api = ""

    def __init__(self, world: World) -> None:
        self.world = world

    def mutations(self) -> list[Mutation]:
        raise NotImplementedError

    def mutations_for(self, number: int | str) -> list[Mutation]:
        return [m for m in self.mutations() if m.invoice == str(number)]

    def relations(self) -> list[str]:
        raise NotImplementedError

    def calls(self, operation: str | None = None) -> int:
        """e-Boekhouden calls so far (of one SOAP-named operation, or all)."""
        raise NotImplementedError

    def fault(self, kind: str, operation: str, **kw: Any) -> None:
        raise NotImplementedError

    def forget_relations(self) -> None:
        """The bookkeeper deletes every relation by hand."""
        raise NotImplementedError

    def hand_made_invoice(self, number: str) -> None:
        """Someone books an invoice with ``number`` by hand, for relation HANDMATIG."""
        raise NotImplementedError

    def fresh_process(self) -> None:
        """Like RQ: the next job in a fresh work horse, nothing of the adapter in memory
        (sessions, ids and relations come from Redis)."""
        self.world.services._bookkeepers.clear()


class SoapBooks(Books):
    api = "soap"

    def mutations(self) -> list[Mutation]:
        return [
            Mutation(
                int(m["MutatieNr"]),
                str(m["Soort"]),
                str(m["Rekening"]),
                str(m["RelatieCode"]),
                str(m.get("Factuurnummer") or ""),
                [
                    (Decimal(str(r["BedragInclBTW"])), Decimal(str(r["BedragBTW"])))
                    for r in m["MutatieRegels"]
                ],
            )
            for m in self.world.mutations()
        ]

    def relations(self) -> list[str]:
        return [r["Code"] for r in self.world.eb.relations(EB_USER)]

    def calls(self, operation: str | None = None) -> int:
        calls = self.world.eb.calls
        return calls[operation] if operation else sum(calls.values())

    def fault(self, kind: str, operation: str, **kw: Any) -> None:
        self.world.eb.faults.add(kind, operation=operation, **kw)

    def forget_relations(self) -> None:
        self.world.eb.books.admin(EB_USER).relations.clear()

    def hand_made_invoice(self, number: str) -> None:
        self.world.eb.add_relation(EB_USER, "HANDMATIG", "Klant met de hand")
        self.world.eb.book(
            EB_USER,
            {
                "Soort": "FactuurVerstuurd",
                "Datum": dt.date(2026, 11, 2),
                "Rekening": "1300",
                "RelatieCode": "HANDMATIG",
                "Factuurnummer": number,
                "MutatieRegels": [HAND_ROW],
            },
        )


class RestBooks(Books):
    api = "rest"

    def __init__(self, world: World, rest: EBoekhoudenRestSimulator) -> None:
        super().__init__(world)
        self.rest = rest

    def mutations(self) -> list[Mutation]:
        codes = {r["id"]: r["code"] for r in self.rest.relations(API_TOKEN)}
        found = []
        for m in self.rest.mutations(API_TOKEN):
            assert m["inExVat"] == "IN"  # amounts incl. VAT
            found.append(
                Mutation(
                    int(m["id"]),
                    SOORT_BY_TYPE[m["type"]],
                    str(m["ledgerCode"]),
                    codes.get(m.get("relationId"), ""),
                    str(m.get("invoiceNumber") or ""),
                    [(Decimal(str(r["amount"])), Decimal(str(r["vatAmount"]))) for r in m["rows"]],
                )
            )
        return found

    def relations(self) -> list[str]:
        return [r["code"] for r in self.rest.relations(API_TOKEN)]

    def calls(self, operation: str | None = None) -> int:
        calls = self.rest.calls
        return calls[REST_OPERATIONS[operation]] if operation else sum(calls.values())

    def fault(self, kind: str, operation: str, **kw: Any) -> None:
        self.rest.faults.add(kind, operation=REST_OPERATIONS[operation], **kw)

    def forget_relations(self) -> None:
        self.rest.books.administrations[API_TOKEN].relations.clear()

    def hand_made_invoice(self, number: str) -> None:
        relation = self.rest.add_relation(API_TOKEN, "HANDMATIG", "Klant met de hand")
        admin = self.rest.books.administrations[API_TOKEN]
        ids = {g["code"]: g["id"] for g in admin.ledgers.values()}
        self.rest.books.create_mutation(
            admin,
            {
                "type": 2,
                "date": "2026-11-02",
                "ledgerId": ids["1300"],
                "invoiceNumber": number,
                "inExVat": "IN",
                "relationId": relation,
                "rows": [{"ledgerId": ids["8010"], "vatCode": "HOOG_VERK_21", "amount": 12.10}],
            },
        )

    def fresh_process(self) -> None:
        clear_caches()
        super().fresh_process()


def _rest(world: World, rest_server: Any) -> Iterator[RestBooks]:
    rest, thread = rest_server
    rest.reset()
    clear_caches()
    switch_to_rest(world, thread.url)
    yield RestBooks(world, rest)
    clear_caches()


@pytest.fixture(params=["soap", "rest"])
def books(request: pytest.FixtureRequest, world: World, rest_server: Any) -> Iterator[Books]:
    """The world's shop booking through SOAP, or switched to REST."""
    if request.param == "soap":
        yield SoapBooks(world)
    else:
        yield from _rest(world, rest_server)


@pytest.fixture
def rest_books(world: World, rest_server: Any) -> Iterator[RestBooks]:
    yield from _rest(world, rest_server)


HAND_ROW = {
    "BedragInvoer": Decimal("12.10"),
    "BedragExclBTW": Decimal("10.00"),
    "BedragBTW": Decimal("2.10"),
    "BedragInclBTW": Decimal("12.10"),
    "BTWCode": "HOOG_VERK_21",
    "BTWPercentage": Decimal("21"),
    "TegenrekeningCode": "8010",
    "KostenplaatsID": 0,
}


def test_the_factory_picks_the_adapter_per_shop(books: Books) -> None:
    shop = books.world.shop
    client = books.world.services.bookkeeping(shop).inner  # inside its call slots
    expected = EBoekhoudenRestClient if books.api == "rest" else EBoekhoudenClient
    assert isinstance(client, expected)
    assert shop.credentials.eb_api == books.api
    if books.api == "rest":
        assert shop.credentials.to_json()["eb_api_token"] == API_TOKEN
        assert API_TOKEN not in repr(shop)


def test_a_paid_order_is_booked_with_its_relation(books: Books) -> None:
    world = books.world
    order = world.add_order(5001)
    outcome = book_order(world.services, world.shop, "5001")
    assert outcome.status == "booked"
    [mutation] = books.mutations_for(5001)
    assert (mutation.soort, mutation.ledger) == ("FactuurVerstuurd", "1300")
    assert mutation.total == Decimal(str(order["price"]["total"]))
    row = booking_row(world, 5001)
    assert (row.state, row.mutation_number) == ("booked", outcome.mutation_number)
    assert row.mutation_number == mutation.number
    assert row.relation_code == mutation.relation
    assert books.relations() == [mutation.relation]
    if books.api == "rest":
        assert world.mutations() == []  # nothing went to SOAP


def test_booking_twice_books_once_and_the_second_time_calls_nobody(books: Books) -> None:
    world = books.world
    world.add_order(5002)
    assert book_order(world.services, world.shop, "5002").status == "booked"
    calls_before = len(world.mww.calls), books.calls()
    assert book_order(world.services, world.shop, "5002").status == "already_booked"
    assert (len(world.mww.calls), books.calls()) == calls_before
    assert len(books.mutations_for(5002)) == 1


def test_returning_customer_costs_one_call_per_order(books: Books) -> None:
    world = books.world
    for number in range(5010, 5015):
        world.add_order(number, email="vaste.klant@example.nl")
    book_order(world.services, world.shop, "5010")
    before = books.calls()
    for number in range(5011, 5015):
        books.fresh_process()
        assert book_order(world.services, world.shop, str(number)).status == "booked"
    # AddMutatie (POST /v1/mutation) only: session, ids and the relation from Redis
    assert books.calls() - before == 4
    assert len(books.relations()) == 1


def test_twenty_concurrent_jobs_for_one_order_book_it_once(books: Books) -> None:
    world = books.world
    world.add_order(5003)
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def run() -> None:
        barrier.wait()
        outcomes.append(book_order(world.services, world.shop, "5003").status)

    threads = [threading.Thread(target=run) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(books.mutations_for(5003)) == 1
    assert outcomes.count("booked") == 1
    assert set(outcomes) <= {"booked", "already_booked", "in_progress"}


def test_commit_then_drop_books_once(books: Books) -> None:
    world = books.world
    world.add_order(5006)
    books.fault("commit_then_drop", "AddMutatie")
    with pytest.raises(UpstreamUnavailableError):
        book_order(world.services, world.shop, "5006")
    row = booking_row(world, 5006)
    assert row.state == "retrying" and row.uncertain
    assert len(books.mutations_for(5006)) == 1  # it did land
    lookups = books.calls("GetMutaties")
    assert book_order(world.services, world.shop, "5006").status == "booked"
    assert len(books.mutations_for(5006)) == 1
    assert books.calls("GetMutaties") == lookups + 1
    assert booking_row(world, 5006).mutation_number == books.mutations_for(5006)[0].number


def test_crash_between_the_post_and_the_register_write_books_once(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = books.world
    world.add_order(5007)

    class WorkerDied(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise WorkerDied

    monkeypatch.setattr(BookingStore, "mark_booked", die)
    with pytest.raises(WorkerDied):
        book_order(world.services, world.shop, "5007")
    monkeypatch.undo()
    assert booking_row(world, 5007).state == "posting"
    # While the dead worker's lease runs, nobody posts.
    assert book_order(world.services, world.shop, "5007").status == "in_progress"
    expire_lease(world, 5007)
    assert book_order(world.services, world.shop, "5007").status == "booked"
    assert len(books.mutations_for(5007)) == 1


def test_someone_elses_mutation_with_our_invoice_number_is_never_adopted(books: Books) -> None:
    """A hand-made invoice holds the number: the order fails with a reason, not "booked"."""
    world = books.world
    world.add_order(5008)
    books.hand_made_invoice("5008")
    outcome = book_order(world.services, world.shop, "5008")
    assert outcome.status == "failed"
    hand_made = books.mutations_for(5008)[0].number
    for fragment in (
        "Factuurnummer 5008 bestaat al",
        f"mutatie {hand_made}",
        "niet de boeking van bestelling 5008",
        "relatie HANDMATIG",
        "eigen factuurnummer",
        "opnieuw",
    ):
        assert fragment in outcome.reason
    row = booking_row(world, 5008)
    assert row.state == "failed" and row.error_code == "foreign_invoice"
    assert row.mutation_number is None
    assert len(books.mutations_for(5008)) == 1  # only the hand-made one


def test_our_own_mutation_is_adopted_when_the_register_forgot_it(books: Books) -> None:
    """The post says the number exists and it is this order's booking: adopt it (over
    REST the relation, ledgers and rows come back from GET /v1/mutation/{id} as codes)."""
    world = books.world
    world.add_order(5010)
    assert book_order(world.services, world.shop, "5010").status == "booked"
    first = books.mutations_for(5010)[0].number
    with transaction(world.services.engine) as conn:  # the register lost its row
        conn.execute(delete(bookings).where(bookings.c.order_number == "5010"))
    world.services.redis.flushdb()
    books.fresh_process()
    assert book_order(world.services, world.shop, "5010").status == "booked"
    assert [m.number for m in books.mutations_for(5010)] == [first]
    assert booking_row(world, 5010).mutation_number == first
    assert booking_row(world, 5010).invoice_number == "5010"


def test_e_boekhouden_down_then_recovered(books: Books) -> None:
    world = books.world
    world.add_order(5009)
    books.fault("http_status", "AddMutatie", times=3, status=503)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            book_order(world.services, world.shop, "5009")
        assert booking_row(world, 5009).state == "retrying"
    assert book_order(world.services, world.shop, "5009").status == "booked"
    assert len(books.mutations_for(5009)) == 1


def test_redis_flushed_between_bookings_books_nothing_twice(books: Books) -> None:
    world = books.world
    for number in (5020, 5021):
        world.add_order(number)
        book_order(world.services, world.shop, str(number))
    world.services.redis.flushdb()
    books.fresh_process()
    for number in (5020, 5021):
        assert book_order(world.services, world.shop, str(number)).status == "already_booked"
    assert len(books.mutations()) == 2
    assert world.services.booked.is_booked(world.shop.id, "5020")  # rebuilt from SQL


def test_permanent_error_fails_once_with_readable_reason(books: Books) -> None:
    world = books.world
    world.add_order(5030, kind="domestic")
    shop = dataclasses.replace(world.shop, mapping=MappingSettings(debtors_ledger="1399"))
    outcome = book_order(world.services, shop, "5030")  # 1399 is not in the chart
    assert outcome.status == "failed"
    row = booking_row(world, 5030)
    assert row.state == "failed" and row.attempts == 1
    assert "1399" in (row.reason or "") and row.last_error
    posts = books.calls("AddMutatie")
    assert book_order(world.services, shop, "5030").status == "failed"  # no retry by itself
    assert books.calls("AddMutatie") == posts
    world.services.store.bookings.request_retry(world.shop.id, row.id)
    assert book_order(world.services, world.shop, "5030").status == "booked"


def test_credit_order_books_a_negative_mutation(books: Books) -> None:
    world = books.world
    original = world.add_order(5040)
    book_order(world.services, world.shop, "5040")
    credit = world.sim_shop.add_order(
        make_order(5041, kind="credit", credited=original, date=dt.date(2026, 11, 3))
    )
    assert book_order(world.services, world.shop, "5041").status == "booked"
    [mutation] = books.mutations_for(5041)
    assert mutation.total == -abs(Decimal(str(credit["price"]["total"])))
    assert all(vat <= 0 for _, vat in mutation.rows)
    assert booking_row(world, 5041).kind == "credit"


def test_new_orders_of_one_new_customer_at_once_share_one_relation(books: Books) -> None:
    world = books.world
    numbers = [5050 + i for i in range(6)]
    for number in numbers:
        world.add_order(number, email="nieuwe.klant@example.nl")
    barrier = threading.Barrier(len(numbers))
    outcomes: list[str] = []

    def run(number: int) -> None:
        barrier.wait()
        outcomes.append(book_order(world.services, world.shop, str(number)).status)

    threads = [threading.Thread(target=run, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["booked"] * len(numbers)
    assert len(books.relations()) == 1


def test_a_relation_deleted_by_hand_is_created_again(books: Books) -> None:
    world = books.world
    world.add_order(5060, email="weg@example.nl")
    world.add_order(5061, email="weg@example.nl")
    book_order(world.services, world.shop, "5060")
    books.forget_relations()  # the bookkeeper deleted it
    assert book_order(world.services, world.shop, "5061").status == "booked"
    assert len(books.relations()) == 1


# --- one adapter, or none: what does not depend on it ------------------------------------


def test_skipped_orders_are_recorded_with_a_reason(world: World) -> None:
    world.add_order(5004, status=1)
    outcome = book_order(world.services, world.shop, "5004")
    assert outcome.status == "skipped"
    row = booking_row(world, 5004)
    assert row.state == "skipped" and "niet geboekt" in (row.reason or "")
    # Paid later: booked after all.
    world.sim_shop.set_status(5004, 3)
    assert book_order(world.services, world.shop, "5004").status == "booked"
    assert booking_row(world, 5004).state == "booked"


def test_unmappable_order_fails_with_what_to_configure(world: World) -> None:
    world.add_order(5005, kind="oss")
    outcome = book_order(world.services, world.shop, "5005")
    assert outcome.status == "failed"
    row = booking_row(world, 5005)
    assert row.state == "failed" and "OSS" in (row.reason or "")
    assert world.mutations_for(5005) == []


def test_an_unknown_order_is_not_booked(world: World) -> None:
    assert book_order(world.services, world.shop, "999999").status == "not_found"
    assert world.mutations() == []


def test_a_test_order_is_skipped_without_asking_anyone(world: World) -> None:
    outcome = book_order(world.services, world.shop, "T-77")
    assert outcome.status == "skipped" and "testbestelling" in outcome.reason
    assert world.mww.calls == [] and sum(world.eb.calls.values()) == 0
    # Nothing recorded either: a signed notification can invent any T- number.
    assert world.services.store.bookings.get(world.shop.id, "T-77") is None


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
        world.services.redis.flushdb()  # even without the fast path
        assert book_order(world.services, world.shop, "5070").status == "already_booked"
        assert rest.mutations(API_TOKEN) == []
        assert book_order(world.services, world.shop, "5071").status == "booked"
        assert [m["invoiceNumber"] for m in rest.mutations(API_TOKEN)] == ["5071"]
        assert len(world.mutations()) == 1  # SOAP kept its one booking
        assert booking_row(world, 5070).state == "booked"


def test_shops_add_with_an_api_token_books_through_rest(rest_books: RestBooks) -> None:
    """SOAP's ``shops add`` is tests/test_cli.py's."""
    books, rw = rest_books, rest_books.world
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
    assert len(books.mutations_for(8001)) == 1


def test_the_shared_session_id_is_encrypted_in_redis(world: World) -> None:
    """An e-Boekhouden session id books into the administration while it lives: in Redis
    it is stored encrypted with ENCRYPTION_KEY, never as the id itself (issue 26)."""
    world.add_order(5070)
    assert book_order(world.services, world.shop, "5070").status == "booked"
    [key] = world.services.redis.keys("mww:eb-session:*")
    stored = world.services.redis.get(key).decode()
    live = set(world.eb.books.sessions)
    assert live and stored not in live and not any(sid in stored for sid in live)
    assert world.services.vault.decrypt(stored) in live

    # A value that cannot be decrypted (ENCRYPTION_KEY changed) is a miss: a new session.
    world.services.redis.set(key, "gAAAAA-not-ours")
    world.services.close()
    world.add_order(5071)
    assert book_order(world.services, world.shop, "5071").status == "booked"
    assert world.services.vault.decrypt(world.services.redis.get(key).decode()) in set(
        world.eb.books.sessions
    )
