"""A booking as e-Boekhouden will see it: its own field names, amounts as 2-decimal
strings. Shown by ``flask preview`` and the "Voorbeeld" page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.core.mapping import Booking
from app.core.mutations import Mutation, Relation


def _wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    return value


def preview_json(booking: Booking) -> dict[str, Any]:
    """The booking with e-Boekhouden's own field names; amounts as 2-decimal strings."""

    def mutation(m: Mutation) -> dict[str, Any]:
        wire = _wire(m.to_wire())
        for row in wire["MutatieRegels"]:  # a percentage, not an amount
            row["BTWPercentage"] = _percentage(row["BTWPercentage"])
        return dict(wire)

    def relation(r: Relation) -> dict[str, Any]:
        wire = _wire(r.to_wire(dt.date.today()))
        for key in ("ID", "AddDatum", "Gb_ID", "GeenEmail", "NieuwsbriefgroepenCount"):
            wire.pop(key, None)
        return dict(wire)

    return {
        "mutations": [mutation(m) for m in booking.mutations],
        "relation": relation(booking.relation),
    }


def _percentage(text: str) -> str:
    value = Decimal(text).normalize()
    return format(value, "f")
