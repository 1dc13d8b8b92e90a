"""The destination rule (issue 24): every treatment against every combination of tax
region × shipping country × delivery address, the live shape among them; the orders the
issue found booked; and the special territories.

docs/booking-rules.md, "Waar de goederen heen gaan", is the rule in words; ``verdict``
below is the same rule written out again, independently of app/core/checks.py, as the
table's expectation."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from app.core.destination import destination, place, vat_facts
from app.core.mapping import Booking, map_order
from app.core.mapping_settings import MappingSettings
from app.core.order_schema import parse_order
from app.errors import MappingError
from tests.factories import (
    DEFAULT,
    LIVE,
    debtor,
    line,
    order_json,
    oss,
    payload,
    rows,
    settings,
)

EU = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}  # fmt: skip
# name → (debtor.address.delivery, its country for the rule, inside the EU VAT area)
DELIVERIES: dict[str, tuple[dict[str, str] | None, str | None, bool]] = {
    "geen-afleveradres": (None, None, False),
    "Venlo": ({"country_code": "NL", "city": "Venlo", "zipcode": "5911 AB"}, "NL", True),
    "Venlo-zonder-land": ({"country_code": "", "city": "Venlo", "zipcode": "5911AB"}, "NL", True),
    "Köln": ({"country_code": "DE", "city": "Köln", "zipcode": "50667"}, "DE", True),
    "Paris": ({"country_code": "FR", "city": "Paris", "zipcode": "75002"}, "FR", True),
    "Zürich": ({"country_code": "CH", "city": "Zürich", "zipcode": "8002"}, "CH", False),
    "Las-Palmas": ({"country_code": "ES", "city": "Las Palmas", "zipcode": "35001"}, "ES", False),
}
# name → the order's ``shipping`` (None: the key is absent)
SHIPPINGS: dict[str, Any] = {
    "geen-verzendland": None,
    "live-country-leeg": [{"country": []}],
    **{f"verzendland-{c}": [{"country": {"isocode": c}}] for c in ("NL", "DE", "FR", "CH", "ES")},
}
REGIONS = ("", "NL", "DE", "FR", "CH", "ES")
STRATEGIES = ("", "reverse_charged_vat", "zero_percent")
OSS_RATES = {"DE": "19", "FR": "20", "ES": "21"}
WITH_OSS = settings(
    oss("DE", 19, ledger="8031", vat_ledger="1631"),
    oss("FR", 20, ledger="8032", vat_ledger="1632"),
    oss("ES", 21, ledger="8033", vat_ledger="1633"),
)
CODES = {"": "HOOG_VERK_21", "reverse_charged_vat": "BI_EU_VERK", "zero_percent": "BU_EU_VERK"}


def build(strategy: str, region: str, shipping: str, delivery: str) -> dict[str, Any]:
    oss_sale = strategy == "" and region in OSS_RATES
    rate = 0 if strategy else OSS_RATES[region] if oss_sale else 21
    data = order_json(line("article", "121.00", rate), tax_strategy=strategy, tax_region=region)
    data["debtor"] = debtor(
        company="Holzwerk GmbH" if strategy == "reverse_charged_vat" else "",
        taxnumber="DE123456789" if strategy == "reverse_charged_vat" else "",
        country_code="DE",
    )
    address = DELIVERIES[delivery][0]
    if address is not None:
        data["debtor"]["address"]["delivery"] = {"name": "Ontvanger", **address}
    if SHIPPINGS[shipping] is None:
        del data["shipping"]
    else:
        data["shipping"] = copy.deepcopy(SHIPPINGS[shipping])
    return data


def verdict(strategy: str, region: str, shipping: str, delivery: str, uses_oss: bool) -> bool:
    """Whether the rule books this combination (the docs' table, written out)."""
    _, d_country, d_in_eu = DELIVERIES[delivery]
    s_country = shipping.removeprefix("verzendland-") if shipping.startswith("verzend") else None
    dutch_vat = strategy == "" and region not in EU - {"NL"}
    if strategy == "" and not dutch_vat and not uses_oss:
        return False  # an OSS sale, and no OSS rows: nothing is guessed
    if dutch_vat and not uses_oss:
        return True  # under the threshold the destination does not change the VAT
    if d_country and s_country and d_country != s_country:
        return False  # the transport fields contradict each other
    transport = d_country or s_country
    t_in_eu = d_in_eu if d_country else (s_country in EU)
    if strategy == "zero_percent":  # export: nothing inside the EU VAT area, one country
        if not (transport or region):
            return False
        if transport and t_in_eu:
            return False
        if region and transport and region != transport:
            return False
        return not (region in EU and (transport is None or t_in_eu))
    if strategy == "reverse_charged_vat":  # ICP: another member state, one country
        if region and transport and region != transport:
            return False
        country, in_eu = (transport, t_in_eu) if transport else (region, region in EU)
        return bool(country) and in_eu and country != "NL"
    if region in EU and region != "NL":  # OSS: the goods go to the region's country
        return transport is None or (transport == region and t_in_eu)
    # Dutch VAT while the shop uses OSS: not to a consumer in another member state
    return not (transport and t_in_eu and transport != "NL")


CASES = [
    pytest.param(s, r, sh, d, uses, id=f"{s or 'btw'}|regio-{r or 'geen'}|{sh}|{d}|{uses}")
    for s, r, sh, d in itertools.product(STRATEGIES, REGIONS, SHIPPINGS, DELIVERIES)
    for uses in ((False, True) if s == "" else (True,))
]


@pytest.mark.parametrize(("strategy", "region", "shipping", "delivery", "uses_oss"), CASES)
def test_every_treatment_against_every_destination(
    strategy: str, region: str, shipping: str, delivery: str, uses_oss: bool
) -> None:
    data = build(strategy, region, shipping, delivery)
    mapping = WITH_OSS if uses_oss else DEFAULT
    expected = verdict(strategy, region, shipping, delivery, uses_oss)
    if not expected:
        with pytest.raises(MappingError) as refused:
            map_order(parse_order(data), mapping)
        reason = str(refused.value)
        named = ("afleveradres", "verzendland", "belastingregio", "Voeg bij Instellingen een regel")
        assert any(f in reason for f in named)
        return
    result = map_order(parse_order(data), mapping)
    assert isinstance(result, Booking)
    oss_sale = strategy == "" and region in OSS_RATES
    code = "AFST_VERK" if oss_sale else CODES[strategy]
    assert rows(result)[0].split()[0] == code


# --- the orders the issue found booked, now refused with the fields named -----------------

ISSUE_CASES: list[tuple[str, str, str, str, str, list[str]]] = [
    (
        "icp-met-belastingregio-NL",
        "reverse_charged_vat",
        "NL",
        "verzendland-DE",
        "Köln",
        ["belastingregio NL", "afleveradres DE", "verschillende landen"],
    ),
    (
        "icp-met-verzendland-NL",
        "reverse_charged_vat",
        "",
        "verzendland-NL",
        "geen-afleveradres",
        ["verzendland NL", "Nederlandse btw"],
    ),
    (
        "export-zwitserse-klant-pakket-naar-duitsland",
        "zero_percent",
        "CH",
        "geen-verzendland",
        "Köln",
        ["afleveradres DE", "binnen de EU"],
    ),
    (
        "icp-met-belastingregio-US-en-duits-btw-nummer",
        "reverse_charged_vat",
        "US",
        "verzendland-DE",
        "geen-afleveradres",
        ["belastingregio US", "verzendland DE"],
    ),
    (
        "oss-DE-naar-frankrijk",
        "",
        "DE",
        "verzendland-FR",
        "geen-afleveradres",
        ["verzendland FR", "btw van FR", "niet die van DE"],
    ),
]


@pytest.mark.parametrize(
    ("strategy", "region", "shipping", "delivery", "fragments"),
    [pytest.param(s, r, sh, d, f, id=i) for i, s, r, sh, d, f in ISSUE_CASES],
)
def test_the_issues_orders_are_refused(
    strategy: str, region: str, shipping: str, delivery: str, fragments: list[str]
) -> None:
    with pytest.raises(MappingError) as refused:
        map_order(parse_order(build(strategy, region, shipping, delivery)), WITH_OSS)
    for fragment in fragments:
        assert fragment in str(refused.value)


def test_german_oss_vat_on_goods_delivered_in_zandvoort() -> None:
    data = build("", "DE", "geen-verzendland", "geen-afleveradres")
    data["debtor"]["address"]["delivery"] = {
        "name": "X",
        "country_code": "NL",
        "city": "Zandvoort",
        "zipcode": "2042 JA",
    }
    with pytest.raises(MappingError) as refused:
        map_order(parse_order(data), WITH_OSS)
    message = str(refused.value)
    assert "afleveradres NL" in message and "dus is Nederlandse btw verschuldigd" in message


def test_reverse_charge_in_the_live_shape_delivered_in_venlo() -> None:
    """The live shape: ``"country": []``, no tax region; the delivery address is the only
    destination, and it is in the Netherlands."""
    data = payload(LIVE)
    data.update(
        tax_strategy="reverse_charged_vat",
        business_model="B2B",
        credited_order_number=None,
        debtor={
            "email": "inkoop@holzwerk.example.de",
            "address": {
                "invoice": {"company": "Holzwerk GmbH", "taxnumber": "DE123456789"},
                "delivery": {"name": "Magazijn", "city": "Venlo", "zipcode": "5928 PH"},
            },
        },
    )
    data["orderlines"][0]["price"].update(rate="0.00", amount="68.00")
    data["price"]["tax"] = {"amount": "0.00", "rate": "0.00"}
    with pytest.raises(MappingError) as refused:
        map_order(parse_order(data), DEFAULT)
    assert "afleveradres NL (postcode 5928 PH)" in str(refused.value)
    assert "Nederlandse btw" in str(refused.value)


# --- special territories and what the report reads -----------------------------------------


@pytest.mark.parametrize(
    ("country", "postcode", "zone", "territory"),
    [
        ("ES", "35001", "", "Canarische Eilanden"),
        ("ES", "38001", "", "Canarische Eilanden"),
        ("ES", "51001", "", "Ceuta"),
        ("ES", "28001", "ES", ""),
        ("FI", "AX-22100", "", "Ålandeilanden"),
        ("FI", "00100", "FI", ""),
        ("FR", "97100", "", "Franse overzeese gebieden"),
        ("FR", "75002", "FR", ""),
        ("MC", "98000", "FR", ""),
        ("DE", "27498", "", "Helgoland"),
        ("DE", "D-78266", "", "Büsingen am Hochrhein"),
        ("IT", "23041", "", "Livigno"),
        ("GR", "63086", "", "berg Athos"),
        ("GB", "BT1 1AA", "XI", "Noord-Ierland"),
        ("GB", "OX1 4AH", "", ""),
        ("CH", "8002", "", ""),
    ],
)
def test_special_territories(country: str, postcode: str, zone: str, territory: str) -> None:
    found = place("afleveradres", country, postcode)
    assert (found.zone, found.territory, found.in_eu) == (zone, territory, bool(zone))


def test_export_to_the_canary_islands() -> None:
    data = build("zero_percent", "ES", "verzendland-ES", "Las-Palmas")
    result = map_order(parse_order(data), DEFAULT)
    assert rows(result) == ["BU_EU_VERK 8000 121.00 121.00 0.00"]


@pytest.mark.parametrize(
    ("strategy", "region", "shipping", "delivery", "facts"),
    [
        ("reverse_charged_vat", "DE", "verzendland-DE", "Köln", ("DE", True, "DE123456789")),
        ("", "FR", "verzendland-FR", "Paris", ("FR", True, "")),
        ("zero_percent", "CH", "verzendland-CH", "Zürich", ("CH", False, "")),
        ("zero_percent", "ES", "verzendland-ES", "Las-Palmas", ("ES", False, "")),
        ("", "", "live-country-leeg", "geen-afleveradres", ("", False, "")),
        ("", "NL", "live-country-leeg", "geen-afleveradres", ("NL", True, "")),
    ],
)
def test_vat_facts_for_the_report(
    strategy: str, region: str, shipping: str, delivery: str, facts: tuple[str, bool, str]
) -> None:
    parsed = parse_order(build(strategy, region, shipping, delivery))
    found = vat_facts(parsed)
    assert (found.destination, found.in_eu, found.buyer_vat_number) == facts
    result = map_order(parsed, WITH_OSS)
    assert isinstance(result, Booking) and result.vat == found


def test_delivery_address_wins_for_the_detail() -> None:
    where = destination(parse_order(build("", "", "verzendland-ES", "Las-Palmas")))
    assert where.place is not None and where.place.territory == "Canarische Eilanden"
    assert where.conflict == ""


def test_services_have_no_transport() -> None:
    """A digital service to a business abroad: the shop's default shipping country does not
    make it a Dutch sale; the tax region must still be another member state."""
    data = build("reverse_charged_vat", "DE", "verzendland-NL", "geen-afleveradres")
    data["orderlines"] = [line("digital", "121.00", 0)]
    result = map_order(parse_order(data), MappingSettings())
    assert rows(result) == ["BI_EU_VERK_D 8000 121.00 121.00 0.00"]
    data["tax_region"] = "NL"
    with pytest.raises(MappingError, match="belastingregio NL"):
        map_order(parse_order(data), MappingSettings())


def test_monaco_is_french_vat_territory() -> None:
    data = build("", "FR", "verzendland-FR", "geen-afleveradres")
    data["debtor"]["address"]["delivery"] = {"name": "X", "country_code": "MC", "zipcode": "98000"}
    result = map_order(parse_order(data), WITH_OSS)
    assert [r.split()[0] for r in rows(result)] == ["AFST_VERK", "GEEN"]


def test_goods_to_northern_ireland_are_an_icp_supply_under_an_xi_number() -> None:
    data = build("reverse_charged_vat", "", "geen-verzendland", "geen-afleveradres")
    data["debtor"]["address"]["invoice"]["taxnumber"] = "XI123456789"
    data["debtor"]["address"]["delivery"] = {
        "name": "X",
        "country_code": "GB",
        "zipcode": "BT1 1AA",
    }
    data["shipping"] = [{"country": {"isocode": "GB"}}]
    assert rows(map_order(parse_order(data), DEFAULT)) == ["BI_EU_VERK 8000 121.00 121.00 0.00"]
    data["orderlines"] = [line("digital", "121.00", 0)]  # XI numbers are for goods only
    with pytest.raises(MappingError, match="XI123456789 is Noord-Iers"):
        map_order(parse_order(data), DEFAULT)
