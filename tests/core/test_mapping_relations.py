"""map_order relations: the debtor code and fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.core.mapping import (
    MAX_RELATION_CODE,
    build_relation,
    map_order,
    relation_code,
)
from tests.factories import (
    DEFAULT,
    LIVE,
    booked,
    debtor,
    fixture_order,
    order,
    settings,
)

# --- the relation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("klant@example.com", "KLANT@example.com"),
        ("klant@example.com", "  klant@example.com "),
        ("Klant@Example.COM", " klant@example.com\t"),
    ],
)
def test_relation_code_is_stable_per_email(a: str, b: str) -> None:
    first = map_order(order(debtor=debtor(a)), DEFAULT)
    second = map_order(order(number=1002, debtor=debtor(b, name="Iemand Anders")), DEFAULT)
    assert booked(first).relation.code == booked(second).relation.code
    assert relation_code("MWW", a) == relation_code("MWW", b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("klant@example.com", "klant2@example.com"), ("a@example.com", "a@example.nl")],
)
def test_relation_code_differs_per_email(a: str, b: str) -> None:
    assert relation_code("MWW", a) != relation_code("MWW", b)


@pytest.mark.parametrize(
    ("prefix", "starts"),
    [
        ("MWW", "MWW"),
        ("", ""),
        ("WEBSHOP", "WEBSHOP"),
        ("VERYLONGPREFIX", "VERYLON"),
        ("A" * 40, "A" * 7),
    ],
)
def test_relation_code_at_most_15(prefix: str, starts: str) -> None:
    result = booked(map_order(order(), settings(relation_prefix=prefix)))
    code = result.relation.code
    assert len(code) == MAX_RELATION_CODE == 15
    assert code.startswith(starts)
    assert code.isalnum()
    assert result.mutations[0].relation_code == code


def test_relation_code_known_value() -> None:
    # pinned: changing the derivation would create duplicate debtors for existing customers
    assert relation_code("MWW", "test@example.com") == "MWWS4674RR6ZBLY"
    assert booked(map_order(fixture_order(LIVE), DEFAULT)).relation.code == "MWWS4674RR6ZBLY"


RELATION_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]] = [
    (
        "private",
        {"debtor": debtor("jan@example.com", name="Jan Jansen")},
        {},
        {
            "name": "Jan Jansen",
            "bp": "P",
            "contact": "",
            "address": "Molenstraat 62",
            "postcode": "5341GE",
            "city": "Oss",
            "country": "NL",
            "email": "jan@example.com",
            "phone": "06-12345678",
            "vat_number": "",
        },
    ),
    (
        "company",
        {"debtor": debtor(company="Jansen BV", name="Jan Jansen", taxnumber="NL001234567B01")},
        {},
        {"name": "Jansen BV", "bp": "B", "contact": "Jan Jansen", "vat_number": "NL001234567B01"},
    ),
    ("b2b-without-company", {"business_model": "B2B"}, {}, {"bp": "B", "contact": ""}),
    ("no-house-number", {"debtor": debtor(number="")}, {}, {"address": "Molenstraat"}),
    ("foreign-country", {"debtor": debtor(country_code="be")}, {}, {"country": "BE"}),
    (
        "country-from-shipping",
        {"debtor": debtor(country_code=""), "shipping": [{"country": {"isocode": "DE"}}]},
        {},
        {"country": "DE"},
    ),
    (
        "only-email",
        {"debtor": {"email": "x@example.com"}},
        {},
        {"name": "x@example.com", "bp": "P", "email": "x@example.com", "country": "NL"},
    ),
    (
        "deprecated-debtor-fields",
        {"debtor": {"email": "a@example.com", "name": "Ann", "company": "Ann BV", "phone": "010"}},
        {},
        {"name": "Ann BV", "contact": "Ann", "bp": "B", "phone": "010", "address": ""},
    ),
    ("no-email-uses-name", {"debtor": debtor("", name="Piet")}, {}, {"name": "Piet", "email": ""}),
]


@pytest.mark.parametrize(
    ("overrides", "mapping_changes", "expected"),
    [pytest.param(ov, mc, ex, id=i) for i, ov, mc, ex in RELATION_CASES],
)
def test_relation_fields(
    overrides: dict[str, Any], mapping_changes: dict[str, Any], expected: dict[str, str]
) -> None:
    relation = booked(map_order(order(**overrides), settings(**mapping_changes))).relation
    for name, value in expected.items():
        assert getattr(relation, name) == value, name


def test_relation_without_email_is_deterministic() -> None:
    a = build_relation(order(debtor=debtor("", name="Piet")), DEFAULT)
    b = build_relation(order(debtor=debtor("", name="PIET ")), DEFAULT)
    c = build_relation(order(debtor=debtor("", name="Piet", zipcode="1234AB")), DEFAULT)
    assert a.code == b.code != c.code
    assert len(a.code) == 15


def test_relation_to_wire() -> None:
    relation = booked(map_order(order(debtor=debtor(company="Jansen BV")), DEFAULT)).relation
    wire = relation.to_wire(dt.date(2025, 3, 14))
    assert wire["Code"] == relation.code
    assert wire["Bedrijf"] == "Jansen BV"
    assert wire["BP"] == "B"
    assert wire["Email"] == "klant@example.com"


# --- the collective debtor (verzameldebiteur) ---------------------------------------------

COLLECTIVE = settings(collective_debtor="PARTICULIER")


@pytest.mark.parametrize(
    ("name", "data", "collective"),
    [
        ("consumer", {}, True),
        ("consumer-abroad", {"country_code": "BE"}, True),
        ("company-name", {"company": "Voorbeeld BV"}, False),
        ("vat-number", {"company": "Voorbeeld BV", "taxnumber": "NL123456789B01"}, False),
    ],
)
def test_collective_debtor_is_for_consumers_only(
    name: str, data: dict[str, Any], collective: bool
) -> None:
    relation = build_relation(order(debtor=debtor(**data)), COLLECTIVE)
    if collective:
        assert (relation.code, relation.bp, relation.email, relation.address) == (
            "PARTICULIER",
            "P",
            "",
            "",
        )
    else:
        assert relation.code.startswith("MWW") and relation.bp == "B"


def test_a_b2b_shop_order_keeps_its_own_relation_on_a_collective_debtor() -> None:
    relation = build_relation(order(business_model="B2B"), COLLECTIVE)
    assert relation.code != "PARTICULIER"


def test_without_a_collective_debtor_every_consumer_has_a_relation() -> None:
    assert build_relation(order(), DEFAULT).code == relation_code("MWW", "klant@example.com")
