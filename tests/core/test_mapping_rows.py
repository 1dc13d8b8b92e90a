"""map_order rows: one (BTW code, ledger) row per rate and income type, aggregated."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from app.core.mapping import (
    map_order,
)
from app.core.mapping_settings import (
    OMZET,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
)
from app.core.order_schema import parse_order
from tests.factories import (
    DEFAULT,
    INCUMBENT,
    KORTING_8900,
    LIVE,
    OWN_LEDGERS,
    D,
    RowCase,
    check_order_rows,
    line,
    order_json,
    payload,
    row_cases,
    settings,
    split_line,
    with_value,
    without,
)

ROW_CASES: list[RowCase] = [
    # --- one VAT rate, the incumbent's defaults
    ("article-21", [line("article", "12.10", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10"]),
    ("article-9", [line("article", "10.90", 9)], {}, DEFAULT,
     ["LAAG_VERK_9 8000 10.90 10.00 0.90"]),
    ("article-0", [line("article", "10.00", 0)], {}, DEFAULT,
     ["GEEN 8000 10.00 10.00 0.00"]),
    ("rate-as-21.00", [line("article", "12.10", "21.00")], {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10"]),
    ("articles-21-9-0",
     [line("article", "121.00", 21), line("article", "109.00", 9), line("article", "50.00", 0)],
     {}, DEFAULT,
     ["HOOG_VERK_21 8010 121.00 100.00 21.00", "LAAG_VERK_9 8000 109.00 100.00 9.00",
      "GEEN 8000 50.00 50.00 0.00"]),
    ("same-rate-lines-aggregate",
     [line("article", "12.10", 21), line("article", "24.20", 21, quantity=2)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 36.30 30.00 6.30"]),
    ("rows-in-first-seen-order",
     [line("article", "10.90", 9), line("article", "12.10", 21), line("article", "10.90", 9)],
     {}, DEFAULT,
     ["LAAG_VERK_9 8000 21.80 20.00 1.80", "HOOG_VERK_21 8010 12.10 10.00 2.10"]),
    # --- shipping and payment costs
    ("shipping-21", [line("article", "12.10", 21), line("shipping", "4.95", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 4.95 4.09 0.86"]),
    ("shipping-9-shares-omzet-row",
     [line("article", "10.90", 9), line("shipping", "4.95", 9)], {}, DEFAULT,
     ["LAAG_VERK_9 8000 15.85 14.54 1.31"]),
    ("shipping-0", [line("article", "10.00", 0), line("shipping", "4.95", 0)], {}, DEFAULT,
     ["GEEN 8000 14.95 14.95 0.00"]),
    ("payment-21", [line("article", "12.10", 21), line("payment", "0.35", 21)], {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 0.35 0.29 0.06"]),
    ("shipping-and-payment-share-8000",
     [line("article", "12.10", 21), line("shipping", "4.95", 21), line("payment", "0.35", 21)],
     {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 5.30 4.38 0.92"]),
    ("payment-split-over-rates",
     [line("article", "121.00", 21), line("article", "109.00", 9),
      split_line("payment", ("0.21", 9), ("0.79", 21))],
     {}, DEFAULT,
     ["HOOG_VERK_21 8010 121.00 100.00 21.00", "LAAG_VERK_9 8000 109.21 100.19 9.02",
      "HOOG_VERK_21 8000 0.79 0.65 0.14"]),
    ("payment-split-single-element-list",
     [line("article", "12.10", 21), split_line("payment", ("0.79", 21))], {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10", "HOOG_VERK_21 8000 0.79 0.65 0.14"]),
    ("own-ledger-per-income-type",
     [line("article", "121.00", 21), line("shipping", "6.05", 21), line("payment", "1.21", 21),
      line("discount", "-12.10", 21)],
     {}, OWN_LEDGERS,
     ["HOOG_VERK_21 8010 121.00 100.00 21.00", "HOOG_VERK_21 8050 6.05 5.00 1.05",
      "HOOG_VERK_21 8060 1.21 1.00 0.21", "HOOG_VERK_21 8070 -12.10 -10.00 -2.10"]),
    ("empty-income-ledger-falls-back-to-omzet",
     [line("article", "12.10", 21), line("shipping", "4.95", 21)], {},
     settings(TaxRule("rate:21", "HOOG_VERK_21", {OMZET: "8030", VERZENDKOSTEN: ""})),
     ["HOOG_VERK_21 8030 17.05 14.09 2.96"]),
    # --- discounts, split over rates as an array
    ("discount-split-default-ledgers",
     [line("article", "121.00", 21), line("article", "54.50", 9),
      split_line("discount", ("-12.10", 21), ("-5.45", 9))],
     {}, DEFAULT,
     ["HOOG_VERK_21 8010 108.90 90.00 18.90", "LAAG_VERK_9 8000 49.05 45.00 4.05"]),
    ("discount-split-own-ledger",
     [line("article", "121.00", 21), line("article", "54.50", 9),
      split_line("discount", ("-12.10", 21), ("-5.45", 9))],
     {}, KORTING_8900,
     ["HOOG_VERK_21 8010 121.00 100.00 21.00", "LAAG_VERK_9 8000 54.50 50.00 4.50",
      "HOOG_VERK_21 8900 -12.10 -10.00 -2.10", "LAAG_VERK_9 8900 -5.45 -5.00 -0.45"]),
    ("discount-single-object", [line("article", "20.00", 21), line("discount", "-5.00", 21)],
     {}, KORTING_8900,
     ["HOOG_VERK_21 8010 20.00 16.53 3.47", "HOOG_VERK_21 8900 -5.00 -4.13 -0.87"]),
    ("discount-cancels-a-rate",
     [line("article", "12.10", 21), line("article", "10.90", 9), line("discount", "-10.90", 9)],
     {}, DEFAULT,
     ["HOOG_VERK_21 8010 12.10 10.00 2.10"]),
    # --- other line types are revenue at their own rate once the shop maps them
    # (unknown types are refused unless mapped: test_mapping_line_types.py)
    ("custom-and-mapped-unknown-type",
     [line("custom", "12.10", 21), line("gift_wrap", "2.42", 21)], {},
     settings(line_type_ledgers={"gift_wrap": "8010"}),
     ["HOOG_VERK_21 8010 14.52 12.00 2.52"]),
    ("mapped-unknown-type-at-9", [line("deposit", "1.09", 9)], {},
     settings(line_type_ledgers={"deposit": "8000"}),
     ["LAAG_VERK_9 8000 1.09 1.00 0.09"]),
    # --- the incumbent's own screen ("Stap 2 van 2")
    ("incumbent-0-verl-verk", [line("article", "10.00", 0)], {}, INCUMBENT,
     ["VERL_VERK 8000 10.00 10.00 0.00"]),
    ("incumbent-9-laag-verk", [line("article", "10.90", 9)], {}, INCUMBENT,
     ["LAAG_VERK 8000 10.90 10.00 0.90"]),
    ("incumbent-full-screen",
     [line("article", "121.00", 21), line("shipping", "6.05", 21), line("payment", "0.35", 21),
      line("article", "10.90", 9), line("shipping", "4.95", 9), line("article", "5.00", 0)],
     {}, INCUMBENT,
     ["HOOG_VERK_21 8010 121.00 100.00 21.00", "HOOG_VERK_21 8000 6.40 5.29 1.11",
      "LAAG_VERK 8000 15.85 14.54 1.31", "VERL_VERK 8000 5.00 5.00 0.00"]),
]


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(ROW_CASES))
def test_order_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: MappingSettings,
    expected: list[str],
) -> None:
    check_order_rows(lines, overrides, mapping, expected)


# --- purity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mapping"),
    [pytest.param(order_json(*ls, **ov), s, id=i) for i, ls, ov, s, _ in ROW_CASES[:12]]
    + [pytest.param(payload(LIVE), DEFAULT, id="live")],
)
def test_map_order_is_pure(data: dict[str, Any], mapping: MappingSettings) -> None:
    parsed = parse_order(data)
    snapshot = (dataclasses.replace(parsed), mapping.to_json())
    first = map_order(parsed, mapping)
    assert map_order(parsed, mapping) == first
    assert map_order(parse_order(json.loads(json.dumps(data))), mapping) == first
    assert (parsed, mapping.to_json()) == snapshot
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.total = D(0)  # type: ignore[misc, union-attr]


def test_invalid_input_helpers_sanity() -> None:
    # the builders used above produce what the tables assume
    data = order_json(line("article", "12.10", 21), line("shipping", "4.95", 21))
    assert data["price"]["total"] == "17.05"
    assert without(data, "price.total")["price"] == {"tax": data["price"]["tax"]}
    assert with_value(data, "orderlines.1.type", "payment")["orderlines"][1]["type"] == "payment"
