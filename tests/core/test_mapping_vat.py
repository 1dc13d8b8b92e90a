"""map_order VAT: the VAT per rate is the invoice's (``price.tax``), every row on the
standard relation VAT = round(incl × p / (100 + p)); rounding traps and cents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.core.mapping import map_order
from app.core.mapping_settings import (
    MappingSettings,
)
from app.core.order_schema import parse_order
from app.core.vat import vat_of
from app.errors import MappingError
from tests.factories import (
    DEFAULT,
    KORTING_8900,
    OWN_LEDGERS,
    D,
    booked,
    check_order_rows,
    line,
    order_json,
    row_cases,
    rows,
    rule,
    settings,
    split_line,
    vat_per_rate,
)
from tests.mapping_cases import ROUNDING_CASES


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(ROUNDING_CASES))
def test_rounding_rows(
    lines: list[dict[str, Any]],
    overrides: dict[str, Any],
    mapping: MappingSettings,
    expected: list[str],
) -> None:
    check_order_rows(lines, overrides, mapping, expected)


# --- the VAT per rate is the invoice's --------------------------------------------------------

Tax = list[dict[str, str]] | None  # price.tax as sent; None: the rate's own VAT (factories)


def tax(**per_rate: str) -> list[dict[str, str]]:
    """``tax(r21="6.50", r9="0.83")`` → a ``price.tax`` list."""
    return [{"rate": key[1:], "amount": amount} for key, amount in per_rate.items()]


# (id, lines, price.tax, overrides, settings, expected rows, expected VAT per rate)
PER_RATE_CASES: list[
    tuple[
        str,
        list[dict[str, Any]],
        Tax,
        dict[str, Any],
        MappingSettings,
        list[str],
        dict[Decimal, Decimal],
    ]
] = [
    # the example: 4.34 + 1.21 = 5.55 per row, the invoice says 5.54
    (
        "article-8010-shipping-8000",
        [line("article", "24.99", 21), line("shipping", "6.95", 21)],
        None,
        {},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 24.97 20.64 4.33",
            "HOOG_VERK_21 8010 0.02 0.02 0.00",
            "HOOG_VERK_21 8000 6.95 5.74 1.21",
        ],
        {D(21): D("5.54")},
    ),
    (
        "no-split-needed",
        [line("article", "12.10", 21), line("shipping", "4.95", 21)],
        None,
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 4.95 4.09 0.86"],
        {D(21): D("2.96")},
    ),
    # a shop that rounds per line: 3 × 0.02 = 0.06, one row per line
    (
        "shop-rounds-per-line",
        [
            line("article", "0.10", 21, id="a"),
            line("article", "0.10", 21, id="b"),
            line("article", "0.10", 21, id="c"),
        ],
        tax(r21="0.06"),
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 0.10 0.08 0.02"] * 3,
        {D(21): D("0.06")},
    ),
    # split at an order line on the same ledger: 9.75 + 0.21 → 0.81 + 0.02
    (
        "split-at-a-line",
        [line("article", "9.75", 9), split_line("payment", ("0.21", 9))],
        tax(r9="0.83"),
        {},
        DEFAULT,
        ["LAAG_VERK_9 8000 9.75 8.94 0.81", "LAAG_VERK_9 8000 0.21 0.19 0.02"],
        {D(9): D("0.83")},
    ),
    # a shop that truncates: 0.80 + 0.01; no line split reaches it, small rows do
    (
        "one-cent-less-per-line",
        [line("article", "9.75", 9), line("article", "0.21", 9)],
        tax(r9="0.81"),
        {},
        DEFAULT,
        ["LAAG_VERK_9 8000 9.86 9.05 0.81", *["LAAG_VERK_9 8000 0.05 0.05 0.00"] * 2],
        {D(9): D("0.81")},
    ),
    (
        "two-rates-several-ledgers",
        [
            line("article", "24.99", 21),
            line("shipping", "6.95", 21),
            line("article", "10.99", 9),
            line("shipping", "3.95", 9),
        ],
        None,
        {},
        OWN_LEDGERS,
        [
            "HOOG_VERK_21 8010 24.97 20.64 4.33",
            "HOOG_VERK_21 8010 0.02 0.02 0.00",
            "HOOG_VERK_21 8050 6.95 5.74 1.21",
            "LAAG_VERK_9 8000 14.94 13.71 1.23",
        ],
        {D(21): D("5.54"), D(9): D("1.23")},
    ),
    (
        "discount-on-its-own-ledger",
        [line("article", "24.99", 21), line("discount", "-2.50", 21), line("shipping", "6.95", 21)],
        None,
        {},
        KORTING_8900,
        [
            "HOOG_VERK_21 8010 24.97 20.64 4.33",
            "HOOG_VERK_21 8010 0.02 0.02 0.00",
            "HOOG_VERK_21 8900 -2.50 -2.07 -0.43",
            "HOOG_VERK_21 8000 6.95 5.74 1.21",
        ],
        {D(21): D("5.11")},
    ),
    (
        "rate-0-listed",
        [line("article", "10.00", 0), line("article", "12.10", 21)],
        tax(r0="0.00", r21="2.10"),
        {},
        DEFAULT,
        ["GEEN 8000 10.00 10.00 0.00", "HOOG_VERK_21 8010 12.10 10.00 2.10"],
        {D(0): D(0), D(21): D("2.10")},
    ),
    (
        "single-object-tax",
        [line("article", "24.99", 21), line("shipping", "6.95", 21)],
        {"rate": "21", "amount": "5.54"},
        {},
        DEFAULT,  # type: ignore[list-item]
        [
            "HOOG_VERK_21 8010 24.97 20.64 4.33",
            "HOOG_VERK_21 8010 0.02 0.02 0.00",
            "HOOG_VERK_21 8000 6.95 5.74 1.21",
        ],
        {D(21): D("5.54")},
    ),
    # without price.tax there is no invoice VAT to follow: the standard rows
    (
        "no-price-tax",
        [line("article", "24.99", 21), line("shipping", "6.95", 21)],
        [],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 24.99 20.65 4.34", "HOOG_VERK_21 8000 6.95 5.74 1.21"],
        {D(21): D("5.55")},
    ),
    # credit notes: negative, whether price.tax is signed or not
    (
        "credit-positive-lines",
        [line("article", "24.99", 21), line("shipping", "6.95", 21)],
        None,
        {"status": 10},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 -24.97 -20.64 -4.33",
            "HOOG_VERK_21 8010 -0.02 -0.02 0.00",
            "HOOG_VERK_21 8000 -6.95 -5.74 -1.21",
        ],
        {D(21): D("-5.54")},
    ),
    (
        "credit-negative-lines-unsigned-tax",
        [line("article", "-24.99", 21), line("shipping", "-6.95", 21)],
        tax(r21="5.54"),
        {"status": 10},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 -24.97 -20.64 -4.33",
            "HOOG_VERK_21 8010 -0.02 -0.02 0.00",
            "HOOG_VERK_21 8000 -6.95 -5.74 -1.21",
        ],
        {D(21): D("-5.54")},
    ),
    (
        "credit-negative-lines-signed-tax",
        [line("article", "-24.99", 21), line("shipping", "-6.95", 21)],
        tax(r21="-5.54"),
        {"status": 10},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 -24.97 -20.64 -4.33",
            "HOOG_VERK_21 8010 -0.02 -0.02 0.00",
            "HOOG_VERK_21 8000 -6.95 -5.74 -1.21",
        ],
        {D(21): D("-5.54")},
    ),
    # A discount that almost cancels the order (issue 22, found by the property test): an
    # article of 62.53 and two discounts of -31.26 at 21% (total 0.01). Rounded per line
    # the invoice's VAT is 10.85 - 5.43 - 5.43 = -0.01: negative VAT on a positive total.
    # The booking carries the invoice's -0.01, one row per order line where needed.
    (
        "discount-almost-cancels-the-order",
        [
            line("article", "62.53", 21, id="a"),
            line("discount", "-31.26", 21, id="d1"),
            line("discount", "-31.26", 21, id="d2"),
        ],
        tax(r21="-0.01"),
        {},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 62.53 51.68 10.85",
            "HOOG_VERK_21 8010 -31.26 -25.83 -5.43",
            "HOOG_VERK_21 8010 -31.26 -25.83 -5.43",
        ],
        {D(21): D("-0.01")},
    ),
    (
        "discount-almost-cancels-the-order-discount-on-its-own-ledger",
        [
            line("article", "62.53", 21, id="a"),
            line("discount", "-31.26", 21, id="d1"),
            line("discount", "-31.26", 21, id="d2"),
        ],
        tax(r21="-0.01"),
        {},
        KORTING_8900,
        [
            "HOOG_VERK_21 8010 62.53 51.68 10.85",
            "HOOG_VERK_21 8900 -31.26 -25.83 -5.43",
            "HOOG_VERK_21 8900 -31.26 -25.83 -5.43",
        ],
        {D(21): D("-0.01")},
    ),
    # the same order as a credit note (status 10, positive amounts): booked negative, so
    # its VAT is +0.01 against a total of -0.01
    (
        "discount-almost-cancels-a-credit-note",
        [
            line("article", "62.53", 21, id="a"),
            line("discount", "-31.26", 21, id="d1"),
            line("discount", "-31.26", 21, id="d2"),
        ],
        tax(r21="-0.01"),
        {"status": 10},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 -62.53 -51.68 -10.85",
            "HOOG_VERK_21 8010 31.26 25.83 5.43",
            "HOOG_VERK_21 8010 31.26 25.83 5.43",
        ],
        {D(21): D("0.01")},
    ),
    # a credit note with negative amounts whose shop sends the VAT unsigned: 0.01 is the
    # lines' own per-line VAT (+0.01), so it is not turned into -0.01
    (
        "discount-almost-cancels-a-credit-note-unsigned-tax",
        [
            line("article", "-62.53", 21, id="a"),
            line("discount", "31.26", 21, id="d1"),
            line("discount", "31.26", 21, id="d2"),
        ],
        tax(r21="0.01"),
        {"status": 10},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 -62.53 -51.68 -10.85",
            "HOOG_VERK_21 8010 31.26 25.83 5.43",
            "HOOG_VERK_21 8010 31.26 25.83 5.43",
        ],
        {D(21): D("0.01")},
    ),
]


def with_tax(lines: list[dict[str, Any]], stated: Tax, **overrides: Any) -> dict[str, Any]:
    data = order_json(*lines, **overrides)
    if stated is not None:
        data["price"]["tax"] = stated
    return data


@pytest.mark.parametrize(
    ("lines", "stated", "overrides", "mapping", "expected", "vat"),
    [pytest.param(*case[1:], id=case[0]) for case in PER_RATE_CASES],
)
def test_vat_per_rate_is_the_invoices(
    lines: list[dict[str, Any]],
    stated: Tax,
    overrides: dict[str, Any],
    mapping: MappingSettings,
    expected: list[str],
    vat: dict[Decimal, Decimal],
) -> None:
    parsed = parse_order(with_tax(lines, stated, **overrides))
    result = booked(map_order(parsed, mapping))
    assert rows(result) == expected
    assert vat_per_rate(result) == vat
    for row in result.mutations[0].rows:  # the standard relation on every row
        assert row.amount_vat == vat_of(row.amount_incl, row.btw_percentage)
    # the amount per ledger is the lines' own: a split never moves money between ledgers
    per_ledger: dict[str, Decimal] = {}
    for row in result.mutations[0].rows:
        per_ledger[row.ledger] = per_ledger.get(row.ledger, D(0)) + row.amount_incl
    unsplit = booked(map_order(parse_order(with_tax(lines, [], **overrides)), mapping))
    expected_ledgers: dict[str, Decimal] = {}
    for row in unsplit.mutations[0].rows:
        expected_ledgers[row.ledger] = expected_ledgers.get(row.ledger, D(0)) + row.amount_incl
    assert per_ledger == expected_ledgers


VAT_REFUSALS: list[tuple[str, list[dict[str, Any]], Tax, list[str]]] = [
    (
        "more-than-a-cent-per-line",
        [line("article", "12.10", 21)],
        tax(r21="2.12"),
        ["geven € 2,10 btw tegen 21%", "vermeldt € 2,12", "meer dan één cent per orderregel"],
    ),
    (
        "two-lines-three-cents",
        [line("article", "12.10", 21), line("shipping", "4.95", 21)],
        tax(r21="2.99"),
        ["€ 2,96", "€ 2,99", "meer dan één cent per orderregel"],
    ),
    (
        "vat-at-a-rate-without-lines",
        [line("article", "12.10", 21)],
        tax(r21="2.10", r9="0.50"),
        ["€ 0,50 btw tegen 9%", "geen orderregels met dat tarief"],
    ),
    (
        "rate-missing-from-price-tax",
        [line("article", "12.10", 21), line("article", "10.90", 9)],
        tax(r21="2.10"),
        ["€ 0,90 btw tegen 9%", "vermeldt € 0,00"],
    ),
    (
        "cannot-be-reached",
        [line("article", "0.01", 21)],
        tax(r21="0.01"),
        ["€ 0,01 btw tegen 21%", "geen enkele boekingsregel", "met de hand"],
    ),
    (
        "vat-at-zero-percent",
        [line("article", "10.00", 0)],
        tax(r0="0.01"),
        ["€ 0,01 btw tegen 0%", "geen enkele boekingsregel"],
    ),
]


@pytest.mark.parametrize(
    ("lines", "stated", "fragments"),
    [pytest.param(ls, st, fr, id=i) for i, ls, st, fr in VAT_REFUSALS],
)
def test_vat_that_is_not_the_lines_is_refused(
    lines: list[dict[str, Any]], stated: Tax, fragments: list[str]
) -> None:
    with pytest.raises(MappingError) as excinfo:
        map_order(parse_order(with_tax(lines, stated)), DEFAULT)
    for fragment in fragments:
        assert fragment in str(excinfo.value)


@pytest.mark.parametrize("incl", ["0.01", "0.05", "1.00", "24.99", "6.95", "-3.33", "12345.67"])
@pytest.mark.parametrize("rate", ["0", "9", "21", "5.5", "20"])
def test_vat_of_is_the_standard_relation(incl: str, rate: str) -> None:
    expected = (D(incl) * D(rate) / (100 + D(rate))).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert vat_of(D(incl), D(rate)) == expected
    assert not vat_of(D(incl), D(rate)).is_signed() or vat_of(D(incl), D(rate)) != 0


def test_invoice_vat_survives_settings_with_one_ledger() -> None:
    # everything on 8000: one row per rate, and that row's VAT is the invoice's
    one = settings(rule("rate:21", "HOOG_VERK_21", "8000"))
    result = booked(
        map_order(
            parse_order(
                with_tax([line("article", "24.99", 21), line("shipping", "6.95", 21)], None)
            ),
            one,
        )
    )
    assert vat_per_rate(result) == {D(21): D("5.54")}
