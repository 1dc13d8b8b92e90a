"""map_order tax treatments: domestic rates, reverse charge, export and OSS."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.core.mapping import (
    treatment_for,
)
from app.core.mapping_settings import (
    EXPORT,
    REVERSE_CHARGE,
    MappingSettings,
    describe_treatment,
    rate_key,
    rate_text,
)
from tests.factories import (
    DEFAULT,
    OSS_DE,
    D,
    RowCase,
    b2b_eu,
    check_order_rows,
    export_to,
    line,
    order,
    oss,
    row_cases,
    rule,
    settings,
)

TREATMENT_CASES: list[RowCase] = [
    # --- tax treatments
    ("reverse-charge",
     [line("article", "100.00", 0), line("shipping", "5.00", 0)],
     b2b_eu("BE"),
     DEFAULT, ["BI_EU_VERK 8000 105.00 105.00 0.00"]),
    ("reverse-charge-strategy-wins-over-oss",
     [line("article", "100.00", 0)], b2b_eu("DE", "DE123456789"),
     OSS_DE, ["BI_EU_VERK 8000 100.00 100.00 0.00"]),
    ("reverse-charge-own-rule",
     [line("article", "100.00", 0)], b2b_eu(),
     settings(rule(REVERSE_CHARGE, "VERL_VERK", "8100")), ["VERL_VERK 8100 100.00 100.00 0.00"]),
    ("export", [line("article", "100.00", 0), line("shipping", "25.00", 0)],
     export_to("US"), DEFAULT,
     ["BU_EU_VERK 8000 125.00 125.00 0.00"]),
    ("export-own-ledger", [line("article", "100.00", 0)], export_to("CH"),
     settings(rule(EXPORT, "BU_EU_VERK", "8200")), ["BU_EU_VERK 8200 100.00 100.00 0.00"]),
    ("oss-de-19", [line("article", "119.00", 19)], {"tax_region": "DE"}, OSS_DE,
     ["GEEN 8020 100.00 100.00 0.00", "GEEN 1620 19.00 19.00 0.00"]),
    ("oss-de-19-and-7", [line("article", "119.00", 19), line("article", "10.70", 7)],
     {"tax_region": "de"}, OSS_DE,
     ["GEEN 8020 100.00 100.00 0.00", "GEEN 1620 19.00 19.00 0.00",
      "GEEN 8020 10.00 10.00 0.00", "GEEN 1620 0.70 0.70 0.00"]),
    ("oss-be-21-not-domestic", [line("article", "12.10", 21)], {"tax_region": "BE"},
     settings(oss("BE", 21, ledger="8040")),
     ["GEEN 8040 10.00 10.00 0.00", "GEEN 1620 2.10 2.10 0.00"]),
    ("oss-zero-rate-afst-verk", [line("article", "10.00", 0)], {"tax_region": "AT"},
     settings(oss("AT", 0, code="AFST_VERK", ledger="8000")),
     ["AFST_VERK 8000 10.00 10.00 0.00"]),
    ("region-nl-is-domestic", [line("article", "12.10", 21)], {"tax_region": "NL"}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10"]),
    ("region-empty-is-domestic", [line("article", "12.10", 21)], {"tax_region": ""}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10"]),
    ("region-outside-eu-regular-vat", [line("article", "12.10", 21)], {"tax_region": "NO"},
     DEFAULT, ["HOOG_VERK_21 8010 12.10 10.00 2.10"]),
]


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(TREATMENT_CASES))
def test_treatment_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: MappingSettings,
    expected: list[str],
) -> None:
    check_order_rows(lines, overrides, mapping, expected)


# --- treatments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "rate", "treatment"),
    [
        ({}, 21, "rate:21"),
        ({}, "21.00", "rate:21"),
        ({}, "5.50", "rate:5.5"),
        ({}, 0, "rate:0"),
        ({"tax_region": "NL"}, 9, "rate:9"),
        ({"tax_region": "US"}, 21, "rate:21"),
        ({"tax_region": "DE"}, 19, "oss:DE:19"),
        ({"tax_region": "fr"}, "20.00", "oss:FR:20"),
        ({"tax_strategy": "reverse_charged_vat", "tax_region": "DE"}, 0, REVERSE_CHARGE),
        ({"tax_strategy": "zero_percent", "tax_region": "US"}, 0, EXPORT),
        ({"tax_strategy": "zero_percent", "tax_region": "DE"}, 0, EXPORT),
    ],
)
def test_treatment_for(overrides: dict[str, Any], rate: Any, treatment: str) -> None:
    assert treatment_for(order(**overrides), D(str(rate))) == treatment


@pytest.mark.parametrize(
    ("key", "label"),
    [("rate:21", "BTW 21%"), (REVERSE_CHARGE, "BTW verlegd (B2B binnen de EU)"),
     (EXPORT, "Export buiten de EU (0%)"), ("oss:DE:19", "OSS DE 19%"), ("other", "other")],
)
def test_describe_treatment(key: str, label: str) -> None:
    assert describe_treatment(key) == label


@pytest.mark.parametrize(
    ("rate", "text"),
    [(D("21.00"), "21"), (D("21"), "21"), (D("5.50"), "5.5"), (D("0.00"), "0"), (D("10"), "10"),
     (D("100"), "100")],
)
def test_rate_text(rate: Decimal, text: str) -> None:
    assert rate_text(rate) == text
    assert rate_key(rate) == f"rate:{text}"
