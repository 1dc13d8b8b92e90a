"""The booking pipeline against both simulators over HTTP, on both backends.

Exactly once under faults: concurrency, lost answers, crashes between AddMutatie and the
ledger write, Redis losing its data, e-Boekhouden down for a while, permanent errors.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete

from app.booking.pipeline import book_order
from app.core.mapping_settings import MappingSettings
from app.errors import UpstreamUnavailableError
from app.store.bookings import BookingStore
from app.store.db import bookings, transaction
from tests.helpers import EB_USER, World, booking_row, expire_lease


def test_a_paid_order_is_booked_with_its_relation(world: World) -> None:
    order = world.add_order(5001)
    outcome = book_order(world.services, world.shop, "5001")
    assert outcome.status == "booked"
    [mutation] = world.mutations_for(5001)
    assert mutation["Soort"] == "FactuurVerstuurd"
    assert mutation["Rekening"] == "1300"
    rows = mutation["MutatieRegels"]
    assert sum(Decimal(r["BedragInclBTW"]) for r in rows) == Decimal(str(order["price"]["total"]))
    row = booking_row(world, 5001)
    assert (row.state, row.mutation_number) == ("booked", outcome.mutation_number)
    assert row.relation_code == mutation["RelatieCode"]
    assert [r["Code"] for r in world.eb.relations(EB_USER)] == [mutation["RelatieCode"]]


def test_booking_twice_books_once_and_the_second_time_calls_nobody(world: World) -> None:
    world.add_order(5002)
    assert book_order(world.services, world.shop, "5002").status == "booked"
    calls_before = len(world.mww.calls), sum(world.eb.calls.values())
    assert book_order(world.services, world.shop, "5002").status == "already_booked"
    assert (len(world.mww.calls), sum(world.eb.calls.values())) == calls_before
    assert len(world.mutations_for(5002)) == 1


def test_returning_customer_costs_one_soap_call_per_order(world: World) -> None:
    for number in range(5010, 5015):
        world.add_order(number, email="vaste.klant@example.nl")
    book_order(world.services, world.shop, "5010")
    before = sum(world.eb.calls.values())
    for number in range(5011, 5015):
        assert book_order(world.services, world.shop, str(number)).status == "booked"
    assert sum(world.eb.calls.values()) - before == 4  # AddMutatie only
    assert len(world.eb.relations(EB_USER)) == 1


def test_twenty_concurrent_jobs_for_one_order_book_it_once(world: World) -> None:
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
    assert len(world.mutations_for(5003)) == 1
    assert outcomes.count("booked") == 1
    assert set(outcomes) <= {"booked", "already_booked", "in_progress"}


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


def test_commit_then_drop_books_once(world: World) -> None:
    world.add_order(5006)
    world.eb.faults.add("commit_then_drop", operation="AddMutatie")
    with pytest.raises(UpstreamUnavailableError):
        book_order(world.services, world.shop, "5006")
    row = booking_row(world, 5006)
    assert row.state == "retrying" and row.uncertain
    assert len(world.mutations_for(5006)) == 1  # it did land
    get_mutaties = world.eb.calls["GetMutaties"]
    assert book_order(world.services, world.shop, "5006").status == "booked"
    assert len(world.mutations_for(5006)) == 1
    assert world.eb.calls["GetMutaties"] == get_mutaties + 1
    assert booking_row(world, 5006).mutation_number == world.mutations_for(5006)[0]["MutatieNr"]


def test_crash_between_add_mutatie_and_ledger_write_books_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    assert len(world.mutations_for(5007)) == 1


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


def test_someone_elses_mutation_with_our_invoice_number_is_never_adopted(world: World) -> None:
    """A hand-made invoice holds the number: the order fails with a reason, not "booked"."""
    world.add_order(5008)
    world.eb.add_relation(EB_USER, "HANDMATIG", "Klant met de hand")
    world.eb.book(
        EB_USER,
        {
            "Soort": "FactuurVerstuurd",
            "Datum": dt.date(2026, 11, 2),
            "Rekening": "1300",
            "RelatieCode": "HANDMATIG",
            "Factuurnummer": "5008",
            "MutatieRegels": [HAND_ROW],
        },
    )
    outcome = book_order(world.services, world.shop, "5008")
    assert outcome.status == "failed"
    hand_made = world.mutations_for(5008)[0]["MutatieNr"]
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
    assert len(world.mutations_for(5008)) == 1  # only the hand-made one


def test_our_own_mutation_is_adopted_when_the_ledger_forgot_it(world: World) -> None:
    """AddMutatie says the number exists and it is this order's booking: adopt it."""
    world.add_order(5010)
    assert book_order(world.services, world.shop, "5010").status == "booked"
    first = world.mutations_for(5010)[0]["MutatieNr"]
    with transaction(world.services.engine) as conn:  # the ledger lost its row
        conn.execute(delete(bookings).where(bookings.c.order_number == "5010"))
    world.services.redis.flushdb()
    assert book_order(world.services, world.shop, "5010").status == "booked"
    assert [m["MutatieNr"] for m in world.mutations_for(5010)] == [first]
    assert booking_row(world, 5010).mutation_number == first
    assert booking_row(world, 5010).invoice_number == "5010"


