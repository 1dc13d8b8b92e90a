"""Issue 25: ``list_mutations`` on both adapters against their simulators: every mutation
of a period with its rows, and what it cost. SOAP answers at most 500 per GetMutaties
(here a simulator capped at 4, so the halving by date and by number is exercised);
REST filters with ``date[range]`` and reads each mutation in full. Changes made "by hand"
in the simulators are what the listing returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from app.clients.eboekhouden import EBoekhoudenClient, listing
from app.clients.eboekhouden.listing import halves
from app.clients.eboekhouden_rest import EBoekhoudenRestClient, clear_caches
from app.core.mutations import Mutation, MutationRow, Relation, Soort
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.server import ServerThread

USER, CODE1, CODE2, TOKEN = "lijst", "lijst-code-1", "LIJST-CODE-2", "lijst-api-token"
CAP = 4
# (day of October 2026, amount incl. 21 %): six on the 7th (more than the cap in a day)
BOOKED = [(1, "12.10"), (3, "24.20"), (7, "1.21"), (7, "2.42"), (7, "3.63"), (7, "4.84")]
BOOKED += [(7, "6.05"), (7, "7.26"), (20, "121.00"), (31, "60.50")]
BOOKED += [(30, "9.68")]  # september: outside the period
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2026, 10, 31)


def mutation(number: int, day: int, incl: str) -> Mutation:
    amount = Decimal(incl)
    vat = (amount * 21 / 121).quantize(Decimal("0.01"))
    date = dt.date(2026, 9 if number == len(BOOKED) else 10, day)
    row = MutationRow(amount, amount - vat, vat, "HOOG_VERK_21", Decimal(21), "8010")
    return Mutation(Soort.FACTUUR_VERSTUURD, date, "1300", f"L-{number}", "lijst", (row,), "REL1")


@pytest.fixture(params=["soap", "rest"])
def adapter(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, object, object]]:
    relation = Relation("REL1", "Klant", "P")
    if request.param == "soap":
        monkeypatch.setattr(listing, "GET_MUTATIES_CAP", CAP)  # the simulator's, below
        sim = EBoekhoudenSimulator(get_mutaties_cap=CAP)
        sim.add_administration(USER, CODE1, CODE2)
        with ServerThread(sim) as server:
            client = EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + SOAP_PATH)
            client.add_relation(relation)
            yield "soap", sim, client
            client.close()
    else:
        clear_caches()
        rest = EBoekhoudenRestSimulator()
        rest.add_administration(TOKEN)
        with ServerThread(rest) as server:
            client = EBoekhoudenRestClient(TOKEN, url=server.url)
            client.add_relation(relation)
            yield "rest", rest, client
            client.close()


def test_every_mutation_of_the_period_with_rows_and_calls(adapter) -> None:  # type: ignore[no-untyped-def]
    kind, sim, client = adapter
    numbers = [
        client.add_mutation(mutation(i, day, incl))  # type: ignore[attr-defined]
        for i, (day, incl) in enumerate(BOOKED, start=1)
    ]
    seen: list[int] = []
    found = client.list_mutations(FIRST, LAST, progress=seen.append)  # type: ignore[attr-defined]
    assert [m.number for m in found.mutations] == numbers[:-1]  # by date, then number
    assert {m.invoice_number for m in found.mutations} == {f"L-{i}" for i in range(1, 11)}
    first = found.mutations[0]
    assert first.soort == "FactuurVerstuurd" and first.date == dt.date(2026, 10, 1)
    assert first.ledger == "1300"
    [line] = first.lines
    assert (line.ledger, line.btw_code, line.incl, line.vat, line.excl) == (
        "8010",
        "HOOG_VERK_21",
        Decimal("12.10"),
        Decimal("2.10"),
        Decimal("10.00"),
    )
    assert seen and seen[-1] == 10
    if kind == "soap":
        # 10 in the period, 6 of them on the 7th, at most 4 an answer: the month and its
        # halves by date (1-31, 17-31, 1-16, 9-16, 1-8, 5-8, 7-8, 8-8, 7-7, 5-6, 1-4),
        # then the 7th by mutation number (from 7, up to 6, 5-6, up to 4): 15 calls.
        assert found.calls == sim.admin_calls(USER)["GetMutaties"] == 15  # type: ignore[attr-defined]
    else:
        assert found.calls == 1 + 10  # one page, one call per mutation


def test_a_change_or_deletion_by_hand_is_what_the_listing_returns(adapter) -> None:  # type: ignore[no-untyped-def]
    kind, sim, client = adapter
    kept = client.add_mutation(mutation(1, 5, "121.00"))  # type: ignore[attr-defined]
    gone = client.add_mutation(mutation(2, 6, "60.50"))  # type: ignore[attr-defined]
    if kind == "soap":
        sim.change_mutation(USER, kept, incl=Decimal("100.00"), btw_code="LAAG_VERK_9")  # type: ignore[attr-defined]
        sim.delete_mutation(USER, gone)  # type: ignore[attr-defined]
    else:
        sim.change_mutation(TOKEN, kept, amount=Decimal("100.00"), vat_code="LAAG_VERK_9")  # type: ignore[attr-defined]
        sim.delete_mutation(TOKEN, gone)  # type: ignore[attr-defined]
    [found] = client.list_mutations(FIRST, LAST).mutations  # type: ignore[attr-defined]
    assert found.number == kept and found.total == Decimal("100.00")
    [line] = found.lines
    assert (line.btw_code, line.vat, line.excl) == (
        "LAAG_VERK_9",
        Decimal("8.26"),
        Decimal("91.74"),
    )


@pytest.mark.parametrize(
    ("full", "numbers", "expected"),
    [
        (
            (dt.date(2026, 10, 1), dt.date(2026, 10, 31), 0, 0),
            [1, 2],
            [
                (dt.date(2026, 10, 1), dt.date(2026, 10, 16), 0, 0),
                (dt.date(2026, 10, 17), dt.date(2026, 10, 31), 0, 0),
            ],
        ),
        (
            (dt.date(2026, 10, 7), dt.date(2026, 10, 7), 0, 0),
            [40, 10, 30, 20],
            [
                (dt.date(2026, 10, 7), dt.date(2026, 10, 7), 0, 20),
                (dt.date(2026, 10, 7), dt.date(2026, 10, 7), 21, 0),
            ],
        ),
        (
            (dt.date(2026, 10, 7), dt.date(2026, 10, 7), 21, 0),
            [21, 22],
            [
                (dt.date(2026, 10, 7), dt.date(2026, 10, 7), 21, 21),
                (dt.date(2026, 10, 7), dt.date(2026, 10, 7), 22, 0),
            ],
        ),
    ],
)
def test_a_full_answer_is_read_again_in_halves(full, numbers, expected) -> None:  # type: ignore[no-untyped-def]
    assert halves(full, numbers) == expected
