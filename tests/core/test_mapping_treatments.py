"""map_order tax treatments: domestic rates, reverse charge, export and OSS."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.core.mapping import (
    map_order,
    treatment_for,
)
from app.core.mapping_settings import (
    BTW_CODE_LABELS,
    EXPORT,
    OMZET,
    OSS_VAT,
    REVERSE_CHARGE,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
    describe_treatment,
    rate_key,
    rate_text,
)
from app.core.order_schema import parse_order
from app.core.settings_checks import validate
from app.errors import MappingError
from tests.factories import (
    DEFAULT,
    D,
    RowCase,
    b2b_eu,
    booked,
    check_order_rows,
    debtor,
    export_to,
    line,
    order,
    order_json,
    oss,
    oss_to,
    row_cases,
    rows,
    rule,
    settings,
)
from tests.mapping_cases import TREATMENT_CASES


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(TREATMENT_CASES))
def test_treatment_rows(
    lines: list[dict[str, Any]],
    overrides: dict[str, Any],
    mapping: MappingSettings,
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
    [
        ("rate:21", "BTW 21%"),
        (REVERSE_CHARGE, "BTW verlegd (B2B binnen de EU)"),
        (EXPORT, "Export buiten de EU (0%)"),
        ("oss:DE:19", "OSS DE 19%"),
        ("other", "other"),
    ],
)
def test_describe_treatment(key: str, label: str) -> None:
    assert describe_treatment(key) == label


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (D("21.00"), "21"),
        (D("21"), "21"),
        (D("5.50"), "5.5"),
        (D("0.00"), "0"),
        (D("10"), "10"),
        (D("100"), "100"),
    ],
)
def test_rate_text(rate: Decimal, text: str) -> None:
    assert rate_text(rate) == text
    assert rate_key(rate) == f"rate:{text}"


# --- OSS: net revenue at 0% on the country's ledger, the foreign VAT on a balance ledger --

OSS_CASES: list[RowCase] = [
    (
        "oss-de-article-and-shipping",
        [line("article", "119.00", 19), line("shipping", "5.95", 19)],
        oss_to("DE"),
        settings(oss("DE", 19, ledger="8031", vat_ledger="1631")),
        ["AFST_VERK 8031 105.00 105.00 0.00", "GEEN 1631 19.95 19.95 0.00"],
    ),
    # the VAT is the invoice's own, also when per-row rounding would differ
    (
        "oss-de-two-ledgers",
        [line("article", "24.99", 19), line("shipping", "6.95", 19)],
        oss_to("DE"),
        settings(
            TaxRule(
                "oss:DE:19", "AFST_VERK", {OMZET: "8031", VERZENDKOSTEN: "8032", OSS_VAT: "1631"}
            )
        ),
        [
            "AFST_VERK 8031 21.00 21.00 0.00",
            "AFST_VERK 8032 5.84 5.84 0.00",
            "GEEN 1631 5.10 5.10 0.00",
        ],
    ),
    (
        "oss-fr-with-discount",
        [line("article", "120.00", 20), line("discount", "-12.00", 20)],
        oss_to("FR", "Paris", "75002"),
        settings(oss("FR", 20, ledger="8033", vat_ledger="1633")),
        ["AFST_VERK 8033 90.00 90.00 0.00", "GEEN 1633 18.00 18.00 0.00"],
    ),
]


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(OSS_CASES))
def test_oss_rows(
    lines: list[dict[str, Any]],
    overrides: dict[str, Any],
    mapping: MappingSettings,
    expected: list[str],
) -> None:
    check_order_rows(lines, overrides, mapping, expected)


def test_oss_vat_row_is_the_invoices_vat() -> None:
    data = order_json(line("article", "24.99", 19), line("shipping", "6.95", 19), **oss_to("DE"))
    data["price"]["tax"] = [{"rate": "19", "amount": "5.11"}]  # the shop rounded per line
    result = booked(map_order(parse_order(data), settings(oss("DE", 19))))
    assert rows(result)[-1] == "GEEN 1620 5.11 5.11 0.00"
    assert result.total == D("31.94")


@pytest.mark.parametrize("code", ["AFW_VERK", "GEEN", "BI_EU_VERK", "HOOG_VERK_21"])
def test_oss_revenue_is_afst_verk_only(code: str) -> None:
    """AFW_VERK is a deviating Dutch rate, GEEN keeps the sale out of rubriek 3c."""
    problems = validate(settings(oss("DE", 19, code=code)))
    assert "geen OSS-code: kies AFST_VERK" in problems["rules.oss:DE:19.btw_code"]
    with pytest.raises(MappingError, match="rubriek 3c"):
        map_order(
            order(line("article", "119.00", 19), **oss_to("DE")),
            settings(oss("DE", 19, code=code)),
        )
    assert "OSS" not in BTW_CODE_LABELS["AFW_VERK"].replace("geen OSS-code", "")


def test_oss_without_vat_ledger_is_refused() -> None:
    without = settings(rule("oss:DE:19", "AFST_VERK", "8031"))
    assert validate(without)["rules.oss:DE:19.oss_btw"] == (
        "Kies een grootboekrekening voor OSS DE 19% (te betalen OSS-btw)."
    )
    with pytest.raises(MappingError, match="te betalen OSS-btw"):
        map_order(order(line("article", "119.00", 19), **oss_to("DE")), without)


# --- data that contradicts itself is refused --------------------------------------------

REFUSALS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "export-to-an-eu-region",
        {**export_to("US"), "tax_region": "DE"},
        ["export buiten de EU", "belastingregio DE", "binnen de EU", "niet als export"],
    ),
    (
        "export-shipped-inside-the-eu",
        {**export_to("US"), "shipping": [{"country": {"isocode": "BE"}}]},
        ["verzendland BE"],
    ),
    (
        "export-from-nl-to-nl",
        {"tax_strategy": "zero_percent"},
        ["belastingregio NL, verzendland NL"],
    ),
    (
        "export-without-destination",
        {"tax_strategy": "zero_percent", "tax_region": "", "shipping": []},
        ["geen belastingregio en geen verzendland"],
    ),
    (
        "reverse-charge-without-vat-number",
        {**b2b_eu(), "debtor": debtor(company="Klant BV")},
        [
            "verlegde btw (0%)",
            "geen btw-nummer van de klant",
            "0% zonder geldig btw-nummer",
            "Nederlandse btw",
        ],
    ),
    (
        "reverse-charge-malformed-vat-number",
        b2b_eu("DE", "DE12345"),
        ["btw-nummer DE12345 heeft niet de vorm van een DE-btw-nummer"],
    ),
    (
        "reverse-charge-non-eu-vat-number",
        b2b_eu("BE", "CHE123456789"),
        ["niet met de landcode van een EU-land"],
    ),
    (
        "reverse-charge-dutch-vat-number",
        b2b_eu("BE", "NL123456789B01"),
        ["is Nederlands", "ander EU-land"],
    ),
    ("reverse-charge-greek-gr", b2b_eu("GR", "GR123456789"), ["beginnen met EL"]),
    (
        "reverse-charge-vat-number-on-delivery-address-only",
        {
            **b2b_eu(),
            "debtor": {
                "email": "a@example.com",
                "address": {
                    "invoice": {"company": "Klant BV"},
                    "delivery": {"taxnumber": "BE0123456789"},
                },
            },
        },
        ["geen btw-nummer van de klant"],
    ),
]


@pytest.mark.parametrize(
    ("overrides", "fragments"), [pytest.param(ov, fr, id=i) for i, ov, fr in REFUSALS]
)
def test_inconsistent_tax_data_is_refused(overrides: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(MappingError) as excinfo:
        map_order(order(line("article", "100.00", 0), **overrides), DEFAULT)
    for fragment in fragments:
        assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    "taxnumber", ["BE 0123.456.789", "be0123456789", "DE123456789", "ATU12345678", "EL123456789"]
)
def test_reverse_charge_with_a_valid_vat_number_is_booked(taxnumber: str) -> None:
    result = booked(
        map_order(order(line("article", "100.00", 0), **b2b_eu("BE", taxnumber)), DEFAULT)
    )
    assert rows(result) == ["BI_EU_VERK 8000 100.00 100.00 0.00"]
    assert result.relation.vat_number == taxnumber.replace(" ", "").replace(".", "").upper()
