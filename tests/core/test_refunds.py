"""A sale's refunds over its credit notes (pure, app/core/refunds.py): each refund on one
credit note, once; by amount, then date; what fits nowhere is held with a reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.core.payment_facts import REFUND, MoneyMovement
from app.core.refunds import CreditNote, allocate_refunds


def day(n: int) -> dt.date:
    return dt.date(2026, 11, n)


def refund(key: str, amount: str, on: int, method: str = "ideal") -> MoneyMovement:
    return MoneyMovement(key, REFUND, day(on), Decimal(amount), method)


def note(number: str, total: str, on: int) -> CreditNote:
    return CreditNote(number, Decimal(total), day(on))


CASES = [
    # name, credit notes (number, total, day), refunds (key, amount, day), expected
    # allocation (key → credit number, or None: held)
    (
        "the issue: two credit orders of 10, refunds on day 2 and day 6",
        [("8102", "10.00", 1), ("8103", "10.00", 5)],
        [("r2", "10.00", 2), ("r6", "10.00", 6)],
        {"r2": "8102", "r6": "8103"},
    ),
    (
        "by amount before date",
        [("8102", "30.00", 1), ("8103", "10.00", 5)],
        [("r2", "10.00", 2), ("r6", "30.00", 6)],
        {"r2": "8103", "r6": "8102"},
    ),
    (
        "by date when no amount matches",
        [("8102", "30.00", 1), ("8103", "30.00", 5)],
        [("r2", "12.00", 2), ("r3", "12.00", 3)],
        {"r2": "8102", "r3": "8102"},
    ),
    (
        "a partial refund, then the rest",
        [("8102", "30.00", 1)],
        [("r2", "12.00", 2), ("r6", "18.00", 6)],
        {"r2": "8102", "r6": "8102"},
    ),
    ("no credit order at all", [], [("r2", "10.00", 2)], {"r2": None}),
    (
        "more refunded than credited",
        [("8102", "10.00", 1)],
        [("r2", "10.00", 2), ("r6", "5.00", 6)],
        {"r2": "8102", "r6": None},
    ),
    (
        "one refund is never split over two credit notes",
        [("8102", "10.00", 1), ("8103", "10.00", 1)],
        [("r2", "20.00", 2)],
        {"r2": None},
    ),
    (
        "same day: the lower credit number first",
        [("8110", "10.00", 1), ("8109", "10.00", 1)],
        [("r2", "10.00", 2)],
        {"r2": "8109"},
    ),
]


@pytest.mark.parametrize("name, notes, refunds, expected", CASES, ids=[c[0] for c in CASES])
def test_allocation(
    name: str,
    notes: list[tuple[str, str, int]],
    refunds: list[tuple[str, str, int]],
    expected: dict[str, str | None],
) -> None:
    moves = [refund(*r) for r in refunds]
    allocation = allocate_refunds("8101", [note(*n) for n in notes], moves, {})
    got = {m.key: allocation.to.get(m.key) for m in moves}
    assert got == expected
    for key, target in expected.items():
        assert (key in allocation.held) == (target is None)


def test_held_refunds_say_why_and_what_to_do() -> None:
    alone = allocate_refunds("8101", [], [refund("r", "10.00", 2)], {})
    assert "geen creditbestelling" in alone.held["r"]
    assert "Maak in Mijnwebwinkel een creditbestelling" in alone.held["r"]
    assert "niet met de" in alone.held["r"]  # and not by hand: it would be booked twice
    over = allocate_refunds(
        "8101", [note("8102", "10.00", 1)], [refund("a", "10.00", 2), refund("b", "5", 3)], {}
    )
    assert (
        "8102" in over.held["b"] and "€ 5,00" in over.held["b"] and "03-11-2026" in over.held["b"]
    )


def test_booked_refunds_stay_where_they_are() -> None:
    """A refund booked on 8103 stays there, even where the rule would now choose 8102."""
    notes = [note("8102", "10.00", 1), note("8103", "10.00", 5)]
    moves = [refund("r2", "10.00", 2), refund("r6", "10.00", 6)]
    allocation = allocate_refunds("8101", notes, moves, {"r2": "8103"})
    assert allocation.to == {"r2": "8103", "r6": "8102"}


amounts = st.integers(min_value=1, max_value=40).map(lambda c: Decimal(c) / 4)


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(amounts, st.integers(1, 20)), max_size=4),
    st.lists(st.tuples(amounts, st.integers(1, 20)), max_size=6),
    st.integers(0, 6),
)
def test_every_refund_once_never_over_a_credit_note_and_later_refunds_move_nothing(
    notes: list[tuple[Decimal, int]], refunds: list[tuple[Decimal, int]], cut: int
) -> None:
    credits = [CreditNote(f"9{i:03d}", total, day(on)) for i, (total, on) in enumerate(notes)]
    moves = [
        MoneyMovement(f"r{i:02d}", REFUND, day(on), amount, "ideal")
        for i, (amount, on) in enumerate(refunds)
    ]
    allocation = allocate_refunds("8101", credits, moves, {})
    for move in moves:  # booked on exactly one credit note, or held with a reason
        assert (move.key in allocation.to) != (move.key in allocation.held)
    for credit in credits:
        assert sum((m.amount for m in allocation.of(credit.number, moves)), Decimal(0)) <= (
            credit.total
        )
    # Refunds arriving later never move the ones before them.
    ordered = sorted(moves, key=lambda m: (m.date, m.key))
    earlier = ordered[:cut]
    before = allocate_refunds("8101", credits, earlier, {})
    assert {k: v for k, v in allocation.to.items() if k in before.to} == before.to
