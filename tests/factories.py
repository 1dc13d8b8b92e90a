"""Plain builders for tests: Mijnwebwinkel order JSON, parsed orders and mapping settings,
and the checks the mapping tests share (``fmt``, ``booked``, ``rows``).

No factory_boy. ``order_json`` gives a valid spec-shaped order dict (the shape the vendor's
OpenAPI types describe: amounts as strings, ``price.tax`` as a list); the helpers below
turn it into the live shapes (JSON numbers, single objects) where a test needs them.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from app.core.mapping import Booking, Skip, map_order
from app.core.mapping_settings import (
    BETAALKOSTEN,
    BTW_CODE_RATES,
    KORTING,
    OMZET,
    OSS_VAT,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
    oss_key,
)
from app.core.mutations import MutationRow
from app.core.order_schema import parse_order
from app.core.orders import Order

PAYLOADS = Path(__file__).parent / "payloads"
CENT = Decimal("0.01")
AMOUNT_KEYS = frozenset({"amount", "amount_including_tax", "rate", "total"})

Amount = str | int | Decimal


def payload(name: str) -> dict[str, Any]:
    """A captured payload by name, e.g. ``payload("mijnwebwinkel/order.spec-example.json")``."""
    return json.loads((PAYLOADS / name).read_text())


def d(value: Amount) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def vat_of(incl: Amount, rate: Amount) -> Decimal:
    """The documented rule: incl × rate / (100 + rate), half-up to the cent."""
    incl, rate = d(incl), d(rate)
    return (incl * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def tax_price(incl: Amount | None, rate: Amount = "21", amount: Amount | None = None) -> dict:
    """One ``TaxPrice``; ``amount`` (excl.) defaults to the 6-decimal exact excl. amount."""
    price: dict[str, Any] = {"rate": f"{d(rate):.2f}"}
    if incl is not None:
        price["amount_including_tax"] = str(d(incl))
        if amount is None:
            amount = (d(incl) * 100 / (100 + d(rate))).quantize(Decimal("0.000001"))
    if amount is not None:
        price["amount"] = str(d(amount))
    return price


def line(
    type: str = "article",
    incl: Amount | None = "12.10",
    rate: Amount = "21",
    *,
    quantity: int = 1,
    description: str | None = None,
    id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An order line with one VAT rate: ``price`` is a single ``TaxPrice`` object."""
    return {
        "id": id or f"line-{type}-{incl}-{rate}",
        "type": type,
        "quantity": quantity,
        "description": description if description is not None else f"{type} {incl}",
        "price": tax_price(incl, rate),
        **extra,
    }


def split_line(type: str, *parts: tuple[Amount, Amount], **extra: Any) -> dict[str, Any]:
    """A line split over VAT rates (payment and discount lines): ``price`` is a list.

    ``split_line("discount", ("-10.00", 21), ("-5.00", 9))``.
    """
    built = line(type, None, **extra)
    built["price"] = [tax_price(incl, rate) for incl, rate in parts]
    built["id"] = extra.get("id") or f"line-{type}-" + "-".join(str(p[0]) for p in parts)
    return built


def invoice_address(**overrides: Any) -> dict[str, Any]:
    address = {
        "gender": "V",
        "name": "Truus Voorbeeldig",
        "company": "",
        "street": "Molenstraat",
        "number": "62",
        "zipcode": "5341GE",
        "city": "Oss",
        "country": "Nederland",
        "country_code": "NL",
        "phone": "06-12345678",
        "taxnumber": "",
    }
    address.update(overrides)
    return address


def debtor(email: str = "klant@example.com", **invoice: Any) -> dict[str, Any]:
    """A spec-shaped ``debtor`` with ``address.invoice``; keyword args override its fields."""
    return {"email": email, "address": {"invoice": invoice_address(**invoice)}}


