"""Property tests: map_order's cent-exact invariants on random orders, and parsing that
does not care whether amounts arrive as JSON strings or JSON numbers."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.core.mapping import Booking, map_order
from app.core.mapping_settings import (
    BOOKING_MODES,
    BTW_CODE_RATES,
    DEFAULT_RULES,
    EXPORT,
    INCOME_TYPES,
    MODE_CASH,
    OMZET,
    REVERSE_CHARGE,
    MappingSettings,
    TaxRule,
)
from app.core.mutations import CENT, Soort
from app.core.order_schema import parse_order
from tests.factories import as_numbers, as_strings, debtor, order_json

RATES = (0, 9, 21)
LINE_TYPES = ("article", "custom", "shipping", "payment", "discount", "gift_wrap")
INCOME_BY_TYPE = {"shipping": "verzendkosten", "payment": "betaalkosten", "discount": "korting"}
LEDGERS = ("8000", "8010", "8020", "8900")
STRATEGIES = {"": None, "reverse_charged_vat": REVERSE_CHARGE, "zero_percent": EXPORT}
PSP = "1100"


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def mapping_settings(draw: st.DrawFn) -> MappingSettings:
    """The default codes with random ledgers per income type and a random booking mode."""
    rules = tuple(
        TaxRule(r.treatment, r.btw_code,
                {income: draw(st.sampled_from(LEDGERS)) for income in INCOME_TYPES})
        for r in DEFAULT_RULES
    )
    return MappingSettings(rules=rules, booking_mode=draw(st.sampled_from(BOOKING_MODES)),
                           payment_ledger=PSP)


@st.composite
def random_orders(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A consistent order (Σ lines == price.total) and whether it is a credit note."""
    strategy = draw(st.sampled_from(sorted(STRATEGIES)))
    rates = RATES if strategy == "" else (0,)
    lines: list[dict[str, Any]] = []
    for position in range(draw(st.integers(1, 8))):
        line_type = draw(st.sampled_from(LINE_TYPES))
        amounts = cents(-50_000, -1) if line_type == "discount" else cents(0, 100_000)
        parts = draw(st.lists(st.tuples(st.sampled_from(rates), amounts), min_size=1, max_size=3))
        prices = [{"rate": str(rate), "amount_including_tax": incl} for rate, incl in parts]
        as_list = len(prices) > 1 or draw(st.booleans())
        lines.append({"id": f"line-{position}", "type": line_type, "quantity": 1,
                      "description": line_type, "price": prices if as_list else prices[0]})
    total = sum((p["amount_including_tax"] for p in _prices(lines)), Decimal(0))
    if total <= 0:  # shops do not sell below zero: top the order up with an article
        top_up = -total + draw(cents(1, 10_000))
        lines.append({"id": "top-up", "type": "article", "quantity": 1, "description": "top-up",
                      "price": {"rate": str(draw(st.sampled_from(rates))),
                                "amount_including_tax": top_up}})
        total += top_up

    credit = draw(st.sampled_from(["no", "status", "credited", "both"]))
    if credit != "no" and draw(st.booleans()):  # credit amounts may arrive negative
        for price in _prices(lines):
            price["amount_including_tax"] = -price["amount_including_tax"]
        total = -total
    status = 10 if credit in ("status", "both") else draw(st.sampled_from([2, 3, 6]))
    credited = draw(st.integers(1, 99_999)) if credit in ("credited", "both") else None

    data = order_json(
        number=draw(st.one_of(st.integers(1, 10**9), st.integers(1, 10**9).map(str))),
        status=status,
        credited_order_number=credited,
        tax_strategy=strategy,
        tax_region=draw(st.sampled_from(["", "NL"])) if strategy == "" else "BE",
        debtor=debtor(draw(st.sampled_from(["a@example.com", "B@Example.com ", "c@example.nl"]))),
        total=total,
    )
    data["orderlines"] = lines
    data["price"]["total"] = total
    data = as_numbers(data) if draw(st.booleans()) else as_strings(data)
    return data, credit != "no"


def _prices(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for item in lines
            for p in (item["price"] if isinstance(item["price"], list) else [item["price"]])]


def expected_rows(data: dict[str, Any], mapping: MappingSettings) -> dict[tuple[str, str], Decimal]:
    """An independent model of the aggregation: Σ incl per (BTW code, ledger)."""
    treatment = STRATEGIES[data["tax_strategy"]]
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in data["orderlines"]:
        for price in item["price"] if isinstance(item["price"], list) else [item["price"]]:
            rate = Decimal(str(price["rate"])).normalize()
            tax_rule = mapping.rule(treatment or f"rate:{rate:f}")
            assert tax_rule is not None
            ledger = tax_rule.ledgers[INCOME_BY_TYPE.get(item["type"], OMZET)]
            sums[(tax_rule.btw_code, ledger)] += Decimal(str(price["amount_including_tax"]))
    return {key: incl for key, incl in sums.items() if incl}


