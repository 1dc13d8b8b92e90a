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
    booked,
    order,
    rows,
)
from tests.mapping_cases import CREDIT_CASES


@pytest.mark.parametrize(
    ("lines", "overrides", "mapping", "expected"),
    [pytest.param(ls, ov, s, ex, id=i) for i, ls, ov, s, ex in CREDIT_CASES],
)
def test_credit_rows(
    lines: list[dict[str, Any]],
    overrides: dict[str, Any],
    mapping: MappingSettings,
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
