"""map_order line types: sales are revenue; gift cards, vouchers, store credit and unknown
types are refused unless the shop maps them to a ledger (docs/booking-rules.md)."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.line_types import MEANS_OF_PAYMENT, SALES_LINE_TYPES
from app.core.mapping import Skip, map_order
from app.errors import MappingError
from tests.factories import (
    DEFAULT,
    OWN_LEDGERS,
    RowCase,
    booked,
    check_order_rows,
    line,
    order,
    row_cases,
    rows,
    settings,
)

GIFT_CARDS = settings(
    line_type_ledgers={
        "gift_card": "1650",
        "giftcard": "1650",
        "voucher": "1650",
        "store_credit": "1660",
    }
)

LINE_TYPE_CASES: list[RowCase] = [
    # every sales type the spec defines, on its income type's ledger
    (
        "physical-and-digital",
        [line("physical", "12.10", 21), line("digital", "6.05", 21)],
        {},
        OWN_LEDGERS,
        ["HOOG_VERK_21 8010 18.15 15.00 3.15"],
    ),
    (
        "shipping-fee",
        [line("article", "12.10", 21), line("shipping_fee", "6.05", 21)],
        {},
        OWN_LEDGERS,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8050 6.05 5.00 1.05"],
    ),
    (
        "payment-fee-and-surcharge",
        [
            line("article", "12.10", 21),
            line("payment_fee", "1.21", 21),
            line("surcharge", "1.21", 21),
        ],
        {},
        OWN_LEDGERS,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8060 2.42 2.00 0.42"],
    ),
    (
        "type-in-capitals",
        [line("ARTICLE", "12.10", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    # a sold gift card: a liability, no VAT, no revenue
    (
        "gift-card-sold",
        [line("gift_card", "25.00", 0)],
        {},
        GIFT_CARDS,
        ["GEEN 1650 25.00 25.00 0.00"],
    ),
    # a redeemed gift card: a means of payment; the revenue is the article's
    (
        "gift-card-redeemed",
        [line("article", "30.25", 21), line("gift_card", "-25.00", 0)],
        {},
        GIFT_CARDS,
        ["HOOG_VERK_21 8010 30.25 25.00 5.25", "GEEN 1650 -25.00 -25.00 0.00"],
    ),
    (
        "voucher-redeemed",
        [line("article", "30.25", 21), line("voucher", "-10.00", 0)],
        {},
        GIFT_CARDS,
        ["HOOG_VERK_21 8010 30.25 25.00 5.25", "GEEN 1650 -10.00 -10.00 0.00"],
    ),
    (
        "store-credit-used",
        [line("article", "12.10", 21), line("store_credit", "-2.10", 0)],
        {},
        GIFT_CARDS,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "GEEN 1660 -2.10 -2.10 0.00"],
    ),
    (
        "gift-card-in-a-reverse-charge-order-books-without-vat",
        [line("article", "100.00", 0), line("gift_card", "-10.00", 0)],
        {
            "tax_strategy": "reverse_charged_vat",
            "tax_region": "BE",
            "shipping": [{"country": {"isocode": "BE"}}],
            "business_model": "B2B",
            "debtor": {
                "email": "a@example.com",
                "address": {
                    "invoice": {
                        "company": "Klant BV",
                        "taxnumber": "BE0123456789",
                        "country_code": "BE",
                    }
                },
            },
        },
        GIFT_CARDS,
        ["BI_EU_VERK 8000 100.00 100.00 0.00", "GEEN 1650 -10.00 -10.00 0.00"],
    ),
    # an unknown type the shop mapped: revenue at its own rate on that ledger
    (
        "unknown-type-mapped",
        [line("deposit", "1.21", 21)],
        {},
        settings(line_type_ledgers={"deposit": "8090"}),
        ["HOOG_VERK_21 8090 1.21 1.00 0.21"],
    ),
]


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(LINE_TYPE_CASES))
def test_line_type_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: Any, expected: list[str]
) -> None:
    check_order_rows(lines, overrides, mapping, expected)


def test_zero_total_order_paid_by_gift_card_books_its_revenue() -> None:
    result = map_order(
        order(line("article", "25.00", 21), line("gift_card", "-25.00", 0)), GIFT_CARDS
    )
    assert not isinstance(result, Skip)
    assert rows(result) == ["HOOG_VERK_21 8010 25.00 20.66 4.34", "GEEN 1650 -25.00 -25.00 0.00"]
    assert booked(result).total == 0


def test_zero_total_order_whose_lines_cancel_is_skipped_with_a_reason() -> None:
    result = map_order(order(line("article", "12.10", 21), line("discount", "-12.10", 21)), DEFAULT)
    assert isinstance(result, Skip)
    assert result.code == "zero_total"
    assert "heffen elkaar per grootboekrekening op" in result.reason


def test_zero_total_order_with_unmapped_gift_card_is_refused_not_skipped() -> None:
    with pytest.raises(MappingError, match="cadeaubon"):
        map_order(order(line("article", "25.00", 21), line("gift_card", "-25.00", 0)), DEFAULT)


REFUSED: list[tuple[str, list[dict[str, Any]], Any, list[str]]] = [
    (
        "gift-card-sold",
        [line("gift_card", "25.00", 0)],
        DEFAULT,
        [
            "Orderregel 1",
            "cadeaubon",
            "geen omzet maar een schuld",
            "betaalmiddel",
            "grootboekrekening",
            "orderregels 'gift_card'",
        ],
    ),
    (
        "giftcard-redeemed",
        [line("article", "30.25", 21), line("giftcard", "-25.00", 0)],
        DEFAULT,
        ["Orderregel 2", "cadeaubon", "'giftcard'"],
    ),
    (
        "voucher",
        [line("article", "30.25", 21), line("voucher", "-10.00", 0)],
        DEFAULT,
        ["waardebon", "'voucher'"],
    ),
    (
        "store-credit",
        [line("article", "12.10", 21), line("store_credit", "-2.10", 0)],
        DEFAULT,
        ["tegoed", "'store_credit'"],
    ),
    (
        "unknown-type",
        [line("gift_wrap", "2.42", 21)],
        DEFAULT,
        [
            "soort die de koppeling niet kent ('gift_wrap')",
            "niet als omzet",
            "orderregels 'gift_wrap'",
        ],
    ),
    (
        "sales-tax-line",
        [line("article", "10.00", 0), line("sales_tax", "0.80", 0)],
        DEFAULT,
        ["'sales_tax'"],
    ),
    (
        "mapped-gift-card-with-vat",
        [line("gift_card", "12.10", 21)],
        GIFT_CARDS,
        ["'gift_card'", "21% btw", "alleen zonder btw", "met de hand"],
    ),
]


@pytest.mark.parametrize(
    ("lines", "mapping", "fragments"), [pytest.param(ls, m, f, id=i) for i, ls, m, f in REFUSED]
)
def test_lines_that_are_not_sales_are_refused_unless_mapped(
    lines: list[dict[str, Any]],
    mapping: Any,
    fragments: list[str],
) -> None:
    with pytest.raises(MappingError) as excinfo:
        map_order(order(*lines), mapping)
    for fragment in fragments:
        assert fragment in str(excinfo.value)


def test_the_spec_types_are_all_read() -> None:
    # orderlines[].type in examples/changelog, and the payment lines' enum of the same spec
    spec = {
        "article",
        "custom",
        "shipping",
        "payment",
        "discount",
        "digital",
        "gift_card",
        "payment_fee",
        "physical",
        "sales_tax",
        "shipping_fee",
        "store_credit",
        "surcharge",
    }
    known = set(SALES_LINE_TYPES) | MEANS_OF_PAYMENT
    assert spec - known == {"sales_tax"}  # refused unless mapped: no Dutch VAT concept
    assert not set(SALES_LINE_TYPES) & MEANS_OF_PAYMENT
