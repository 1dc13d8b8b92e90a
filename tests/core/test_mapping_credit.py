"""map_order credit notes: booked negative under their own number."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.mapping import (
    is_credit,
    map_order,
)
from app.core.mapping_settings import (
    MappingSettings,
)
from app.core.mutations import Soort
from tests.factories import (
    DEFAULT,
    DEVIATING_20,
    KORTING_8900,
    OSS_DE,
    b2b_eu,
    booked,
    export_to,
    line,
    order,
    rows,
    settings,
    split_line,
)

# (id, lines, order overrides, settings, expected rows) — all credit notes, booked negative
CREDIT_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], MappingSettings, list[str]]] = [
    ("status-10-positive-amounts", [line("article", "12.10", 21)], {"status": 10}, DEFAULT,
     ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"]),
    ("status-10-negative-amounts", [line("article", "-12.10", 21)], {"status": 10}, DEFAULT,
     ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"]),
    ("credited-number-positive-amounts", [line("article", "12.10", 21)],
     {"credited_order_number": 1000, "status": 3}, DEFAULT,
     ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"]),
    ("credited-number-negative-amounts", [line("article", "-12.10", 21)],
     {"credited_order_number": "1000", "status": 3}, DEFAULT,
     ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"]),
    ("credited-number-and-credit-status", [line("article", "-12.10", 21)],
     {"credited_order_number": 1000, "status": 10}, DEFAULT,
     ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"]),
    ("own-credit-status", [line("article", "12.10", 21)], {"status": 11},
     settings(credit_statuses={11}), ["HOOG_VERK_21 8010 -12.10 -10.00 -2.10"]),
    ("mixed-rates-and-costs",
     [line("article", "121.00", 21), line("article", "10.90", 9), line("shipping", "4.95", 21)],
     {"status": 10}, DEFAULT,
     ["HOOG_VERK_21 8010 -121.00 -100.00 -21.00", "LAAG_VERK_9 8000 -10.90 -10.00 -0.90",
      "HOOG_VERK_21 8000 -4.95 -4.09 -0.86"]),
    ("with-discount-positive-in",
     [line("article", "121.00", 21), line("discount", "-12.10", 21)], {"status": 10},
     KORTING_8900,
     ["HOOG_VERK_21 8010 -121.00 -100.00 -21.00", "HOOG_VERK_21 8900 12.10 10.00 2.10"]),
    ("with-discount-negative-in",
     [line("article", "-121.00", 21), line("discount", "12.10", 21)], {"status": 10},
     KORTING_8900,
     ["HOOG_VERK_21 8010 -121.00 -100.00 -21.00", "HOOG_VERK_21 8900 12.10 10.00 2.10"]),
    ("payment-split", [line("article", "10.90", 9), split_line("payment", ("0.21", 9),
                                                                ("0.79", 21))],
     {"status": 10}, DEFAULT,
     ["LAAG_VERK_9 8000 -11.11 -10.19 -0.92", "HOOG_VERK_21 8000 -0.79 -0.65 -0.14"]),
    ("0.05-at-21", [line("article", "0.05", 21)], {"status": 10}, DEFAULT,
     ["HOOG_VERK_21 8010 -0.05 -0.04 -0.01"]),
    ("0.05-at-21-negative-in", [line("article", "-0.05", 21)], {"status": 10}, DEFAULT,
     ["HOOG_VERK_21 8010 -0.05 -0.04 -0.01"]),
    ("0.01-at-9", [line("article", "-0.01", 9)], {"status": 10}, DEFAULT,
     ["LAAG_VERK_9 8000 -0.01 -0.01 0.00"]),
    ("3x0.10-at-21",
     [line("article", "-0.10", 21, id="a"), line("article", "-0.10", 21, id="b"),
      line("article", "-0.10", 21, id="c")],
     {"status": 10}, DEFAULT, ["HOOG_VERK_21 8010 -0.30 -0.25 -0.05"]),
    ("exact-half-cent-rounds-away-from-zero", [line("article", "-0.03", 20)],
     {"status": 10}, DEVIATING_20, ["AFW_VERK 8000 -0.03 -0.02 -0.01"]),
    ("reverse-charge", [line("article", "100.00", 0)],
     {"status": 10, **b2b_eu()}, DEFAULT,
     ["BI_EU_VERK 8000 -100.00 -100.00 0.00"]),
    ("export", [line("article", "-100.00", 0)], {"status": 10, **export_to()},
     DEFAULT, ["BU_EU_VERK 8000 -100.00 -100.00 0.00"]),
    ("oss", [line("article", "119.00", 19)], {"status": 10, "tax_region": "DE"}, OSS_DE,
     ["GEEN 8020 -100.00 -100.00 0.00", "GEEN 1620 -19.00 -19.00 0.00"]),
]


@pytest.mark.parametrize(
    ("lines", "overrides", "mapping", "expected"),
    [pytest.param(ls, ov, s, ex, id=i) for i, ls, ov, s, ex in CREDIT_CASES],
)
def test_credit_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: MappingSettings,
    expected: list[str],
) -> None:
    parsed = order(*lines, number=2001, **overrides)
    assert is_credit(parsed, mapping)
    result = booked(map_order(parsed, mapping))
    assert rows(result) == expected
    assert result.kind == "credit"
    assert result.total == -abs(parsed.total) < 0
    assert result.order_number == "2001"
    invoice = result.mutations[0]
    assert invoice.invoice_number == "2001"  # its own number, not the credited order's
    assert invoice.soort == Soort.FACTUUR_VERSTUURD
    assert invoice.description.startswith("Creditnota 2001")
