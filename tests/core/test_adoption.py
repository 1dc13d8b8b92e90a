"""Whether a mutation e-Boekhouden already has under our Factuurnummer is ours (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from app.core.adoption import difference, not_ours_message, payment_difference
from app.core.mapping import map_order
from app.core.mutations import (
    BookedMutation,
    ExistingRelation,
    Mutation,
    MutationRow,
    Relation,
    Soort,
)
from app.core.relations import relation_changes
from tests.factories import DEFAULT, D, booked, order

OURS = booked(map_order(order(number=7001), DEFAULT)).mutations[0]
ROWS = tuple((r.ledger, r.btw_code, r.amount_incl) for r in OURS.rows)


def existing(**changes: Any) -> BookedMutation:
    values: dict[str, Any] = {
        "number": 42,
        "soort": "FactuurVerstuurd",
        "date": dt.date(2025, 3, 14),
        "invoice_number": "7001",
        "total": OURS.total,
        "relation_code": OURS.relation_code,
        "rows": ROWS,
    }
    values.update(changes)
    return BookedMutation(**values)


@pytest.mark.parametrize(
    ("changes", "codes", "reason"),
    [
        ({}, set(), ""),
        ({"rows": ()}, set(), ""),  # rows not returned: Soort, relation and total decide
        ({"relation_code": OURS.relation_code.lower()}, set(), ""),
        ({"relation_code": "HANDMATIG"}, {"HANDMATIG"}, ""),  # the relation found by e-mail
        ({"rows": tuple(reversed(ROWS))}, set(), ""),
        ({"soort": "GeldOntvangen"}, set(), "het is een Geld ontvangen, geen Factuur verstuurd"),
        ({"relation_code": "HANDMATIG"}, set(), "ze staat op relatie HANDMATIG"),
        ({"relation_code": ""}, set(), "ze staat op relatie geen relatie"),
        ({"total": Decimal("99.99")}, set(), "het totaal is € 99,99, niet € 12,10"),
        ({"total": -OURS.total}, set(), "het totaal is € -12,10"),
        ({"rows": (("8000", "HOOG_VERK_21", D("12.10")),)}, set(), "de boekingsregels"),
        ({"rows": (("8010", "LAAG_VERK_9", D("12.10")),)}, set(), "de boekingsregels"),
        ({"rows": (*ROWS, ("8010", "HOOG_VERK_21", D("0.00")))}, set(), "de boekingsregels"),
    ],
)
def test_difference(changes: dict[str, Any], codes: set[str], reason: str) -> None:
    found = difference(existing(**changes), OURS, {OURS.relation_code, *codes})
    assert found.startswith(reason) if reason else found == ""


def test_not_ours_message_names_the_mutation_and_what_to_do() -> None:
    message = not_ours_message("7001", existing(total=D("99.99")), "het totaal is anders")
    for fragment in (
        "Factuurnummer 7001 bestaat al",
        "mutatie 42",
        "Factuur verstuurd",
        "14-03-2025",
        "€ 99,99",
        "niet de boeking van bestelling 7001",
        "het totaal is anders",
        "niet geboekt",
        "W1-{number}",
        "opnieuw",
    ):
        assert fragment in message


RELATION = Relation(
    code="MWWX", name="Holzwerk GmbH", bp="B", vat_number="DE123456789", company="Holzwerk GmbH"
)


@pytest.mark.parametrize(
    ("found", "changes", "warnings"),
    [
        (
            ExistingRelation(1, "K1", "Holzwerk GmbH", vat_number=""),
            {"BTWNummer": "DE123456789"},
            [],
        ),
        (ExistingRelation(1, "K1", "Holzwerk GmbH", vat_number="de 123 456 789"), {}, []),
        (
            ExistingRelation(1, "K1", "", vat_number="DE123456789"),
            {"Bedrijf": "Holzwerk GmbH", "BP": "B"},
            [],
        ),
        (ExistingRelation(1, "K1", "holzwerk gmbh", vat_number="DE123456789"), {}, []),
        (
            ExistingRelation(1, "K1", "Holzwerk GmbH", vat_number="DE999999999"),
            {},
            ["btw-nummer DE999999999"],
        ),
        (
            ExistingRelation(1, "K1", "Jan Holz", vat_number=""),
            {"BTWNummer": "DE123456789"},
            ["heet in e-Boekhouden Jan Holz"],
        ),
    ],
)
def test_relation_changes(
    found: ExistingRelation, changes: dict[str, str], warnings: list[str]
) -> None:
    got_changes, got_warnings = relation_changes(found, RELATION)
    assert got_changes == changes
    assert len(got_warnings) == len(warnings)
    for text, fragment in zip(got_warnings, warnings, strict=True):
        assert fragment in text and "niet aangepast" in text


def test_a_private_order_changes_nothing() -> None:
    private = Relation(code="MWWX", name="Jan", bp="P")
    assert relation_changes(ExistingRelation(1, "K1", "Iemand anders"), private) == ({}, [])


def test_laag_verk_is_found_back_as_laag_verk_9() -> None:
    """The REST API books the legacy LAAG_VERK as LAAG_VERK_9: still our own mutation."""
    from app.core.adoption import _rows

    assert _rows((("8000", "LAAG_VERK", D("10.90")),)) == _rows(
        (("8000", "laag_verk_9", D("10.90")),)
    )


# --- payments (issue 23): adopted after a lost answer only when they are ours ------------

PAYMENT = Mutation(
    Soort.FACTUURBETALING_ONTVANGEN,
    dt.date(2026, 11, 5),
    "1010",
    "W1-8101",
    "Betaling bestelling 8101 (iDEAL)",
    (MutationRow(D("24.99"), D("24.99"), D("0"), "GEEN", D("0"), "1300"),),
    relation_code="MWWABC",
)


def found_payment(**changes: Any) -> BookedMutation:
    values: dict[str, Any] = {
        "number": 77,
        "soort": "FactuurbetalingOntvangen",
        "date": dt.date(2026, 11, 5),
        "invoice_number": "W1-8101",
        "total": D("24.99"),
        "relation_code": "MWWABC",
        "rows": (("1300", "GEEN", D("24.99")),),
        "ledger": "1010",
    }
    values.update(changes)
    return BookedMutation(**values)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, ""),
        ({"ledger": ""}, ""),  # the Rekening not returned: the rest decides
        ({"invoice_number": "w1-8101"}, ""),
        ({"invoice_number": "8101"}, "het factuurnummer is 8101"),  # another shop's invoice
        ({"relation_code": "MWWOTHER"}, "ze staat op relatie MWWOTHER"),
        ({"total": D("25.00"), "rows": ()}, "het totaal is € 25,00"),
        ({"date": dt.date(2026, 11, 6)}, "de datum is 06-11-2026"),
        ({"ledger": "1100"}, "ze staat op rekening 1100"),
        ({"soort": "FactuurVerstuurd"}, "het is een Factuur verstuurd"),
    ],
)
def test_payment_difference(changes: dict[str, Any], reason: str) -> None:
    found = payment_difference(found_payment(**changes), PAYMENT, {"MWWABC"})
    assert found.startswith(reason) if reason else found == ""
