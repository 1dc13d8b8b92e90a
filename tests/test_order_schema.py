"""Parsing Mijnwebwinkel order JSON: spec shapes, live shapes, and invalid input."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from app.core.order_schema import load_order, parse_order, parse_order_summary, to_decimal
from app.core.orders import Order, TaxPrice
from app.errors import OrderDataError
from tests.factories import (
    as_numbers,
    as_strings,
    debtor,
    line,
    order_json,
    payload,
    split_line,
    with_value,
    without,
)

SPEC = "mijnwebwinkel/order.spec-example.json"
LIVE = "mijnwebwinkel/order.live-shape.sdk-test.json"
D = Decimal


def error_paths(messages: Any, prefix: str = "") -> set[str]:
    """``{"price": {"total": [...]}}`` → ``{"price.total"}``."""
    if isinstance(messages, dict):
        paths: set[str] = set()
        for key, value in messages.items():
            paths |= error_paths(value, f"{prefix}.{key}" if prefix else str(key))
        return paths
    return {prefix}


def walk(value: Any) -> list[Any]:
    """Every value inside a parsed order (dataclasses, tuples), depth-first."""
    found = [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found += walk(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for item in value:
            found += walk(item)
    return found


def assert_no_float(order: Order) -> None:
    assert not [v for v in walk(order) if isinstance(v, float)]
    for price in (p for v in walk(order) if isinstance(v, TaxPrice) for p in [v]):
        for amount in (price.rate, price.amount, price.amount_including_tax):
            assert amount is None or isinstance(amount, Decimal)
    assert isinstance(order.total, Decimal)


# --- the two captured fixtures ---------------------------------------------------------


def test_spec_example_parses() -> None:
    order = load_order(payload(SPEC))
    assert order.number == "27"
    assert order.uuid == "af88e19b-a57b-4aae-a92b-f7078454d1e3"
    assert order.date == dt.date(2015, 11, 3)
    assert order.time == dt.time(13, 37, 12)
    assert order.status == 1
    assert order.total == D("47.45")
    assert order.tax == (
        TaxPrice(rate=D("9"), amount=D("0.83")),
        TaxPrice(rate=D("21"), amount=D("6.5")),
    )
    assert [ln.type for ln in order.lines] == ["article"] * 4 + ["payment"] * 2
    assert [ln.quantity for ln in order.lines] == [1, 2, 3, 5, 1, 1]
    assert order.lines[0].prices == (TaxPrice(D("21"), D("12.396694"), D("15")),)
    assert order.lines[4].prices == (
        TaxPrice(D("9"), D("0.192571"), D("0.21")),
        TaxPrice(D("21"), D("0.652972"), D("0.79")),
    )
    assert sum(p.amount_including_tax for ln in order.lines for p in ln.prices) == order.total
    assert order.credited_order_number == "28"
    assert order.business_model == "B2B"
    assert order.reference == "MOS103271"
    assert order.archived is True
    assert order.shipping_country == "NL"
    assert order.currency == "EUR"
    invoice = order.debtor.invoice
    assert invoice is not None
    assert (invoice.name, invoice.company, invoice.street, invoice.number) == (
        "Truus voorbeeldig",
        "Voorbeeldig BV",
        "Molenstraat",
        "62",
    )
    assert (invoice.zipcode, invoice.city, invoice.country_code) == ("5341GE", "Oss", "NL")
    assert order.debtor.email == "support@mijnwebwinkel.nl"
    assert not order.is_test
    assert_no_float(order)


def test_live_shape_parses() -> None:
    order = load_order(payload(LIVE))
    assert order.number == "1001"
    assert order.status == 2
    assert order.total == D("68.00")
    assert order.tax == (TaxPrice(rate=D("21.00"), amount=D("11.80")),)
    assert order.lines[0].prices == (TaxPrice(D("21.00"), D("56.198347"), D("68.00")),)
    assert order.lines[0].id == "5e77ab8b-c46f-11ec-9c3c-aaee87cff863"
    assert order.shipping_country == ""  # "country": []
    assert order.credited_order_number == "999"
    assert order.debtor.invoice is None
    assert (order.debtor.email, order.debtor.name) == ("test@example.com", "Test User")
    assert_no_float(order)


@pytest.mark.parametrize("name", [SPEC, LIVE])
def test_fixture_amounts_as_strings_or_numbers_parse_alike(name: str) -> None:
    data = payload(name)
    assert load_order(as_strings(data)) == load_order(as_numbers(data)) == load_order(data)


@pytest.mark.parametrize("name", [SPEC, LIVE])
def test_parse_order_accepts_fixture(name: str) -> None:
    assert parse_order(payload(name)) == load_order(payload(name))


def test_factory_order_is_valid() -> None:
    order = load_order(order_json())
    assert order.number == "1001"
    assert order.total == D("12.10")
    assert_no_float(order)


# --- shape rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(27, "27"), ("27", "27"), (" 27 ", "27"), ("T-12", "T-12"), ("2025-0001", "2025-0001")],
)
def test_number_int_or_string(value: Any, expected: str) -> None:
    assert load_order(order_json(number=value)).number == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(28, "28"), ("28", "28"), (None, None), ("", None), (0, None), ("0", None)],
)
def test_credited_order_number(value: Any, expected: str | None) -> None:
    assert load_order(order_json(credited_order_number=value)).credited_order_number == expected


def test_credited_order_number_missing_is_none() -> None:
    assert load_order(without(order_json(), "credited_order_number")).credited_order_number is None


@pytest.mark.parametrize(
    ("tax", "expected"),
    [
        ({"amount": "2.10", "rate": "21.00"}, (TaxPrice(D("21"), D("2.10")),)),
        ([{"amount": "2.10", "rate": "21.00"}], (TaxPrice(D("21"), D("2.10")),)),
        (
            [{"amount": 0.83, "rate": 9}, {"amount": 6.5, "rate": 21}],
            (TaxPrice(D("9"), D("0.83")), TaxPrice(D("21"), D("6.5"))),
        ),
        ([], ()),
    ],
    ids=["object", "list-of-one", "list-numbers", "empty-list"],
)
def test_price_tax_object_or_list(tax: Any, expected: tuple[TaxPrice, ...]) -> None:
    data = with_value(order_json(), "price.tax", tax)
    assert load_order(data).tax == expected


def test_price_tax_missing() -> None:
    assert load_order(without(order_json(), "price.tax")).tax == ()


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (
            {"amount": "10", "amount_including_tax": "12.10", "rate": "21"},
            (TaxPrice(D("21"), D("10"), D("12.10")),),
        ),
        (
            [{"amount": "10", "amount_including_tax": "12.10", "rate": "21"}],
            (TaxPrice(D("21"), D("10"), D("12.10")),),
        ),
        (
            [
                {"amount": 0.192571, "rate": 9, "amount_including_tax": 0.21},
                {"amount": 0.652972, "rate": 21, "amount_including_tax": 0.79},
            ],
            (
                TaxPrice(D("9"), D("0.192571"), D("0.21")),
                TaxPrice(D("21"), D("0.652972"), D("0.79")),
            ),
        ),
        ({"rate": "21"}, (TaxPrice(D("21")),)),
        ({"rate": "21", "amount": None, "amount_including_tax": None}, (TaxPrice(D("21")),)),
        ([], ()),
    ],
    ids=["object", "list-of-one", "split", "rate-only", "nulls", "empty"],
)
def test_orderline_price_object_or_list(price: Any, expected: tuple[TaxPrice, ...]) -> None:
    data = with_value(order_json(), "orderlines.0.price", price)
    assert load_order(data).lines[0].prices == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (68, D("68")),
        (68.0, D("68")),
        ("68.00", D("68.00")),
        ("56.198347", D("56.198347")),
        (56.198347, D("56.198347")),
        (12.396694, D("12.396694")),
        (0.1, D("0.1")),
        (0.000001, D("0.000001")),
        ("-12.396694", D("-12.396694")),
        (-3.305785, D("-3.305785")),
        (" 1.50 ", D("1.50")),
        ("0", D("0")),
        ("1.100000", D("1.1")),
        (999999999999, D("999999999999")),
    ],
)
def test_amounts_numbers_or_strings(value: Any, expected: Decimal) -> None:
    parsed = to_decimal(value)
    assert isinstance(parsed, Decimal)
    assert parsed == expected
    data = with_value(order_json(), "orderlines.0.price.amount", value)
    amount = load_order(data).lines[0].prices[0].amount
    assert isinstance(amount, Decimal)
    assert amount == expected


def test_float_is_read_through_its_shortest_repr() -> None:
    # Decimal(12.396694) would be 12.39669399999999995998...; the repr is exact.
    assert to_decimal(12.396694).as_tuple() == D("12.396694").as_tuple()


def test_float_noise_beyond_six_decimals_is_refused() -> None:
    with pytest.raises(ValidationError):
        to_decimal(0.1 + 0.2)  # 0.30000000000000004


@pytest.mark.parametrize(
    "shipping",
    [
        [{"country": []}],
        [],
        None,
        {},
        [{}],
        [{"country": None}],
        [{"country": {"description": "Nederland"}}],
        "NL",
        [1],
    ],
    ids=[
        "country-empty-list",
        "empty",
        "null",
        "object",
        "no-country",
        "country-null",
        "no-isocode",
        "string",
        "not-objects",
    ],
)
def test_shipping_country_edge_cases(shipping: Any) -> None:
    assert load_order(order_json(shipping=shipping)).shipping_country == ""


@pytest.mark.parametrize(
    ("shipping", "expected"),
    [
        ([{"country": {"description": "Duitsland", "isocode": "de"}}], "DE"),
        ([{"country": []}, {"country": {"isocode": "BE"}}], "BE"),
    ],
)
def test_shipping_country_isocode(shipping: Any, expected: str) -> None:
    assert load_order(order_json(shipping=shipping)).shipping_country == expected


def test_shipping_missing() -> None:
    assert load_order(without(order_json(), "shipping")).shipping_country == ""


UNKNOWN_FIELD_PATHS = [
    "surprise",
    "price.surprise",
    "price.tax.0.surprise",
    "orderlines.0.surprise",
    "orderlines.0.price.surprise",
    "debtor.surprise",
    "debtor.address.surprise",
    "debtor.address.invoice.surprise",
]


@pytest.mark.parametrize("path", UNKNOWN_FIELD_PATHS)
def test_unknown_fields_are_ignored(path: str) -> None:
    data = order_json()
    assert load_order(with_value(data, path, {"nested": [1, "x"]})) == load_order(data)


def test_live_extras_are_ignored() -> None:
    data = order_json(
        payment={"gateway_name": "mollie", "method_name": "ideal", "status": {"id": 1}},
        payment_status="captured",
        comments={"customer": "Snel graag"},
        credit_order_numbers=["99", 101],
        offline_location_id=None,
        discountcode="korting123",
    )
    loaded = load_order(data)
    # The deprecated payment fields are read (the payments fallback), and the credit
    # orders (refunds are allocated over them); the rest is ignored.
    assert (loaded.payment_status, loaded.payment_status_id, loaded.payment_method) == (
        "captured",
        1,
        "ideal",
    )
    assert loaded.credit_order_numbers == ("99", "101")  # live: strings or numbers
    assert replace(
        loaded,
        payment_status="",
        payment_status_id=None,
        payment_method="",
        credit_order_numbers=(),
    ) == load_order(order_json())


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, ()),
        ([], ()),
        ("28", ()),
        ([28, "29", 28, "", 0, True, None, {"x": 1}], ("28", "29")),
    ],
)
def test_credit_order_numbers_are_read_leniently(value: object, expected: tuple) -> None:
    assert load_order(order_json(credit_order_numbers=value)).credit_order_numbers == expected


@pytest.mark.parametrize(
    "status, payment",
    [
        ({"id": 1, "text": "captured"}, None),
        (None, {"status": "odd"}),
        (None, []),
        ("", {"method_name": None, "status": {"id": "x"}}),
    ],
)
def test_odd_payment_fields_do_not_stop_an_order(status: Any, payment: Any) -> None:
    loaded = load_order(order_json(payment_status=status, payment=payment))
    assert loaded.payment_status_id is None


@pytest.mark.parametrize(
    ("overrides", "attribute", "expected"),
    [
        ({"currency": "eur"}, "currency", "EUR"),
        ({"currency": None}, "currency", "EUR"),
        ({"currency": "usd"}, "currency", "USD"),
        ({"business_model": "b2b"}, "business_model", "B2B"),
        ({"business_model": ""}, "business_model", "B2C"),
        ({"tax_region": "de"}, "tax_region", "DE"),
        ({"tax_region": None}, "tax_region", ""),
        ({"tax_strategy": "reverse_charged_vat"}, "tax_strategy", "reverse_charged_vat"),
        ({"payment_status": "Captured"}, "payment_status", "captured"),
        ({"payment_status": None}, "payment_status", ""),
        ({"time": ""}, "time", None),
        ({"time": None}, "time", None),
        ({"archived": None}, "archived", False),
        ({"reference": 12345}, "reference", "12345"),
        ({"uuid": " abc "}, "uuid", "abc"),
        ({"status": "3"}, "status", 3),
        (
            {"status_changed_date": "2025-03-15", "status_changed_time": "08:30:00"},
            "status_changed_at",
            dt.datetime(2025, 3, 15, 8, 30),
        ),
        ({"status_changed_date": "2025-03-15"}, "status_changed_at", dt.datetime(2025, 3, 15)),
        (
            {"status_changed_date": "2025-03-15", "status_changed_time": ""},
            "status_changed_at",
            dt.datetime(2025, 3, 15),
        ),
        ({"status_changed_date": None}, "status_changed_at", None),
    ],
)
def test_field_normalisation(overrides: dict[str, Any], attribute: str, expected: Any) -> None:
    assert getattr(load_order(order_json(**overrides)), attribute) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("currency", "EUR"),
        ("business_model", "B2C"),
        ("tax_strategy", ""),
        ("tax_region", ""),
        ("time", None),
        ("archived", False),
        ("orderlines", ()),
    ],
)
def test_optional_fields_default(key: str, expected: Any) -> None:
    attribute = {"orderlines": "lines"}.get(key, key)
    assert getattr(load_order(without(order_json(), key)), attribute) == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ("article", 1, "", None)),
        (
            {"type": "SHIPPING", "quantity": 2, "description": " Verzending ", "id": "x"},
            ("shipping", 2, "Verzending", "x"),
        ),
        ({"type": "", "quantity": None, "description": None, "id": ""}, ("article", 1, "", None)),
        ({"type": "gift_wrap"}, ("gift_wrap", 1, "", None)),
        ({"quantity": "3"}, ("article", 3, "", None)),
    ],
)
def test_orderline_defaults(overrides: dict[str, Any], expected: tuple[Any, ...]) -> None:
    raw = {"price": {"rate": "21", "amount_including_tax": "12.10"}, **overrides}
    data = order_json(total="12.10")
    data["orderlines"] = [raw]
    parsed = load_order(data).lines[0]
    assert (parsed.type, parsed.quantity, parsed.description, parsed.id) == expected


@pytest.mark.parametrize(
    "split",
    [
        split_line("discount", ("-10.00", 21), ("-5.00", 9)),
        split_line("payment", ("0.21", 9), ("0.79", 21)),
    ],
    ids=["discount", "payment"],
)
def test_split_lines_keep_every_rate(split: dict[str, Any]) -> None:
    parsed = load_order(order_json(line("article", "100.00", 21), split)).lines[1]
    assert len(parsed.prices) == 2
    assert {p.rate for p in parsed.prices} == {D("21"), D("9")}


ANN = {"email": "a@example.com", "name": "Ann", "company": "Ann BV", "phone": "06"}


# --- debtor -------------------------------------------------------------------------------


def test_debtor_invoice_address() -> None:
    data = order_json(
        debtor=debtor(
            "  Jan@Example.com ",
            company="Jan BV",
            taxnumber="NL123B01",
            country_code="be",
            number=62,
            phone=None,
        )
    )
    parsed = load_order(data).debtor
    assert parsed.email == "Jan@Example.com"
    assert parsed.invoice is not None
    assert parsed.invoice.company == "Jan BV"
    assert parsed.invoice.taxnumber == "NL123B01"
    assert parsed.invoice.country_code == "BE"
    assert parsed.invoice.number == "62"
    assert parsed.invoice.phone == ""


def test_debtor_delivery_address() -> None:
    data = order_json(
        debtor={
            "email": "x@example.com",
            "address": {"invoice": None, "delivery": {"name": "Piet"}},
        }
    )
    parsed = load_order(data).debtor
    assert parsed.invoice is None
    assert parsed.delivery is not None
    assert parsed.delivery.name == "Piet"


@pytest.mark.parametrize(
    "debtor_data",
    [
        ANN,
        {**ANN, "address": None},
        {**ANN, "address": {}},
    ],
    ids=["no-address", "address-null", "address-empty"],
)
def test_debtor_deprecated_fields(debtor_data: dict[str, Any]) -> None:
    parsed = load_order(order_json(debtor=debtor_data)).debtor
    assert parsed.invoice is None
    assert (parsed.name, parsed.company, parsed.phone) == ("Ann", "Ann BV", "06")


def test_debtor_empty_object() -> None:
    parsed = load_order(order_json(debtor={})).debtor
    assert parsed.email == ""
    assert parsed.invoice is None


# --- invalid input ------------------------------------------------------------------------

BASE = order_json(line("article", "12.10", 21), split_line("payment", ("0.21", 9), ("0.79", 21)))

INVALID: list[Any] = [
    # (id, data, expected error path)
    ("bad-total", with_value(BASE, "price.total", "abc"), "price.total"),
    ("empty-total", with_value(BASE, "price.total", ""), "price.total"),
    ("blank-total", with_value(BASE, "price.total", "  "), "price.total"),
    ("null-total", with_value(BASE, "price.total", None), "price.total"),
    ("bool-total", with_value(BASE, "price.total", True), "price.total"),
    ("list-total", with_value(BASE, "price.total", [1]), "price.total"),
    ("object-total", with_value(BASE, "price.total", {"value": 1}), "price.total"),
    ("nan-total", with_value(BASE, "price.total", "NaN"), "price.total"),
    ("inf-total", with_value(BASE, "price.total", "Infinity"), "price.total"),
    ("huge-total", with_value(BASE, "price.total", "1e30"), "price.total"),
    ("huge-float-total", with_value(BASE, "price.total", 1e30), "price.total"),
    ("7-decimals-total", with_value(BASE, "price.total", "13.1000001"), "price.total"),
    ("7-decimals-float", with_value(BASE, "price.total", 13.1000001), "price.total"),
    ("missing-total", without(BASE, "price.total"), "price.total"),
    ("missing-price", without(BASE, "price"), "price"),
    ("price-not-object", with_value(BASE, "price", "13.10"), "price._schema"),
    ("bad-tax", with_value(BASE, "price.tax", "2.10"), "price.tax"),
    (
        "bad-tax-item",
        with_value(BASE, "price.tax", [{"amount": "x", "rate": 21}]),
        "price.tax.amount",
    ),
    ("tax-without-rate", with_value(BASE, "price.tax", {"amount": "2.10"}), "price.tax.rate"),
    (
        "bad-line-incl",
        with_value(BASE, "orderlines.0.price.amount_including_tax", "12,10"),
        "orderlines.0.price.amount_including_tax",
    ),
    (
        "bool-line-incl",
        with_value(BASE, "orderlines.0.price.amount_including_tax", False),
        "orderlines.0.price.amount_including_tax",
    ),
    (
        "7-decimals-line-amount",
        with_value(BASE, "orderlines.0.price.amount", "10.0000001"),
        "orderlines.0.price.amount",
    ),
    ("bool-rate", with_value(BASE, "orderlines.0.price.rate", True), "orderlines.0.price.rate"),
    ("missing-rate", without(BASE, "orderlines.0.price.rate"), "orderlines.0.price.rate"),
    ("null-rate", with_value(BASE, "orderlines.0.price.rate", None), "orderlines.0.price.rate"),
    (
        "bad-split-item",
        with_value(BASE, "orderlines.1.price.1.amount_including_tax", "x"),
        "orderlines.1.price.amount_including_tax",
    ),
    ("split-not-objects", with_value(BASE, "orderlines.1.price", [1, 2]), "orderlines.1.price"),
    ("line-price-string", with_value(BASE, "orderlines.0.price", "12.10"), "orderlines.0.price"),
    ("line-price-null", with_value(BASE, "orderlines.0.price", None), "orderlines.0.price"),
    ("line-price-missing", without(BASE, "orderlines.0.price"), "orderlines.0.price"),
    ("line-not-object", with_value(BASE, "orderlines.0", "x"), "orderlines.0._schema"),
    ("orderlines-not-list", with_value(BASE, "orderlines", {"a": 1}), "orderlines"),
    ("bad-quantity", with_value(BASE, "orderlines.0.quantity", "veel"), "orderlines.0.quantity"),
    ("bad-line-type", with_value(BASE, "orderlines.0.type", ["article"]), "orderlines.0.type"),
    ("missing-uuid", without(BASE, "uuid"), "uuid"),
    ("empty-uuid", with_value(BASE, "uuid", ""), "uuid"),
    ("null-uuid", with_value(BASE, "uuid", None), "uuid"),
    ("missing-number", without(BASE, "number"), "number"),
    ("null-number", with_value(BASE, "number", None), "number"),
    ("empty-number", with_value(BASE, "number", " "), "number"),
    ("bool-number", with_value(BASE, "number", True), "number"),
    ("float-number", with_value(BASE, "number", 27.5), "number"),
    ("list-number", with_value(BASE, "number", [27]), "number"),
    ("bad-credited", with_value(BASE, "credited_order_number", {"n": 1}), "credited_order_number"),
    ("missing-date", without(BASE, "date"), "date"),
    ("bad-date", with_value(BASE, "date", "2025-13-01"), "date"),
    ("bad-time", with_value(BASE, "time", "25:61:00"), "time"),
    ("missing-status", without(BASE, "status"), "status"),
    ("bad-status", with_value(BASE, "status", "betaald"), "status"),
    ("bool-status", with_value(BASE, "status", True), "status"),
    ("missing-debtor", without(BASE, "debtor"), "debtor"),
    ("debtor-not-object", with_value(BASE, "debtor", "x"), "debtor._schema"),
    ("bad-email", with_value(BASE, "debtor.email", ["x"]), "debtor.email"),
    (
        "bad-invoice",
        with_value(BASE, "debtor.address.invoice", "x"),
        "debtor.address.invoice._schema",
    ),
    (
        "bad-address-field",
        with_value(BASE, "debtor.address.invoice.city", {"x": 1}),
        "debtor.address.invoice.city",
    ),
    (
        "bad-changed-date",
        with_value(BASE, "status_changed_date", "gisteren"),
        "status_changed_date",
    ),
    ("bad-currency", with_value(BASE, "currency", 978.5), "currency"),
]


@pytest.mark.parametrize(("data", "path"), [pytest.param(d, p, id=i) for i, d, p in INVALID])
def test_invalid_input_names_the_field(data: Any, path: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        load_order(data)
    assert path in error_paths(excinfo.value.messages)


@pytest.mark.parametrize(("data", "path"), [pytest.param(d, p, id=i) for i, d, p in INVALID])
def test_parse_order_raises_order_data_error(data: Any, path: str) -> None:
    with pytest.raises(OrderDataError) as excinfo:
        parse_order(data)
    assert isinstance(excinfo.value.__cause__, ValidationError)
    assert str(excinfo.value).startswith("invalid order: ")
    assert "De bestelling uit Mijnwebwinkel kon niet worden gelezen" in excinfo.value.explanation
    # the message names a field that is actually wrong
    named = str(excinfo.value).removeprefix("invalid order: ").split(":")[0]
    assert named in error_paths(excinfo.value.__cause__.messages)


@pytest.mark.parametrize(
    "data",
    [[], [order_json()], "order", None, 27, True, 1.5],
    ids=["list", "list-of-order", "string", "null", "int", "bool", "float"],
)
def test_non_object_order(data: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        load_order(data)
    assert excinfo.value.messages == {"_schema": ["An order must be a JSON object."]}
    with pytest.raises(OrderDataError, match="JSON object"):
        parse_order(data)


def test_missing_price_total_message() -> None:
    with pytest.raises(OrderDataError) as excinfo:
        parse_order(without(BASE, "price.total"))
    assert str(excinfo.value) == "invalid order: price.total: Missing data for required field."


def test_json_roundtrip_of_factory_order() -> None:
    data = order_json(line("article", "10.00", 9), line("shipping", "4.95", 21))
    assert load_order(json.loads(json.dumps(data))) == load_order(data)


# --- order summaries (reconciler listing) -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"number": 27, "uuid": "u", "status": 2}, ("27", "u", 2, None)),
        ({"number": "T-5", "status": "3", "surprise": 1}, ("T-5", "", 3, None)),
        (
            {
                "number": "9",
                "status": 6,
                "status_changed_date": "2025-01-02",
                "status_changed_time": "03:04:05",
            },
            ("9", "", 6, dt.datetime(2025, 1, 2, 3, 4, 5)),
        ),
    ],
)
def test_order_summary(data: dict[str, Any], expected: tuple[Any, ...]) -> None:
    summary = parse_order_summary(data)
    assert (summary.number, summary.uuid, summary.status, summary.status_changed_at) == expected


@pytest.mark.parametrize("data", [{"status": 2}, {"number": 1}, [], {"number": True, "status": 2}])
def test_order_summary_invalid(data: Any) -> None:
    with pytest.raises(OrderDataError):
        parse_order_summary(data)


@pytest.mark.parametrize(
    ("number", "is_test"), [("T-1", True), ("t-1", True), ("1", False), ("1T-", False)]
)
def test_is_test_marker(number: str, is_test: bool) -> None:
    assert load_order(order_json(number=number)).is_test is is_test
    assert parse_order_summary({"number": number, "status": 2}).is_test is is_test


@pytest.mark.parametrize(
    ("path", "attribute"),
    [
        ("debtor.address.invoice.company", lambda o: o.debtor.invoice.company),
        ("debtor.address.invoice.phone", lambda o: o.debtor.invoice.phone),
        ("debtor.address.invoice.taxnumber", lambda o: o.debtor.invoice.taxnumber),
        ("debtor.email", lambda o: o.debtor.email),
        ("orderlines.0.description", lambda o: o.lines[0].description),
        ("tax_strategy", lambda o: o.tax_strategy),
        ("reference", lambda o: o.reference),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_null_text_fields_read_as_empty(path: str, attribute: Any) -> None:
    assert attribute(load_order(with_value(order_json(), path, None))) == ""
