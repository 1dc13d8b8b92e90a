"""map_order on the two captured orders (the spec example and the live shape)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.mapping import (
    Skip,
    is_credit,
    map_order,
)
from tests.factories import (
    DEFAULT,
    DROP,
    LIVE,
    SPEC,
    D,
    booked,
    fixture_order,
    rows,
    vat_per_rate,
)

# --- the two captured fixtures -------------------------------------------------------------

# The spec example states 9% 0.83 and 21% 6.50 in price.tax, while one row per ledger would
# book 0.82 and 6.51: the 8010 and 9% rows are split at an order line on the same ledger
# (8010 still 30.75, 8000 at 9% still 9.96), each row on the standard relation.
SPEC_ROWS = [
    "HOOG_VERK_21 8010 15.00 12.40 2.60",
    "HOOG_VERK_21 8010 15.75 13.02 2.73",
    "LAAG_VERK_9 8000 9.75 8.94 0.81",
    "LAAG_VERK_9 8000 0.21 0.19 0.02",
    "HOOG_VERK_21 8000 6.74 5.57 1.17",
]
SPEC_VAT = {D(9): D("0.83"), D(21): D("6.50")}


def test_spec_example_is_a_credit_note_in_a_status_that_is_not_booked() -> None:
    spec = fixture_order(SPEC)
    assert spec.credited_order_number == "28"
    assert is_credit(spec, DEFAULT)
    result = map_order(spec, DEFAULT)
    assert result == Skip(
        "status_not_bookable", "Bestelling 27 heeft status 1; die status wordt niet geboekt."
    )


@pytest.mark.parametrize("status", [2, 3, 6, 10])
def test_spec_example_as_credit_note(status: int) -> None:
    result = booked(map_order(fixture_order(SPEC, status=status), DEFAULT))
    assert result.kind == "credit"
    assert result.total == D("-47.45")
    assert rows(result) == [
        "HOOG_VERK_21 8010 -15.00 -12.40 -2.60",
        "HOOG_VERK_21 8010 -15.75 -13.02 -2.73",
        "LAAG_VERK_9 8000 -9.75 -8.94 -0.81",
        "LAAG_VERK_9 8000 -0.21 -0.19 -0.02",
        "HOOG_VERK_21 8000 -6.74 -5.57 -1.17",
    ]
    assert vat_per_rate(result) == {rate: -vat for rate, vat in SPEC_VAT.items()}
    assert result.mutations[0].description.startswith("Creditnota 27 bij bestelling 28")


@pytest.mark.parametrize("status", [2, 3, 6])
def test_spec_example_without_credited_order_number(status: int) -> None:
    spec = fixture_order(SPEC, status=status, credited_order_number=DROP)
    assert not is_credit(spec, DEFAULT)
    result = booked(map_order(spec, DEFAULT))
    assert result.kind == "order"
    assert result.total == D("47.45")
    assert rows(result) == SPEC_ROWS
    # the VAT per rate is the shop's own VAT summary: 9% 0.83 and 21% 6.50
    assert vat_per_rate(result) == SPEC_VAT == {t.rate: t.amount for t in spec.tax}
    invoice = result.mutations[0]
    assert (invoice.invoice_number, invoice.date, invoice.ledger) == (
        "27",
        dt.date(2015, 11, 3),
        "1300",
    )
    relation = result.relation
    assert (relation.name, relation.contact, relation.bp) == (
        "Voorbeeldig BV",
        "Truus voorbeeldig",
        "B",
    )
    assert (relation.address, relation.postcode, relation.city, relation.country) == (
        "Molenstraat 62",
        "5341GE",
        "Oss",
        "NL",
    )
    assert (relation.email, relation.phone) == ("support@mijnwebwinkel.nl", "06-12345678")
    assert invoice.relation_code == relation.code


def test_spec_example_with_null_credited_order_number() -> None:
    spec = fixture_order(SPEC, status=3, credited_order_number=None)
    assert rows(map_order(spec, DEFAULT)) == SPEC_ROWS


def test_live_shape_is_a_credit_note() -> None:
    live = fixture_order(LIVE)
    assert is_credit(live, DEFAULT)
    result = booked(map_order(live, DEFAULT))
    assert result.kind == "credit"
    assert result.total == D("-68.00")
    assert rows(result) == ["HOOG_VERK_21 8010 -68.00 -56.20 -11.80"]
    assert result.mutations[0].invoice_number == "1001"
    assert result.mutations[0].description == "Creditnota 1001 bij bestelling 999 - Test User"


def test_live_shape_without_credited_order_number() -> None:
    live = fixture_order(LIVE, credited_order_number=DROP)
    result = booked(map_order(live, DEFAULT))
    assert result.kind == "order"
    assert result.total == D("68.00")
    assert rows(result) == ["HOOG_VERK_21 8010 68.00 56.20 11.80"]
    # the row's VAT equals the shop's own single-object VAT summary
    assert result.mutations[0].rows[0].amount_vat == live.tax[0].amount
    relation = result.relation  # no address.invoice: the deprecated debtor-level fields
    assert (relation.name, relation.bp, relation.email) == ("Test User", "P", "test@example.com")
    assert relation.country == ""  # "country": [] and no invoice address
    wire = result.mutations[0].to_wire()
    assert wire["Factuurnummer"] == "1001"
    assert wire["Datum"] == dt.date(2025, 1, 1)
