"""Parse Mijnwebwinkel order JSON (spec shape and live shape) into ``app.core.orders`` types.

The live API deviates from the vendor's spec (NOTES.md §10) and both must be read:
``number`` as int or string, ``price.tax`` and ``orderlines[].price`` as one object or a
list, amounts as JSON numbers or strings (up to 6 decimals), ``shipping[].country`` as
``[]``. Unknown fields are ignored. Money becomes ``Decimal``; a JSON float is read
through its shortest repr so ``12.396694`` stays ``Decimal("12.396694")``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load

from app.core.json_fields import Money, OptionalOrderNumber, OrderNumber, Text
from app.core.json_fields import to_decimal as to_decimal  # re-exported for callers
from app.core.orders import Address, Debtor, Order, OrderLine, OrderSummary, TaxPrice
from app.core.payment_facts import order_payment_fields
from app.errors import OrderDataError


class TaxPriceSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    rate = Money(required=True)
    amount = Money(load_default=None, allow_none=True)
    amount_including_tax = Money(load_default=None, allow_none=True)

    @post_load
    def make(self, data: dict[str, Any], **kw: Any) -> TaxPrice:
        return TaxPrice(**data)


class TaxPrices(fields.Field):
    """``TaxPrice`` or ``TaxPrice[]`` → tuple of TaxPrice."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kw: Any
    ) -> tuple[TaxPrice, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, dict) for item in items):
            raise ValidationError("Expected a TaxPrice object or a list of them.")
        return tuple(TaxPriceSchema().load(item) for item in items)


class AddressSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = Text(load_default="")
    company = Text(load_default="")
    street = Text(load_default="")
    number = Text(load_default="")
    zipcode = Text(load_default="")
    city = Text(load_default="")
    country_code = Text(load_default="")
    phone = Text(load_default="")
    gender = Text(load_default="")
    taxnumber = Text(load_default="")

    @post_load
    def make(self, data: dict[str, Any], **kw: Any) -> Address:
        data["country_code"] = data["country_code"].upper()
        return Address(**data)


class OrderAddressSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    invoice = fields.Nested(AddressSchema, load_default=None, allow_none=True)
    delivery = fields.Nested(AddressSchema, load_default=None, allow_none=True)


class DebtorSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    email = Text(load_default="")
    address = fields.Nested(OrderAddressSchema, load_default=None, allow_none=True)
    name = Text(load_default="")
    company = Text(load_default="")
    phone = Text(load_default="")

    @post_load
    def make(self, data: dict[str, Any], **kw: Any) -> Debtor:
        address = data.pop("address") or {}
        return Debtor(invoice=address.get("invoice"), delivery=address.get("delivery"), **data)


class OrderLineSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = Text(load_default=None, allow_none=True)
    type = Text(load_default="article")
    quantity = fields.Integer(load_default=1, allow_none=True)
    description = Text(load_default="")
    price = TaxPrices(required=True)

    @post_load
    def make(self, data: dict[str, Any], **kw: Any) -> OrderLine:
        return OrderLine(
            id=data["id"] or None,
            type=(data["type"] or "article").lower(),
            quantity=data["quantity"] if data["quantity"] is not None else 1,
            description=data["description"],
            prices=data["price"],
        )


class OrderPriceSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    tax = TaxPrices(load_default=())
    total = Money(required=True)


def _shipping_country(shipping: Any) -> str:
    """First ``shipping[].country.isocode``; live responses may send ``"country": []``."""
    if not isinstance(shipping, list):
        return ""
    for entry in shipping:
        country = entry.get("country") if isinstance(entry, dict) else None
        if isinstance(country, dict) and country.get("isocode"):
            return str(country["isocode"]).upper()
    return ""


def _changed_at(data: dict[str, Any]) -> dt.datetime | None:
    day, time = data.get("status_changed_date"), data.get("status_changed_time")
    if not day:
        return None
    try:
        return dt.datetime.fromisoformat(f"{day} {time or '00:00:00'}")
    except (TypeError, ValueError):
        raise ValidationError(
            f"Not a valid date/time: {day!r} {time!r}.", field_name="status_changed_date"
        ) from None


class OrderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    number = OrderNumber(required=True)
    uuid = Text(required=True)
    date = fields.Date(required=True)
    time = fields.Time(load_default=None, allow_none=True)
    status = fields.Integer(required=True)
    currency = Text(load_default="EUR")
    price = fields.Nested(OrderPriceSchema, required=True)
    orderlines = fields.List(fields.Nested(OrderLineSchema), load_default=list)
    debtor = fields.Nested(DebtorSchema, required=True)
    tax_strategy = Text(load_default="")
    tax_region = Text(load_default="")
    business_model = Text(load_default="B2C")
    credited_order_number = OptionalOrderNumber(load_default=None, allow_none=True)
    credit_order_numbers = fields.Raw(load_default=None)  # untyped in the spec: lenient
    reference = Text(load_default="")
    archived = fields.Boolean(load_default=False, allow_none=True)
    payment_status = fields.Raw(load_default=None)  # a string, or {id, text}: payment_facts
    shipping = fields.Raw(load_default=None)
    status_changed_at = fields.Raw(load_default=None)
    payment = fields.Raw(load_default=None)

    @pre_load
    def derive(self, data: Any, **kw: Any) -> Any:
        if not isinstance(data, dict):
            raise ValidationError("An order must be a JSON object.")
        data = dict(data)
        data["status_changed_at"] = _changed_at(data)
        for key in ("time", "status_changed_time"):
            if data.get(key) == "":
                data[key] = None
        return data

    @post_load
    def make(self, data: dict[str, Any], **kw: Any) -> Order:
        if not data["uuid"]:
            raise ValidationError("Missing data for required field.", field_name="uuid")
        price = data.pop("price")
        return Order(
            number=data["number"],
            uuid=data["uuid"],
            date=data["date"],
            time=data["time"],
            status=data["status"],
            currency=(data["currency"] or "EUR").upper(),
            total=price["total"],
            tax=price["tax"],
            lines=tuple(data["orderlines"]),
            debtor=data["debtor"],
            tax_strategy=data["tax_strategy"],
            tax_region=data["tax_region"].upper(),
            business_model=(data["business_model"] or "B2C").upper(),
            credited_order_number=data["credited_order_number"],
            credit_order_numbers=_credit_numbers(data["credit_order_numbers"]),
            shipping_country=_shipping_country(data["shipping"]),
            status_changed_at=data["status_changed_at"],
            reference=data["reference"],
            archived=bool(data["archived"]),
            **order_payment_fields(data["payment_status"], data["payment"]),
        )


def _credit_numbers(value: Any) -> tuple[str, ...]:
    """``credit_order_numbers`` (NOTES.md §6: a list of str or int live): the credit
    orders of this order, as order numbers; anything else reads as none."""
    if not isinstance(value, list | tuple):
        return ()
    numbers = (
        str(v).strip() for v in value if isinstance(v, str | int) and not isinstance(v, bool)
    )
    return tuple(dict.fromkeys(n for n in numbers if n and n != "0"))


def _lenient(parse: Any, value: Any) -> Any:
    """A listed order's date or time, or None when it is missing or odd (a pass goes on;
    the order itself is read in full by its booking job)."""
    try:
        return parse(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


class OrderSummarySchema(Schema):
    """Lenient: only what the reconciler needs, so one odd order cannot stop a pass."""

    class Meta:
        unknown = EXCLUDE

    number = OrderNumber(required=True)
    uuid = Text(load_default="")
    status = fields.Integer(required=True)
    status_changed_at = fields.Raw(load_default=None)
    date = fields.Raw(load_default=None)
    time = fields.Raw(load_default=None)

    @pre_load
    def derive(self, data: Any, **kw: Any) -> Any:
        if not isinstance(data, dict):
            raise ValidationError("An order must be a JSON object.")
        return {
            **data,
            "status_changed_at": _changed_at(data),
            "date": _lenient(dt.date.fromisoformat, data.get("date")),
            "time": _lenient(dt.time.fromisoformat, data.get("time")),
        }

    @post_load
    def make(self, data: dict[str, Any], **kw: Any) -> OrderSummary:
        return OrderSummary(**data)


def _first_error(messages: Any, path: str = "") -> str:
    """``price.total: Missing data for required field.`` from marshmallow's nested dict."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            return _first_error(value, f"{path}.{key}" if path else str(key))
    if isinstance(messages, list) and messages:
        return _first_error(messages[0], path)
    return f"{path}: {messages}" if path else str(messages)


def load_order(data: Any) -> Order:
    """The full order. Raises marshmallow's ``ValidationError``; its messages name the
    fields (``{"price": {"total": [...]}}``)."""
    return OrderSchema().load(data)


def parse_order(data: Any) -> Order:
    """``load_order`` for code outside the parsing layer: raises ``OrderDataError``."""
    try:
        return load_order(data)
    except ValidationError as err:
        raise OrderDataError(
            f"invalid order: {_first_error(err.messages)}",
            explanation=(
                "De bestelling uit Mijnwebwinkel kon niet worden gelezen "
                f"({_first_error(err.messages)})."
            ),
        ) from err


def parse_order_summary(data: Any) -> OrderSummary:
    try:
        return OrderSummarySchema().load(data)
    except ValidationError as err:
        raise OrderDataError(f"invalid order: {_first_error(err.messages)}") from err
