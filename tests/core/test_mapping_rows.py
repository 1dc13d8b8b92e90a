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
    MappingSettings,
)
from app.core.order_schema import parse_order
from tests.factories import (
    DEFAULT,
    LIVE,
    D,
    check_order_rows,
    line,
    order_json,
    payload,
    row_cases,
    with_value,
    without,
)
from tests.mapping_cases import ROW_CASES


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), row_cases(ROW_CASES))
def test_order_rows(
    lines: list[dict[str, Any]],
    overrides: dict[str, Any],
    mapping: MappingSettings,
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