def is_cent(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


@hypothesis_settings(max_examples=300, deadline=None)
@given(random_orders(), mapping_settings())
def test_every_booking_is_cent_exact(generated: tuple[dict[str, Any], bool],
                                     mapping: MappingSettings) -> None:
    data, credit = generated
    order = parse_order(data)
    result = map_order(order, mapping)
    assert isinstance(result, Booking)

    # deterministic, also for the same order parsed again
    assert map_order(order, mapping) == result
    assert map_order(parse_order(json.loads(json.dumps(data))), mapping) == result

    total = -abs(order.total) if credit else order.total
    assert result.total == total
    assert result.kind == ("credit" if credit else "order")
    if credit:
        assert result.total < 0
    assert is_cent(result.total)

    sales = result.mutations[0]
    rows = sales.rows
    assert sum((r.amount_incl for r in rows), Decimal(0)) == total
    keys = [(r.btw_code, r.ledger) for r in rows]
    assert len(keys) == len(set(keys))

    sign = -1 if credit and order.total > 0 else 1
    assert {k: sign * v for k, v in expected_rows(data, mapping).items()} == {
        (r.btw_code, r.ledger): r.amount_incl for r in rows
    }

    for row in rows:
        assert row.amount_incl != 0
        for amount in (row.amount_incl, row.amount_excl, row.amount_vat):
            assert is_cent(amount)
            assert amount or not amount.is_signed()
        assert row.amount_excl + row.amount_vat == row.amount_incl
        assert abs(row.amount_vat) <= abs(row.amount_incl)
        assert row.amount_vat == 0 or (row.amount_vat > 0) == (row.amount_incl > 0)
        rate = row.btw_percentage
        assert BTW_CODE_RATES[row.btw_code] == rate
        assert row.amount_vat == (row.amount_incl * rate / (100 + rate)).quantize(
            CENT, rounding=ROUND_HALF_UP)

    for mutation in result.mutations:
        assert mutation.invoice_number == order.number
        assert mutation.relation_code == result.relation.code
        assert mutation.total == total
        assert mutation.in_ex_btw == "IN"
    assert len(result.relation.code) <= 15
    soorts = [m.soort for m in result.mutations]
    if mapping.booking_mode == MODE_CASH:
        assert soorts == [Soort.GELD_ONTVANGEN]
        assert sales.ledger == PSP
    else:  # invoice_and_payment: the payment follows when the money arrives
        assert soorts == [Soort.FACTUUR_VERSTUURD]
        assert sales.ledger == mapping.debtors_ledger


# --- parsing: strings vs numbers --------------------------------------------------------------

amounts_6 = st.integers(-10**11, 10**11).map(lambda n: Decimal(n).scaleb(-6))
amounts_2 = st.integers(-10**7, 10**7).map(lambda n: Decimal(n).scaleb(-2))
rates = st.sampled_from([Decimal("0"), Decimal("9"), Decimal("21"), Decimal("21.00"),
                         Decimal("5.5"), Decimal("19.000000")])


@st.composite
def tax_prices(draw: st.DrawFn) -> dict[str, Any]:
    price: dict[str, Any] = {"rate": draw(rates)}
    if draw(st.booleans()):
        price["amount"] = draw(amounts_6)
    if draw(st.booleans()):
        price["amount_including_tax"] = draw(amounts_2)
    return price


@st.composite
def raw_orders(draw: st.DrawFn) -> dict[str, Any]:
    lines = []
    for position in range(draw(st.integers(0, 5))):
        prices = draw(st.lists(tax_prices(), min_size=1, max_size=3))
        lines.append({"id": str(position), "type": draw(st.sampled_from(LINE_TYPES)),
                      "quantity": draw(st.integers(1, 50)),
                      "price": prices if len(prices) > 1 or draw(st.booleans()) else prices[0]})
    tax = draw(st.lists(tax_prices(), max_size=3))
    data = order_json(number=draw(st.integers(1, 10**9)), total=draw(amounts_2))
    data["orderlines"] = lines
    data["price"]["tax"] = tax if len(tax) != 1 or draw(st.booleans()) else tax[0]
    return data


@hypothesis_settings(max_examples=200, deadline=None)
@given(raw_orders())
def test_amounts_as_strings_or_numbers_parse_to_the_same_order(data: dict[str, Any]) -> None:
    as_text = json.loads(json.dumps(as_strings(data)))
    as_json_numbers = json.loads(json.dumps(as_numbers(data)))
    with_string_number = {**as_json_numbers, "number": str(as_json_numbers["number"])}
    parsed = parse_order(as_text)
    assert parse_order(as_json_numbers) == parsed
    assert parse_order(with_string_number) == parsed
    assert parsed.total == Decimal(data["price"]["total"])
    for parsed_line, raw_line in zip(parsed.lines, data["orderlines"], strict=True):
        raw = raw_line["price"] if isinstance(raw_line["price"], list) else [raw_line["price"]]
        for price, raw_price in zip(parsed_line.prices, raw, strict=True):
            assert price.rate == raw_price["rate"]
            assert price.amount == raw_price.get("amount")
            assert price.amount_including_tax == raw_price.get("amount_including_tax")
            for amount in (price.rate, price.amount, price.amount_including_tax):
                assert amount is None or isinstance(amount, Decimal)