def _prices(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prices: list[dict[str, Any]] = []
    for item in lines:
        price = item.get("price")
        prices.extend(price if isinstance(price, list) else [price] if price else [])
    return prices


def lines_total(lines: list[dict[str, Any]]) -> Decimal:
    return sum(
        (d(p["amount_including_tax"]) for p in _prices(lines) if "amount_including_tax" in p),
        Decimal("0"),
    )


def _tax_summary(lines: list[dict[str, Any]]) -> list[dict[str, str]]:
    per_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for price in _prices(lines):
        if "amount_including_tax" in price:
            per_rate[d(price["rate"])] += d(price["amount_including_tax"])
    return [
        {"rate": f"{rate:.2f}", "amount": str(vat_of(incl, rate))}
        for rate, incl in per_rate.items()
    ]


def order_json(*lines: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A valid spec-shaped order. ``price`` (total and tax summary) follows the lines
    unless ``total=`` or ``price=`` is given; other keywords replace top-level fields."""
    lines_list = [copy.deepcopy(item) for item in lines] or [line()]
    total = overrides.pop("total", None)
    data: dict[str, Any] = {
        "number": 1001,
        "uuid": "0b8f3c9e-6f1f-4f55-9d7e-0a2b3c4d5e6f",
        "date": "2025-03-14",
        "time": "10:15:00",
        "status": 3,
        "archived": False,
        "taxed": "include",
        "locale": "nl_NL",
        "business_model": "B2C",
        "currency": "EUR",
        "tax_strategy": "",
        "tax_region": "NL",
        "credited_order_number": None,
        "credit_order_numbers": [],
        "debtor": debtor(),
        "price": {
            "tax": _tax_summary(lines_list),
            "total": str(d(total) if total is not None else lines_total(lines_list)),
        },
        "orderlines": lines_list,
        "shipping": [{"country": {"description": "Nederland", "isocode": "NL"}}],
    }
    data.update(overrides)
    return data


def order(*lines: dict[str, Any], **overrides: Any) -> Order:
    """``order_json`` parsed into an ``Order``."""
    return parse_order(order_json(*lines, **overrides))


def without(data: dict[str, Any], *paths: str) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted paths removed (``"orderlines.0.price"``)."""
    data = copy.deepcopy(data)
    for path in paths:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[int(last) if isinstance(node, list) else last]
    return data


def with_value(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted path set to ``value``."""
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return data


def map_amounts(data: Any, convert: Any) -> Any:
    """``data`` with every amount (rate, amount, amount_including_tax, total) converted."""
    if isinstance(data, list):
        return [map_amounts(item, convert) for item in data]
    if isinstance(data, dict):
        return {
            key: convert(value)
            if key in AMOUNT_KEYS
            and isinstance(value, str | int | float | Decimal)
            and not isinstance(value, bool)
            else map_amounts(value, convert)
            for key, value in data.items()
        }
    return data


def as_numbers(data: Any) -> Any:
    """Amounts as JSON numbers (the spec examples' shape)."""
    return map_amounts(data, lambda v: float(d(v)))


def as_strings(data: Any) -> Any:
    """Amounts as strings (the live shape)."""
    return map_amounts(data, lambda v: str(d(v) if not isinstance(v, float) else Decimal(repr(v))))


def rule(
    treatment: str,
    btw_code: str,
    omzet: str = "8000",
    verzendkosten: str | None = None,
    betaalkosten: str | None = None,
    korting: str | None = None,
) -> TaxRule:
    """A mapping-table row; unspecified income types use the omzet ledger."""
    return TaxRule(
        treatment,
        btw_code,
        {
            OMZET: omzet,
            VERZENDKOSTEN: verzendkosten if verzendkosten is not None else omzet,
            BETAALKOSTEN: betaalkosten if betaalkosten is not None else omzet,
            KORTING: korting if korting is not None else omzet,
        },
    )


def settings(*rules: TaxRule, **overrides: Any) -> MappingSettings:
    """The defaults (the incumbent's screen), with ``rules`` added or replacing rows of
    the same treatment, and any field replaced by keyword."""
    result = MappingSettings()
    for extra in rules:
        result = result.with_rule(extra)
    for key in ("bookable_statuses", "credit_statuses"):
        if key in overrides:
            overrides[key] = frozenset(overrides[key])
    return replace(result, **overrides)


def without_rule(base: MappingSettings, treatment: str) -> MappingSettings:
    return replace(base, rules=tuple(r for r in base.rules if r.treatment != treatment))


# --- checking bookings (shared by the tests/core/test_mapping_*.py modules) ---------------

D = Decimal
SPEC = "mijnwebwinkel/order.spec-example.json"
LIVE = "mijnwebwinkel/order.live-shape.sdk-test.json"
DEFAULT = MappingSettings()
PSP = "1100"
DROP = object()

# (id, lines, order overrides, settings, expected invoice rows in first-seen order)
RowCase = tuple[str, list[dict[str, Any]], dict[str, Any], MappingSettings, list[str]]


def fmt(row: MutationRow) -> str:
    """``"HOOG_VERK_21 8010 12.10 10.00 2.10"`` after checking the row is cent-exact."""
    for amount in (row.amount_incl, row.amount_excl, row.amount_vat):
        assert amount == amount.quantize(CENT), row
        assert amount or not amount.is_signed(), row  # no -0.00 on the wire
    assert row.amount_excl + row.amount_vat == row.amount_incl, row
    amounts = f"{row.amount_incl:.2f} {row.amount_excl:.2f} {row.amount_vat:.2f}"
    return f"{row.btw_code} {row.ledger} {amounts}"


def booked(result: Booking | Skip) -> Booking:
    assert isinstance(result, Booking), result
    invoice = result.mutations[0]
    assert sum((r.amount_incl for r in invoice.rows), D(0)) == result.total
    for row in invoice.rows:
        fmt(row)
        expected_rate = BTW_CODE_RATES.get(row.btw_code)
        if expected_rate is not None:
            assert row.btw_percentage == expected_rate
    return result


def rows(result: Booking | Skip) -> list[str]:
    return [fmt(r) for r in booked(result).mutations[0].rows]


def row_cases(cases: list[RowCase]) -> list[Any]:
    """``pytest.param`` per case, for ``check_order_rows``."""
    return [pytest.param(ls, ov, s, ex, id=i) for i, ls, ov, s, ex in cases]


def check_order_rows(
    lines: list[dict[str, Any]],
    overrides: dict[str, Any],
    mapping: MappingSettings,
    expected: list[str],
) -> None:
    parsed = order(*lines, **overrides)
    result = booked(map_order(parsed, mapping))
    assert rows(result) == expected
    assert result.kind == "order"
    assert result.total == parsed.total > 0
    assert len(result.mutations) == 1


def oss(
    country: str,
    rate: int | str,
    code: str = "AFST_VERK",
    ledger: str = "8020",
    vat_ledger: str = "1620",
) -> TaxRule:
    """An OSS row as the settings page documents it: net revenue at 0% (AFST_VERK,
    rubriek 3c) on ``ledger``, the destination country's VAT on the balance-sheet ledger
    ``vat_ledger`` (both the country's own)."""
    found = rule(oss_key(country, D(rate)), code, ledger)
    return TaxRule(found.treatment, found.btw_code, {**found.ledgers, OSS_VAT: vat_ledger})


def fixture_order(name: str, **changes: Any) -> Order:
    """A captured order with top-level fields changed (``DROP`` removes one)."""
    data = payload(name)
    data.update(changes)
    return parse_order({k: v for k, v in data.items() if v is not DROP})


KORTING_8900 = settings(
    rule("rate:21", "HOOG_VERK_21", "8010", "8000", "8000", korting="8900"),
    rule("rate:9", "LAAG_VERK_9", "8000", korting="8900"),
)
OWN_LEDGERS = settings(rule("rate:21", "HOOG_VERK_21", "8010", "8050", "8060", "8070"))
INCUMBENT = settings(
    rule("rate:0", "VERL_VERK", "8000"),
    rule("rate:9", "LAAG_VERK", "8000"),
    rule("rate:21", "HOOG_VERK_21", "8010", "8000", "8000"),
)
OSS_DE = settings(oss("DE", 19), oss("DE", 7))
OSS_FR = settings(oss("FR", 20, ledger="8033", vat_ledger="1633"))
DEVIATING_20 = settings(rule("rate:20", "AFW_VERK", "8000"))  # a deviating rate, for rounding


def b2b_eu(country: str = "BE", taxnumber: str = "BE0123456789") -> dict[str, Any]:
    """Order fields of an intra-EU B2B sale with reverse-charged VAT."""
    return {
        "tax_strategy": "reverse_charged_vat",
        "tax_region": country,
        "business_model": "B2B",
        "debtor": debtor(company="Klant BV", taxnumber=taxnumber, country_code=country),
        "shipping": [{"country": {"isocode": country}}],
    }


def oss_to(country: str = "DE", city: str = "Köln", zipcode: str = "50667") -> dict[str, Any]:
    """Order fields of a sale to a consumer in another member state at its VAT (OSS): the
    tax region, the shipping country and the customer's address all name ``country``."""
    return {
        "tax_region": country,
        "shipping": [{"country": {"isocode": country}}],
        "debtor": debtor(country_code=country, city=city, zipcode=zipcode),
    }


def export_to(country: str = "US") -> dict[str, Any]:
    """Order fields of a sale across the EU border (0%, export)."""
    return {
        "tax_strategy": "zero_percent",
        "tax_region": country,
        "shipping": [{"country": {"isocode": country}}],
    }


def vat_per_rate(result: Booking | Skip) -> dict[Decimal, Decimal]:
    """The booked VAT per rate (as the invoice states it), over the sales mutation's rows."""
    per_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for row in booked(result).mutations[0].rows:
        per_rate[row.btw_percentage.normalize()] += row.amount_vat
    return dict(per_rate)
