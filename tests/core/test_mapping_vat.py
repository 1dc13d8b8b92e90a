"""map_order VAT: the rows' VAT, rounding traps and cents."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.mapping_settings import (
    MappingSettings,
)
from tests.factories import (
    DEFAULT,
    DEVIATING_20,
    RowCase,
    check_order_rows,
    line,
    row_cases,
)

ROUNDING_CASES: list[RowCase] = [
    # --- 1-cent rounding traps: VAT per row, half-up, never per line
    ("3x0.10-at-21",
     [line("article", "0.10", 21, id="a"), line("article", "0.10", 21, id="b"),
      line("article", "0.10", 21, id="c")],
     {}, DEFAULT, ["HOOG_VERK_21 8010 0.30 0.25 0.05"]),
    ("10x0.99-at-21", [line("article", "0.99", 21, id=str(i)) for i in range(10)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 9.90 8.18 1.72"]),
    ("0.01-at-9", [line("article", "0.01", 9)], {}, DEFAULT,
     ["LAAG_VERK_9 8000 0.01 0.01 0.00"]),
    ("0.01-at-21", [line("article", "0.01", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 0.01 0.01 0.00"]),
    ("0.05-at-21", [line("article", "0.05", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 0.05 0.04 0.01"]),
    ("0.02-at-21", [line("article", "0.02", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 0.02 0.02 0.00"]),
    ("0.06-at-9-just-below-half", [line("article", "0.06", 9)], {}, DEFAULT,
     ["LAAG_VERK_9 8000 0.06 0.06 0.00"]),
    ("0.07-at-9", [line("article", "0.07", 9)], {}, DEFAULT,
     ["LAAG_VERK_9 8000 0.07 0.06 0.01"]),
    ("exact-half-cent-rounds-up", [line("article", "0.03", 20)], {}, DEVIATING_20,
     ["AFW_VERK 8000 0.03 0.02 0.01"]),
    ("exact-half-cent-0.09", [line("article", "0.09", 20)], {}, DEVIATING_20,
     ["AFW_VERK 8000 0.09 0.07 0.02"]),
    ("large-amount", [line("article", "12345.67", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 12345.67 10203.03 2142.64"]),
    ("incl-with-trailing-zero-decimals",
     [line("article", "0.100", 21, id="a"), line("article", "0.100000", 21, id="b")], {}, DEFAULT,
     ["HOOG_VERK_21 8010 0.20 0.17 0.03"]),
    ("incl-without-decimals", [line("article", "15", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 15.00 12.40 2.60"]),
]


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(ROUNDING_CASES))
def test_rounding_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: MappingSettings,
    expected: list[str],
) -> None:
    check_order_rows(lines, overrides, mapping, expected)