def test_e_boekhouden_down_then_recovered(world: World) -> None:
    world.add_order(5009)
    world.eb.faults.add("http_status", operation="AddMutatie", times=3, status=503)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailableError):
            book_order(world.services, world.shop, "5009")
        assert booking_row(world, 5009).state == "retrying"
    assert book_order(world.services, world.shop, "5009").status == "booked"
    assert len(world.mutations_for(5009)) == 1


def test_redis_flushed_between_bookings_books_nothing_twice(world: World) -> None:
    for number in (5020, 5021):
        world.add_order(number)
        book_order(world.services, world.shop, str(number))
    world.services.redis.flushall()
    for number in (5020, 5021):
        assert book_order(world.services, world.shop, str(number)).status == "already_booked"
    assert len(world.mutations()) == 2
    assert world.services.booked.is_booked(world.shop.id, "5020")  # rebuilt from SQL


def test_permanent_error_fails_once_with_readable_reason(world: World) -> None:
    world.add_order(5030, kind="domestic")
    mapping = MappingSettings(debtors_ledger="1399")  # not in the chart
    shop = world.shop.__class__(
        **{
            **{
                f: getattr(world.shop, f)
                for f in (
                    "id",
                    "name",
                    "status",
                    "webhook_key",
                    "credentials",
                    "webhook_secrets",
                    "watermark",
                    "status_error",
                )
            },
            "mapping": mapping,
        }
    )
    outcome = book_order(world.services, shop, "5030")
    assert outcome.status == "failed"
    row = booking_row(world, 5030)
    assert row.state == "failed" and row.attempts == 1
    assert "1399" in (row.reason or "") and row.last_error
    adds = world.eb.calls["AddMutatie"]
    assert book_order(world.services, shop, "5030").status == "failed"  # no retry by itself
    assert world.eb.calls["AddMutatie"] == adds
    world.services.store.bookings.request_retry(world.shop.id, row.id)
    assert book_order(world.services, world.shop, "5030").status == "booked"


def test_credit_order_books_a_negative_mutation(world: World) -> None:
    original = world.add_order(5040)
    book_order(world.services, world.shop, "5040")
    from sandbox.order_factory import make_order

    credit = world.sim_shop.add_order(
        make_order(5041, kind="credit", credited=original, date=dt.date(2026, 11, 3))
    )
    assert book_order(world.services, world.shop, "5041").status == "booked"
    [mutation] = world.mutations_for(5041)
    total = sum(Decimal(r["BedragInclBTW"]) for r in mutation["MutatieRegels"])
    assert total == -abs(Decimal(str(credit["price"]["total"])))
    assert booking_row(world, 5041).kind == "credit"


def test_an_unknown_order_is_not_booked(world: World) -> None:
    assert book_order(world.services, world.shop, "999999").status == "not_found"
    assert world.mutations() == []


def test_two_new_orders_of_one_new_customer_at_once_share_one_relation(world: World) -> None:
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
    assert len(world.eb.relations(EB_USER)) == 1


def test_a_relation_deleted_by_hand_is_created_again(world: World) -> None:
    world.add_order(5060, email="weg@example.nl")
    world.add_order(5061, email="weg@example.nl")
    book_order(world.services, world.shop, "5060")
    world.eb.books.admin(EB_USER).relations.clear()  # the bookkeeper deleted it
    assert book_order(world.services, world.shop, "5061").status == "booked"
    assert len(world.eb.relations(EB_USER)) == 1


def test_a_test_order_is_skipped_without_asking_anyone(world: World) -> None:
    outcome = book_order(world.services, world.shop, "T-77")
    assert outcome.status == "skipped" and "testbestelling" in outcome.reason
    assert world.mww.calls == [] and sum(world.eb.calls.values()) == 0
    # Nothing recorded either: a signed notification can invent any T- number.
    assert world.services.store.bookings.get(world.shop.id, "T-77") is None


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
