"""The order factory: exact sums, the spec's Order schema, and each kind's VAT treatment."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.order_schema import parse_order
from sandbox.mijnwebwinkel import validate
from sandbox.order_factory import (
    CREDIT_STATUSES,
    KINDS,
    OSS_RATES,
    make_order,
    make_orders,
)
from tests.helpers import examples

EU = {
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
}
ORDER_SCHEMA = {"$ref": "#/components/schemas/Order"}


def slices(order: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for line in order["orderlines"]:
        price = line["price"]
        out.extend(price if isinstance(price, list) else [price])
    return out


def spec_valid(order: dict[str, Any]) -> None:
    """Validate against the vendor's Order schema. Test orders' ``T-<n>`` numbers cannot
    be expressed in the spec (``number: integer``), so they are checked as the integer."""
    if isinstance(order["number"], str):
        order = copy.deepcopy(order)
        order["number"] = int(order["number"].removeprefix("T-"))
    validate(ORDER_SCHEMA, order)


def check_invariants(order: dict[str, Any]) -> None:
    items = slices(order)
    total = Decimal(order["price"]["total"])
    assert sum((Decimal(i["amount_including_tax"]) for i in items), Decimal(0)) == total
    for item in items:
        assert re.fullmatch(r"-?\d+\.\d{2}", item["amount_including_tax"]), item
        assert re.fullmatch(r"-?\d+\.\d{6}", item["amount"]), item
        rate = Decimal(item["rate"])
        incl, excl = Decimal(item["amount_including_tax"]), Decimal(item["amount"])
        # amount is the incl. amount without VAT, to the micro-cent
        assert abs(excl * (1 + rate / 100) - incl) < Decimal("0.00001")
    vat: dict[Decimal, Decimal] = {}
    for item in items:
        rate = Decimal(item["rate"])
        vat[rate] = (
            vat.get(rate, Decimal(0))
            + Decimal(item["amount_including_tax"])
            - (Decimal(item["amount"]))
        )
    tax = {Decimal(t["rate"]): Decimal(t["amount"]) for t in order["price"]["tax"]}
    assert set(tax) == set(vat)
    for rate, amount in vat.items():
        assert tax[rate] == amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert re.fullmatch(r"-?\d+\.\d{2}", order["price"]["total"])
    spec_valid(order)
    parsed = parse_order(order)
    assert parsed.total == total
    assert (
        sum((p.amount_including_tax for line in parsed.lines for p in line.prices), Decimal(0))
        == total
    )


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_sums_exactly_and_validates(kind: str, seed: int) -> None:
    check_invariants(make_order(2000 + seed, kind=kind, seed=seed))


@settings(max_examples=examples(150))
@given(
    number=st.integers(1, 10**7),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32),
    status=st.sampled_from([1, 2, 3, 4, 5, 6, 10, 11]),
)
def test_invariants_hold_for_any_seed(number: int, kind: str, seed: int, status: int) -> None:
    check_invariants(make_order(number, kind=kind, seed=seed, status=status))


def rates(order: dict[str, Any]) -> set[Decimal]:
    return {Decimal(item["rate"]) for item in slices(order)}


@pytest.mark.parametrize("seed", range(10))
def test_reverse_charge_is_b2b_at_zero_percent_in_the_eu(seed: int) -> None:
    order = make_order(10, kind="reverse_charge", seed=seed)
    invoice = order["debtor"]["address"]["invoice"]
    assert order["tax_strategy"] == "reverse_charged_vat"
    assert order["business_model"] == "B2B"
    assert invoice["company"] and invoice["taxnumber"]
    assert invoice["country_code"] in EU - {"NL"}
    assert rates(order) == {Decimal(0)}


@pytest.mark.parametrize("seed", range(10))
def test_export_is_zero_percent_outside_the_eu(seed: int) -> None:
    order = make_order(10, kind="export", seed=seed)
    assert order["tax_strategy"] == "zero_percent"
    assert order["tax_region"] not in EU
    assert order["shipping"][0]["country"]["isocode"] not in EU
    assert rates(order) == {Decimal(0)}


@pytest.mark.parametrize("seed", range(15))
def test_oss_uses_the_destination_rates(seed: int) -> None:
    order = make_order(10, kind="oss", seed=seed)
    region = order["tax_region"]
    assert region in OSS_RATES
    assert order["tax_strategy"] == "" and order["business_model"] == "B2C"
    assert rates(order) <= {Decimal(0), *OSS_RATES[region].values()}
    assert rates(order) - {Decimal(0)}


@pytest.mark.parametrize("seed", range(10))
def test_credit_order_refunds_with_negative_amounts(seed: int) -> None:
    original = make_order(500, kind="mixed_rates", seed=seed)
    credit = make_order(501, kind="credit", seed=seed, credited=original)
    assert credit["credited_order_number"] == 500
    assert credit["status"] in CREDIT_STATUSES
    assert Decimal(credit["price"]["total"]) == -Decimal(original["price"]["total"])
    for line in credit["orderlines"]:  # a refunded discount counts the other way
        sign = -1 if line["type"] == "discount" else 1
        prices = line["price"] if isinstance(line["price"], list) else [line["price"]]
        assert all(sign * Decimal(p["amount_including_tax"]) <= 0 for p in prices)
    assert all(line["quantity"] > 0 for line in credit["orderlines"])
    assert credit["uuid"] != original["uuid"]
    # without an original, one is made up (numbered one lower)
    assert make_order(77, kind="credit", seed=seed)["credited_order_number"] == 76


def test_test_orders_carry_the_t_marker() -> None:
    order = make_order(42, kind="test")
    assert order["number"] == "T-42"
    assert parse_order(order).is_test


def test_mixed_rates_split_payment_costs_and_discounts_over_the_rates() -> None:
    orders = [make_order(n, kind="mixed_rates", seed=n) for n in range(60)]
    assert all(len(rates(o) - {Decimal(0)}) >= 2 for o in orders)
    lines = [line for order in orders for line in order["orderlines"]]
    discounts = [line for line in lines if line["type"] == "discount"]
    payments = [line for line in lines if line["type"] == "payment"]
    assert discounts and all(isinstance(d["price"], list) for d in discounts)
    assert all(Decimal(p["amount_including_tax"]) < 0 for d in discounts for p in d["price"])
    assert any(isinstance(p["price"], list) and len(p["price"]) > 1 for p in payments)
    assert any(line["type"] == "shipping" for line in lines)


def test_make_orders_is_deterministic_and_realistic() -> None:
    orders = make_orders(200, seed=5)
    assert orders == make_orders(200, seed=5)
    assert orders != make_orders(200, seed=6)
    numbers = [int(str(o["number"]).removeprefix("T-")) for o in orders]
    assert numbers == list(range(1001, 1201))
    assert len({o["uuid"] for o in orders}) == 200
    stamps = [dt.datetime.fromisoformat(f"{o['date']} {o['time']}") for o in orders]
    assert stamps == sorted(stamps)
    for order, stamp in zip(orders, stamps, strict=True):
        changed = f"{order['status_changed_date']} {order['status_changed_time']}"
        assert dt.datetime.fromisoformat(changed) >= stamp
        check_invariants(order)
    kinds = Counter(
        "test"
        if isinstance(o["number"], str)
        else "credit"
        if "credited_order_number" in o
        else o["tax_strategy"] or ("oss" if o["tax_region"] != "NL" else "domestic")
        for o in orders
    )
    assert set(kinds) == {
        "test",
        "credit",
        "reverse_charged_vat",
        "zero_percent",
        "oss",
        "domestic",
    }
    emails = Counter(o["debtor"]["email"] for o in orders)
    assert emails.most_common(1)[0][1] >= 5  # returning customers
    by_number = {o["number"]: o for o in orders}
    for credit in (o for o in orders if "credited_order_number" in o):
        original = by_number[credit["credited_order_number"]]
        assert credit["number"] in original["credit_order_numbers"]
        assert original["number"] < credit["number"]


def test_make_orders_can_restrict_the_kinds() -> None:
    orders = make_orders(30, seed=1, kinds=["export"])
    assert {o["tax_strategy"] for o in orders} == {"zero_percent"}
    with pytest.raises(ValueError, match="unknown order kind"):
        make_orders(1, kinds=["bogus"])
    with pytest.raises(ValueError, match="unknown order kind"):
        make_order(1, kind="bogus")
