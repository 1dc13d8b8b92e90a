"""The mapping table's orders, under the booking rules of docs/booking-rules.md
(``tests/test_eboekhouden_parity.py`` books each through SOAP and REST and checks the
rows; ``tests/core/test_mapping_*.py`` hold the same tables for the mapping alone).

Orders follow the rules of issue 13: ``price.tax`` is the rate's own VAT (the factories
compute it), unknown line types are mapped to a ledger, reverse charge carries the
customer's EU VAT number, export a destination outside the EU, and OSS books the net
revenue at 0% (AFST_VERK) plus the destination's VAT on its own ledger; every order's
destination fields (tax region, shipping country, address) agree (issue 24)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.mapping_settings import (
    EXPORT,
    OMZET,
    REVERSE_CHARGE,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
)
from tests.factories import (
    DEVIATING_20,
    RowCase,
    b2b_eu,
    export_to,
    line,
    oss,
    oss_to,
    rule,
    settings,
    split_line,
)

D = Decimal
DEFAULT = MappingSettings()


KORTING_8900 = settings(
    rule("rate:21", "HOOG_VERK_21", "8010", "8000", "8000", korting="8900"),
    rule("rate:9", "LAAG_VERK_9", "8000", korting="8900"),
)
OWN_LEDGERS = settings(rule("rate:21", "HOOG_VERK_21", "8010", "8050", "8060", "8070"))
INCUMBENT = settings(
    rule("rate:0", "VERL_VERK", "8000"),
    rule("rate:9", "LAAG_VERK", "8000"),
    rule("rate:21", "HOOG_VERK_21", "8010", "8000", "8000"),
)
# OSS: net revenue at 0% (AFST_VERK) on 8020, the destination's VAT on 1620 (te betalen OSS-btw)
OSS_DE = settings(oss("DE", 19), oss("DE", 7))


ROW_CASES: list[RowCase] = [
    # --- one VAT rate, the incumbent's defaults
    (
        "article-21",
        [line("article", "12.10", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    (
        "article-9",
        [line("article", "10.90", 9)],
        {},
        DEFAULT,
        ["LAAG_VERK_9 8000 10.90 10.00 0.90"],
    ),
    ("article-0", [line("article", "10.00", 0)], {}, DEFAULT, ["GEEN 8000 10.00 10.00 0.00"]),
    (
        "rate-as-21.00",
        [line("article", "12.10", "21.00")],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    (
        "articles-21-9-0",
        [line("article", "121.00", 21), line("article", "109.00", 9), line("article", "50.00", 0)],
        {},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 121.00 100.00 21.00",
            "LAAG_VERK_9 8000 109.00 100.00 9.00",
            "GEEN 8000 50.00 50.00 0.00",
        ],
    ),
    (
        "same-rate-lines-aggregate",
        [line("article", "12.10", 21), line("article", "24.20", 21, quantity=2)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 36.30 30.00 6.30"],
    ),
    (
        "rows-in-first-seen-order",
        [line("article", "10.90", 9), line("article", "12.10", 21), line("article", "10.90", 9)],
        {},
        DEFAULT,
        ["LAAG_VERK_9 8000 21.80 20.00 1.80", "HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    # --- shipping and payment costs
    (
        "shipping-21",
        [line("article", "12.10", 21), line("shipping", "4.95", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 4.95 4.09 0.86"],
    ),
    (
        "shipping-9-shares-omzet-row",
        [line("article", "10.90", 9), line("shipping", "4.95", 9)],
        {},
        DEFAULT,
        ["LAAG_VERK_9 8000 15.85 14.54 1.31"],
    ),
    (
        "shipping-0",
        [line("article", "10.00", 0), line("shipping", "4.95", 0)],
        {},
        DEFAULT,
        ["GEEN 8000 14.95 14.95 0.00"],
    ),
    (
        "payment-21",
        [line("article", "12.10", 21), line("payment", "0.35", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 0.35 0.29 0.06"],
    ),
    (
        "shipping-and-payment-share-8000",
        [line("article", "12.10", 21), line("shipping", "4.95", 21), line("payment", "0.35", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 5.30 4.38 0.92"],
    ),
    (
        "payment-split-over-rates",
        [
            line("article", "121.00", 21),
            line("article", "109.00", 9),
            split_line("payment", ("0.21", 9), ("0.79", 21)),
        ],
        {},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 121.00 100.00 21.00",
            "LAAG_VERK_9 8000 109.21 100.19 9.02",
            "HOOG_VERK_21 8000 0.79 0.65 0.14",
        ],
    ),
    (
        "payment-split-single-element-list",
        [line("article", "12.10", 21), split_line("payment", ("0.79", 21))],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 0.79 0.65 0.14"],
    ),
    (
        "own-ledger-per-income-type",
        [
            line("article", "121.00", 21),
            line("shipping", "6.05", 21),
            line("payment", "1.21", 21),
            line("discount", "-12.10", 21),
        ],
        {},
        OWN_LEDGERS,
        [
            "HOOG_VERK_21 8010 121.00 100.00 21.00",
            "HOOG_VERK_21 8050 6.05 5.00 1.05",
            "HOOG_VERK_21 8060 1.21 1.00 0.21",
            "HOOG_VERK_21 8070 -12.10 -10.00 -2.10",
        ],
    ),
    (
        "empty-income-ledger-falls-back-to-omzet",
        [line("article", "12.10", 21), line("shipping", "4.95", 21)],
        {},
        settings(TaxRule("rate:21", "HOOG_VERK_21", {OMZET: "8030", VERZENDKOSTEN: ""})),
        ["HOOG_VERK_21 8030 17.05 14.09 2.96"],
    ),
    # --- discounts, split over rates as an array
    (
        "discount-split-default-ledgers",
        [
            line("article", "121.00", 21),
            line("article", "54.50", 9),
            split_line("discount", ("-12.10", 21), ("-5.45", 9)),
        ],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 108.90 90.00 18.90", "LAAG_VERK_9 8000 49.05 45.00 4.05"],
    ),
    (
        "discount-split-own-ledger",
        [
            line("article", "121.00", 21),
            line("article", "54.50", 9),
            split_line("discount", ("-12.10", 21), ("-5.45", 9)),
        ],
        {},
        KORTING_8900,
        [
            "HOOG_VERK_21 8010 121.00 100.00 21.00",
            "LAAG_VERK_9 8000 54.50 50.00 4.50",
            "HOOG_VERK_21 8900 -12.10 -10.00 -2.10",
            "LAAG_VERK_9 8900 -5.45 -5.00 -0.45",
        ],
    ),
    (
        "discount-single-object",
        [line("article", "20.00", 21), line("discount", "-5.00", 21)],
        {},
        KORTING_8900,
        ["HOOG_VERK_21 8010 20.00 16.53 3.47", "HOOG_VERK_21 8900 -5.00 -4.13 -0.87"],
    ),
    (
        "discount-cancels-a-rate",
        [line("article", "12.10", 21), line("article", "10.90", 9), line("discount", "-10.90", 9)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    # --- other line types are revenue at their own rate once the shop maps them
    # (unknown types are refused unless mapped: test_mapping_line_types.py)
    (
        "custom-and-mapped-unknown-type",
        [line("custom", "12.10", 21), line("gift_wrap", "2.42", 21)],
        {},
        settings(line_type_ledgers={"gift_wrap": "8010"}),
        ["HOOG_VERK_21 8010 14.52 12.00 2.52"],
    ),
    (
        "mapped-unknown-type-at-9",
        [line("deposit", "1.09", 9)],
        {},
        settings(line_type_ledgers={"deposit": "8000"}),
        ["LAAG_VERK_9 8000 1.09 1.00 0.09"],
    ),
    # --- the incumbent's own screen ("Stap 2 van 2")
    (
        "incumbent-0-verl-verk",
        [line("article", "10.00", 0)],
        {},
        INCUMBENT,
        ["VERL_VERK 8000 10.00 10.00 0.00"],
    ),
    (
        "incumbent-9-laag-verk",
        [line("article", "10.90", 9)],
        {},
        INCUMBENT,
        ["LAAG_VERK 8000 10.90 10.00 0.90"],
    ),
    (
        "incumbent-full-screen",
        [
            line("article", "121.00", 21),
            line("shipping", "6.05", 21),
            line("payment", "0.35", 21),
            line("article", "10.90", 9),
            line("shipping", "4.95", 9),
            line("article", "5.00", 0),
        ],
        {},
        INCUMBENT,
        [
            "HOOG_VERK_21 8010 121.00 100.00 21.00",
            "HOOG_VERK_21 8000 6.40 5.29 1.11",
            "LAAG_VERK 8000 15.85 14.54 1.31",
            "VERL_VERK 8000 5.00 5.00 0.00",
        ],
    ),
]


TREATMENT_CASES: list[RowCase] = [
    # --- tax treatments
    (
        "reverse-charge",
        [line("article", "100.00", 0), line("shipping", "5.00", 0)],
        b2b_eu("BE"),
        DEFAULT,
        ["BI_EU_VERK 8000 105.00 105.00 0.00"],
    ),
    (
        "reverse-charge-strategy-wins-over-oss",
        [line("article", "100.00", 0)],
        b2b_eu("DE", "DE123456789"),
        OSS_DE,
        ["BI_EU_VERK 8000 100.00 100.00 0.00"],
    ),
    (
        "reverse-charge-own-rule",
        [line("article", "100.00", 0)],
        b2b_eu(),
        settings(rule(REVERSE_CHARGE, "VERL_VERK", "8100")),
        ["VERL_VERK 8100 100.00 100.00 0.00"],
    ),
    (
        "export",
        [line("article", "100.00", 0), line("shipping", "25.00", 0)],
        export_to("US"),
        DEFAULT,
        ["BU_EU_VERK 8000 125.00 125.00 0.00"],
    ),
    (
        "export-own-ledger",
        [line("article", "100.00", 0)],
        export_to("CH"),
        settings(rule(EXPORT, "BU_EU_VERK", "8200")),
        ["BU_EU_VERK 8200 100.00 100.00 0.00"],
    ),
    (
        "oss-de-19",
        [line("article", "119.00", 19)],
        oss_to("DE"),
        OSS_DE,
        ["AFST_VERK 8020 100.00 100.00 0.00", "GEEN 1620 19.00 19.00 0.00"],
    ),
    (
        "oss-de-19-and-7",
        [line("article", "119.00", 19), line("article", "10.70", 7)],
        {**oss_to("DE"), "tax_region": "de"},
        OSS_DE,
        [
            "AFST_VERK 8020 100.00 100.00 0.00",
            "GEEN 1620 19.00 19.00 0.00",
            "AFST_VERK 8020 10.00 10.00 0.00",
            "GEEN 1620 0.70 0.70 0.00",
        ],
    ),
    (
        "oss-be-21-not-domestic",
        [line("article", "12.10", 21)],
        oss_to("BE", "Gent", "9000"),
        settings(oss("BE", 21, ledger="8040")),
        ["AFST_VERK 8040 10.00 10.00 0.00", "GEEN 1620 2.10 2.10 0.00"],
    ),
    (
        "oss-zero-rate-afst-verk",
        [line("article", "10.00", 0)],
        oss_to("AT", "Wien", "1060"),
        settings(oss("AT", 0, ledger="8050", vat_ledger="1650")),
        ["AFST_VERK 8050 10.00 10.00 0.00"],
    ),
    (
        "region-nl-is-domestic",
        [line("article", "12.10", 21)],
        {"tax_region": "NL"},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    (
        "region-empty-is-domestic",
        [line("article", "12.10", 21)],
        {"tax_region": ""},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
    (
        "region-outside-eu-regular-vat",
        [line("article", "12.10", 21)],
        {"tax_region": "NO"},
        DEFAULT,
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
]


ROUNDING_CASES: list[RowCase] = [
    # --- 1-cent rounding traps: VAT per row, half-up (price.tax here is the rate's own VAT)
    (
        "3x0.10-at-21",
        [
            line("article", "0.10", 21, id="a"),
            line("article", "0.10", 21, id="b"),
            line("article", "0.10", 21, id="c"),
        ],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 0.30 0.25 0.05"],
    ),
    (
        "10x0.99-at-21",
        [line("article", "0.99", 21, id=str(i)) for i in range(10)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 9.90 8.18 1.72"],
    ),
    ("0.01-at-9", [line("article", "0.01", 9)], {}, DEFAULT, ["LAAG_VERK_9 8000 0.01 0.01 0.00"]),
    (
        "0.01-at-21",
        [line("article", "0.01", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 0.01 0.01 0.00"],
    ),
    (
        "0.05-at-21",
        [line("article", "0.05", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 0.05 0.04 0.01"],
    ),
    (
        "0.02-at-21",
        [line("article", "0.02", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 0.02 0.02 0.00"],
    ),
    (
        "0.06-at-9-just-below-half",
        [line("article", "0.06", 9)],
        {},
        DEFAULT,
        ["LAAG_VERK_9 8000 0.06 0.06 0.00"],
    ),
    ("0.07-at-9", [line("article", "0.07", 9)], {}, DEFAULT, ["LAAG_VERK_9 8000 0.07 0.06 0.01"]),
    (
        "exact-half-cent-rounds-up",
        [line("article", "0.03", 20)],
        {},
        DEVIATING_20,
        ["AFW_VERK 8000 0.03 0.02 0.01"],
    ),
    (
        "exact-half-cent-0.09",
        [line("article", "0.09", 20)],
        {},
        DEVIATING_20,
        ["AFW_VERK 8000 0.09 0.07 0.02"],
    ),
    (
        "large-amount",
        [line("article", "12345.67", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 12345.67 10203.03 2142.64"],
    ),
    (
        "incl-with-trailing-zero-decimals",
        [line("article", "0.100", 21, id="a"), line("article", "0.100000", 21, id="b")],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 0.20 0.17 0.03"],
    ),
    (
        "incl-without-decimals",
        [line("article", "15", 21)],
        {},
        DEFAULT,
        ["HOOG_VERK_21 8010 15.00 12.40 2.60"],
    ),
]


# (id, lines, order overrides, settings, expected rows) — all credit notes, booked negative
CREDIT_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], MappingSettings, list[str]]] = [
    (
        "status-10-positive-amounts",
        [line("article", "12.10", 21)],
        {"status": 10},
        DEFAULT,
        ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"],
    ),
    (
        "status-10-negative-amounts",
        [line("article", "-12.10", 21)],
        {"status": 10},
        DEFAULT,
        ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"],
    ),
    (
        "credited-number-positive-amounts",
        [line("article", "12.10", 21)],
        {"credited_order_number": 1000, "status": 3},
        DEFAULT,
        ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"],
    ),
    (
        "credited-number-negative-amounts",
        [line("article", "-12.10", 21)],
        {"credited_order_number": "1000", "status": 3},
        DEFAULT,
        ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"],
    ),
    (
        "credited-number-and-credit-status",
        [line("article", "-12.10", 21)],
        {"credited_order_number": 1000, "status": 10},
        DEFAULT,
        ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"],
    ),
    (
        "own-credit-status",
        [line("article", "12.10", 21)],
        {"status": 11},
        settings(credit_statuses={11}),
        ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"],
    ),
    (
        "mixed-rates-and-costs",
        [line("article", "121.00", 21), line("article", "10.90", 9), line("shipping", "4.95", 21)],
        {"status": 10},
        DEFAULT,
        [
            "HOOG_VERK_21 8010 -121.00 -100.00 -21.00",
            "LAAG_VERK_9 8000 -10.90 -10.00 -0.90",
            "HOOG_VERK_21 8000 -4.95 -4.09 -0.86",
        ],
    ),
    (
        "with-discount-positive-in",
        [line("article", "121.00", 21), line("discount", "-12.10", 21)],
        {"status": 10},
        KORTING_8900,
        ["HOOG_VERK_21 8010 -121.00 -100.00 -21.00", "HOOG_VERK_21 8900 12.10 10.00 2.10"],
    ),
    (
        "with-discount-negative-in",
        [line("article", "-121.00", 21), line("discount", "12.10", 21)],
        {"status": 10},
        KORTING_8900,
        ["HOOG_VERK_21 8010 -121.00 -100.00 -21.00", "HOOG_VERK_21 8900 12.10 10.00 2.10"],
    ),
    (
        "payment-split",
        [line("article", "10.90", 9), split_line("payment", ("0.21", 9), ("0.79", 21))],
        {"status": 10},
        DEFAULT,
        ["LAAG_VERK_9 8000 -11.11 -10.19 -0.92", "HOOG_VERK_21 8000 -0.79 -0.65 -0.14"],
    ),
    (
        "0.05-at-21",
        [line("article", "0.05", 21)],
        {"status": 10},
        DEFAULT,
        ["HOOG_VERK_21 8010 -0.05 -0.04 -0.01"],
    ),
    (
        "0.05-at-21-negative-in",
        [line("article", "-0.05", 21)],
        {"status": 10},
        DEFAULT,
        ["HOOG_VERK_21 8010 -0.05 -0.04 -0.01"],
    ),
    (
        "0.01-at-9",
        [line("article", "-0.01", 9)],
        {"status": 10},
        DEFAULT,
        ["LAAG_VERK_9 8000 -0.01 -0.01 0.00"],
    ),
    (
        "3x0.10-at-21",
        [
            line("article", "-0.10", 21, id="a"),
            line("article", "-0.10", 21, id="b"),
            line("article", "-0.10", 21, id="c"),
        ],
        {"status": 10},
        DEFAULT,
        ["HOOG_VERK_21 8010 -0.30 -0.25 -0.05"],
    ),
    (
        "exact-half-cent-rounds-away-from-zero",
        [line("article", "-0.03", 20)],
        {"status": 10},
        DEVIATING_20,
        ["AFW_VERK 8000 -0.03 -0.02 -0.01"],
    ),
    (
        "reverse-charge",
        [line("article", "100.00", 0)],
        {"status": 10, **b2b_eu()},
        DEFAULT,
        ["BI_EU_VERK 8000 -100.00 -100.00 0.00"],
    ),
    (
        "export",
        [line("article", "-100.00", 0)],
        {"status": 10, **export_to()},
        DEFAULT,
        ["BU_EU_VERK 8000 -100.00 -100.00 0.00"],
    ),
    (
        "oss",
        [line("article", "119.00", 19)],
        {"status": 10, **oss_to("DE")},
        OSS_DE,
        ["AFST_VERK 8020 -100.00 -100.00 0.00", "GEEN 1620 -19.00 -19.00 0.00"],
    ),
]


# Every invoice case once, for the tests that run them all (the adapters' parity test).
ORDER_CASES = [*ROW_CASES, *TREATMENT_CASES, *ROUNDING_CASES]
