"""marshmallow fields for the Mijnwebwinkel JSON's quirks (no I/O): amounts as numbers or
strings, strings that arrive as numbers or null, order numbers as int or string."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields

MAX_DECIMALS = 6
# Far above any webshop amount; keeps the cent arithmetic inside Decimal's 28 digits
# (``1e30`` would otherwise pass here and crash the mapping with InvalidOperation).
MAX_AMOUNT = Decimal(10) ** 12


def to_decimal(value: Any) -> Decimal:
    """A JSON number or numeric string as Decimal; raises ValidationError otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValidationError("Not a valid amount.")
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, str) and value.strip():
            number = Decimal(value.strip())
        else:
            raise ValidationError("Not a valid amount.")
    except InvalidOperation:
        raise ValidationError(f"Not a valid amount: {value!r}.") from None
    if not number.is_finite():
        raise ValidationError(f"Not a valid amount: {value!r}.")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise ValidationError(f"More than {MAX_DECIMALS} decimals: {value!r}.")
    if abs(number) >= MAX_AMOUNT:
        raise ValidationError(f"Amount out of range: {value!r}.")
    return number


class Money(fields.Field):
    """An amount or rate: JSON number or string, at most 6 decimals, as Decimal."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Decimal:
        return to_decimal(value)


class Text(fields.Field):
    """A string that may arrive as a number or null (live quirks); always ``str``."""

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kw: Any) -> Any:
        # marshmallow refuses null before _deserialize runs unless allow_none is set.
        return super().deserialize("" if value is None else value, attr, data, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("Not a valid string.")
        return str(value).strip()


class OrderNumber(fields.Field):
    """Order numbers are integers in the spec, strings live, ``T-…`` for test orders."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Not a valid order number.")
        number = str(value).strip()
        if not number:
            raise ValidationError("Order number is empty.")
        return number


class OptionalOrderNumber(OrderNumber):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if value in (None, "", 0, "0"):
            return None
        return super()._deserialize(value, attr, data, **kw)
