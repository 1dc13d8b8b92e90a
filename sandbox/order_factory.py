"""Realistic Mijnwebwinkel orders as JSON dicts in the vendor's SPEC shape, from a seed.

The spec's schemas type every amount and rate as a **string** (``TaxPrice.rate``,
``amount``, ``amount_including_tax``, ``price.total``); its examples use JSON numbers.
We follow the schemas, so every order here validates against ``Order`` in the vendor's
``openapi.json``: rates as ``"21"``/``"5.5"``, ``amount`` (excl. VAT) with 6 decimals,
``amount_including_tax`` and totals with exactly 2. ``number`` is an integer, except for
test orders (``"T-<n>"``, NOTES.md §8), which the spec cannot express.

Invariants, for every kind: the lines' ``amount_including_tax`` (every slice of
array prices included) sum exactly to ``price.total``; ``price.tax`` lists, per rate on
the lines, the VAT (Σ incl − Σ excl, rounded to cents) as ``amount``, like the vendor's
examples (``{"amount": 6.5, "rate": 21}`` is VAT, not a net amount).

Kinds: ``domestic`` (NL B2C, 21 %), ``mixed_rates`` (21/9/0 %, payment costs split over
the rates), ``reverse_charge`` (intra-EU B2B, 0 %), ``export`` (outside the EU, 0 %),
``oss`` (B2C to DE/BE/FR at the destination's rates), ``credit`` (a refund: own number,
``credited_order_number``, a credit status, negative amounts, positive quantities) and
``test`` (a domestic order numbered ``T-<n>``).
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

KINDS = ("domestic", "mixed_rates", "reverse_charge", "export", "oss", "credit", "test")

# Order statuses (the simulator's ORDER_STATUSES says which ids are documented).
STATUS_NEW, STATUS_SHIPPED, STATUS_PAID, STATUS_CANCELLED = 1, 2, 3, 4
STATUS_AWAITING_PAYMENT, STATUS_PICKED_UP = 5, 6
STATUS_CREDITED, STATUS_CREDIT_DONE = 10, 11
CREDIT_STATUSES = frozenset({STATUS_CREDITED, STATUS_CREDIT_DONE})

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
ZERO = Decimal("0")

# (description, unit price incl. Dutch VAT, rate class): NL shops show prices incl. VAT.
CATALOG: tuple[tuple[str, str, str], ...] = (
    ("Geurkaars lavendel", "12.95", "high"),
    ("Theedoek linnen", "8.50", "high"),
    ("Mok steengoed, blauw", "14.95", "high"),
    ("Notitieboek A5 gelinieerd", "9.99", "high"),
    ("Houten snijplank eiken", "34.95", "high"),
    ("Plaid wol, grijs", "59.00", "high"),
    ("Vaas glas, rookkleur", "24.50", "high"),
    ("Sokken merino (2 paar)", "17.95", "high"),
    ("Biologische thee, 100 g", "6.49", "low"),
    ("Koffiebonen espresso, 500 g", "11.95", "low"),
    ("Kookboek 'Seizoenen'", "24.95", "low"),
    ("Chocoladereep puur 72%", "3.25", "low"),
    ("Honing uit de Veluwe, 450 g", "8.75", "low"),
    ("Cadeaubon", "25.00", "zero"),  # a multi-purpose voucher: no VAT on issue
)
HIGH_ITEMS = tuple(item for item in CATALOG if item[2] == "high")

NL_RATES = {"high": Decimal("21"), "low": Decimal("9"), "zero": ZERO}
OSS_RATES = {
    "DE": {"high": Decimal("19"), "low": Decimal("7"), "zero": ZERO},
    "BE": {"high": Decimal("21"), "low": Decimal("6"), "zero": ZERO},
    "FR": {"high": Decimal("20"), "low": Decimal("5.5"), "zero": ZERO},
}
COUNTRY_NAMES = {
    "NL": "Nederland",
    "BE": "België",
    "DE": "Duitsland",
    "FR": "Frankrijk",
    "AT": "Oostenrijk",
    "CH": "Zwitserland",
    "NO": "Noorwegen",
    "GB": "Verenigd Koninkrijk",
    "US": "Verenigde Staten",
}


def _table(text: str) -> tuple[tuple[str, ...], ...]:
    """Rows of ``|``-separated fields, one per line."""
    return tuple(
        tuple(field.strip() for field in line.split("|")) for line in text.strip().splitlines()
    )


# Customers (fictitious; e-mail on example domains). The pools are small and picked with
# skewed weights, so returning customers occur in any batch of a few dozen orders.
# name|street|number|zipcode|city|phone|email
NL_CUSTOMERS = _table("""
Sanne de Vries|Kerkstraat|12|3512 AB|Utrecht|06-12345678|sanne.devries@example.nl
Jeroen Bakker|Dorpsstraat|4a|1851 KJ|Heiloo|06-23456789|j.bakker@example.nl
Fatima El Amrani|Van Ostadestraat|233|1073 TL|Amsterdam|06-34567890|fatima@example.com
Henk Jansen|Molenweg|7|7431 BK|Diepenveen|0570-123456|henkjansen@example.nl
Lotte van den Berg|Lange Nieuwstraat|88|2011 TZ|Haarlem|06-45678901|lotte@example.nl
Mehmet Yilmaz|Schiedamseweg|150|3026 AH|Rotterdam|06-56789012|m.yilmaz@example.com
Anouk Visser|Stationsplein|3|9726 AE|Groningen|06-67890123|anouk.visser@example.nl
Pieter Smit|Heuvelstraat|21|5038 AB|Tilburg|013-5432100|pieter.smit@example.nl
Priya Ramdin|Laan van Meerdervoort|512|2563 BJ|Den Haag|06-78901234|priya@example.com
Kees Mulder|Boschdijk|99|5612 HB|Eindhoven|06-89012345|kees.mulder@example.nl
Emma Hendriks|Oudegracht|45bis|3511 AH|Utrecht|06-90123456|emma.h@example.nl
Daan de Boer|Markt|1|6211 CK|Maastricht|043-3210987|daan@example.nl
Yara Koster|Zeeweg|16|1971 HC|IJmuiden|06-11223344|yara.koster@example.com
Bram Peters|Groenestraat|310|6531 JE|Nijmegen|06-22334455|bram.peters@example.nl
Noor Willems|Prinsengracht|263|1016 GV|Amsterdam|06-33445566|noor.willems@example.nl
Gerrit van Dijk|Hoofdweg|1122|9641 AX|Veendam|0598-612345|g.vandijk@example.nl
""")
# name|street|number|zipcode|city|country_code|email
OSS_CUSTOMERS = _table("""
Lukas Schneider|Bahnhofstraße|12|50667|Köln|DE|lukas.s@example.de
Anna Müller|Hauptstraße|5|47533|Kleve|DE|anna.mueller@example.de
Lies Peeters|Meir|78|2000|Antwerpen|BE|lies.peeters@example.be
Tom Claes|Veldstraat|3|9000|Gent|BE|tom.claes@example.be
Camille Dubois|Rue de la Paix|9|75002|Paris|FR|camille@example.fr
""")
# company|contact|street|number|zipcode|city|country_code|VAT number
B2B_CUSTOMERS = _table("""
Holzwerk GmbH|Jonas Weber|Industriestraße|40|40210|Düsseldorf|DE|DE123456789
Atelier Lumière SARL|Claire Martin|Rue Nationale|101|59000|Lille|FR|FR40303265045
Brouwerij De Kroon BV|Wim Maes|Kaai|2|8000|Brugge|BE|BE0123456749
Wiener Design KG|Sophie Gruber|Mariahilfer Straße|55|1060|Wien|AT|ATU12345678
""")
# name|street|number|zipcode|city|country_code|email
EXPORT_CUSTOMERS = _table("""
Marco Keller|Seestrasse|8|8002|Zürich|CH|marco.keller@example.ch
Ingrid Hansen|Karl Johans gate|22|0159|Oslo|NO|ingrid@example.no
Oliver Brown|High Street|14|OX1 4AH|Oxford|GB|oliver.b@example.co.uk
Emily Johnson|Main Street|350|02139|Cambridge|US|emily.j@example.com
""")

# (gateway_name, method_name, transaction-cost description, cost incl. VAT)
PAYMENTS = (
    ("mollie", "ideal", "Transactiekosten iDEAL", "0.29"),
    ("mollie", "bancontact", "Transactiekosten Bancontact", "0.39"),
    ("mollie", "creditcard", "Transactiekosten creditcard", "1.50"),
    ("paypal", "paypal", "Transactiekosten PayPal", "0.95"),
    ("basic", "bank_transfer", "", ""),
    ("mollie", "klarna_paylater", "Achteraf betalen (Klarna)", "1.00"),
)
PAYMENT_STATUS = {  # order status → OrderPaymentStatus {id, text}
    STATUS_NEW: (5, "Pending"),
    STATUS_AWAITING_PAYMENT: (5, "Pending"),
    STATUS_CANCELLED: (2, "Cancelled"),
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_str(rate: Decimal) -> str:
    """``Decimal("21")`` → ``"21"``, ``Decimal("5.5")`` → ``"5.5"``."""
    return format(rate.normalize(), "f")


def fmt(value: Decimal, places: int) -> str:
    """Fixed-point text without a negative zero."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{rounded + 0:.{places}f}"


def tax_price(incl: Decimal, rate: Decimal) -> dict[str, str]:
    """A ``TaxPrice``: ``amount`` excl. VAT (6 decimals), incl. VAT (2 decimals)."""
    return {
        "amount": fmt(incl / (1 + rate / 100), 6),
        "amount_including_tax": fmt(incl, 2),
        "rate": rate_str(rate),
    }


def split(total: Decimal, weights: dict[Decimal, Decimal]) -> list[tuple[Decimal, Decimal]]:
    """``total`` (cents) over the rates by weight; the last slice takes the remainder,
    so the slices sum exactly to ``total``. ``[(rate, amount), ...]``, rates sorted."""
    rates = sorted(rate for rate, weight in weights.items() if weight)
    whole = sum((weights[rate] for rate in rates), ZERO)
    if not rates or not whole:
        raise ValueError("nothing to split over")
    parts: list[tuple[Decimal, Decimal]] = []
    for rate in rates[:-1]:
        parts.append((rate, cents(total * weights[rate] / whole)))
    parts.append((rates[-1], total - sum((amount for _, amount in parts), ZERO)))
    return parts


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _pick_customer(rng: random.Random, pool: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    # Zipf-like weights: the first customers in the pool come back often.
    return rng.choices(pool, weights=[1 / (i + 1) for i in range(len(pool))])[0]


def _address(
    name: str,
    street: str,
    number: str,
    zipcode: str,
    city: str,
    country: str,
    phone: str = "",
    company: str = "",
    gender: str = "",
) -> dict[str, str]:
    address = {
        "gender": gender,
        "name": name,
        "company": company,
        "street": street,
        "number": number,
        "zipcode": zipcode,
        "city": city,
        "country": COUNTRY_NAMES.get(country, country),
        "country_code": country,
        "phone": phone,
    }
    return {key: value for key, value in address.items() if value}


def _debtor(rng: random.Random, kind: str, email: str | None) -> tuple[dict[str, Any], str]:
    """``(debtor, country_code)`` for this kind of order."""
    taxnumber = ""
    if kind == "reverse_charge":
        company, contact, street, num, zipcode, city, country, taxnumber = _pick_customer(
            rng, B2B_CUSTOMERS
        )
        mail = f"inkoop@{company.split()[0].lower()}.example.{country.lower()}"
        invoice = _address(contact, street, num, zipcode, city, country, company=company)
    elif kind in ("export", "oss"):
        pool = EXPORT_CUSTOMERS if kind == "export" else OSS_CUSTOMERS
        name, street, num, zipcode, city, country, mail = _pick_customer(rng, pool)
        invoice = _address(name, street, num, zipcode, city, country)
    else:
        name, street, num, zipcode, city, phone, mail = _pick_customer(rng, NL_CUSTOMERS)
        country = "NL"
        invoice = _address(
            name,
            street,
            num,
            zipcode,
            city,
            country,
            phone=phone,
            gender=rng.choice(("M", "V", "")),
        )
    if taxnumber:
        invoice["taxnumber"] = taxnumber
    address: dict[str, Any] = {"invoice": invoice}
    if rng.random() < 0.15 and kind not in ("reverse_charge",):
        other = _pick_customer(rng, NL_CUSTOMERS) if country == "NL" else None
        if other is not None:  # a present, delivered to someone else
            address["delivery"] = _address(other[0], other[1], other[2], other[3], other[4], "NL")
    if "delivery" not in address:
        address["delivery"] = dict(invoice)
        address["delivery"].pop("taxnumber", None)
    debtor = {
        "email": email or mail,
        "link_to_account": rng.random() < 0.4,
        "address": address,
    }
    return debtor, country


def _basket(rng: random.Random, kind: str) -> list[tuple[tuple[str, str, str], int]]:
    """``[(catalog item, quantity)]``."""
    if kind in ("domestic", "test"):
        items = rng.sample(HIGH_ITEMS, rng.randint(1, 3))
    elif kind == "mixed_rates":
        low = [item for item in CATALOG if item[2] == "low"]
        items = rng.sample(HIGH_ITEMS, rng.randint(1, 2)) + rng.sample(low, rng.randint(1, 2))
        if rng.random() < 0.3:
            items.append(CATALOG[-1])  # a voucher at 0 %
    else:
        items = rng.sample(CATALOG[:-1], rng.randint(1, 4))
    return [(item, rng.choice((1, 1, 1, 2, 3))) for item in items]


def _line(
    rng: random.Random,
    line_type: str,
    description: str,
    quantity: int,
    price: dict[str, str] | list[dict[str, str]],
) -> dict[str, Any]:
    return {
        "id": _uuid(rng),
        "type": line_type,
        "quantity": quantity,
        "description": description,
        "price": price,
    }


def _build(rng: random.Random, kind: str, status: int) -> dict[str, Any]:
    """Order lines, VAT summary and total for a (non-credit) order of this kind."""
    debtor, country = _debtor(rng, kind, None)
    zero_rated = kind in ("reverse_charge", "export")
    rates = OSS_RATES[country] if kind == "oss" else NL_RATES
    lines: list[dict[str, Any]] = []
    article_weights: dict[Decimal, Decimal] = {}
    for index, (item, quantity) in enumerate(_basket(rng, kind)):
        description, price, klass = item
        unit_incl_nl = Decimal(price)
        unit_net = unit_incl_nl / (1 + NL_RATES[klass] / 100)
        if zero_rated:
            rate, unit = ZERO, cents(unit_net)
        elif kind == "oss":
            rate = rates[klass]
            unit = cents(unit_net * (1 + rate / 100))
        else:
            rate, unit = NL_RATES[klass], unit_incl_nl
        incl = unit * quantity
        line = _line(rng, "article", description, quantity, tax_price(incl, rate))
        excl = Decimal(line["price"]["amount"])
        line["articles"] = [
            {
                "id": 100 + CATALOG.index(item),
                "description": description,
                "sku": f"SKU-{100 + index:04d}",
                "rate": rate_str(rate),
                "amount": f"{(excl / quantity).quantize(MICRO):.6f}",
                "price": {
                    "amount": f"{(excl / quantity).quantize(MICRO):.6f}",
                    "rate": rate_str(rate),
                },
            }
        ]
        lines.append(line)
        article_weights[rate] = article_weights.get(rate, ZERO) + incl
    articles_total = sum(article_weights.values(), ZERO)
    order: dict[str, Any] = {"debtor": debtor}
    # Discounts and costs are split over the taxed articles (vouchers at 0 % excluded).
    taxed = {rate: w for rate, w in article_weights.items() if rate} or article_weights

    if kind in ("domestic", "mixed_rates", "test", "oss") and rng.random() < 0.25:
        code, percent = rng.choice((("WELKOM10", 10), ("ZOMER15", 15), ("TROUW5", 5)))
        discount = cents(articles_total * percent / 100)
        if discount:
            parts = split(discount, taxed)
            lines.append(
                _line(
                    rng,
                    "discount",
                    f"Kortingscode {code} (-{percent}%)",
                    1,
                    [tax_price(-amount, rate) for rate, amount in parts if amount],
                )
            )
            order["discountcode"] = code

    main_rate = max(taxed, key=lambda rate: taxed[rate])
    if status != STATUS_PICKED_UP and articles_total < Decimal("75"):
        cost = {"NL": "4.95", "BE": "7.95", "DE": "8.95", "FR": "9.95"}.get(country, "24.95")
        carrier = "PostNL" if country in ("NL", "BE") else "DHL"
        lines.append(
            _line(
                rng,
                "shipping",
                f"Verzendkosten ({carrier})",
                1,
                tax_price(Decimal(cost), main_rate),
            )
        )

    gateway, method, cost_description, cost = rng.choice(PAYMENTS)
    if cost and rng.random() < 0.5:
        amount = Decimal(cost)
        if len(taxed) > 1:  # split by the ratio of the articles' rates
            price_: Any = [tax_price(part, rate) for rate, part in split(amount, taxed)]
        else:
            price_ = tax_price(amount, main_rate)
        lines.append(_line(rng, "payment", cost_description, 1, price_))
    payment_id, payment_text = PAYMENT_STATUS.get(status, (1, "Successful"))
    order["payment"] = {
        "gateway_name": gateway,
        "method_name": method,
        "status": {"id": payment_id, "text": payment_text},
    }
    order["payment_status"] = {1: "captured", 5: "pending", 2: "voided"}[payment_id]
    order["orderlines"] = lines
    order["shipping"] = (
        []
        if status == STATUS_PICKED_UP
        else [
            {
                "country": {
                    "description": COUNTRY_NAMES.get(country, country),
                    "isocode": country,
                }
            }
        ]
    )
    order["business_model"] = "B2B" if kind == "reverse_charge" else "B2C"
    order["tax_strategy"] = {
        "reverse_charge": "reverse_charged_vat",
        "export": "zero_percent",
    }.get(kind, "")
    order["tax_region"] = country
    if kind == "reverse_charge" and rng.random() < 0.6:
        order["reference"] = f"PO-{rng.randint(10000, 99999)}"
    return order


def _slices(line: dict[str, Any]) -> list[dict[str, str]]:
    price = line["price"]
    return price if isinstance(price, list) else [price]


def summarise(lines: list[dict[str, Any]]) -> tuple[list[dict[str, str]], str]:
    """``(price.tax, price.total)`` for these lines: VAT per rate and the exact sum."""
    incl: dict[Decimal, Decimal] = {}
    excl: dict[Decimal, Decimal] = {}
    for line in lines:
        for item in _slices(line):
            rate = Decimal(item["rate"])
            incl[rate] = incl.get(rate, ZERO) + Decimal(item["amount_including_tax"])
            excl[rate] = excl.get(rate, ZERO) + Decimal(item["amount"])
    tax = [
        {"amount": fmt(incl[rate] - excl[rate], 2), "rate": rate_str(rate)} for rate in sorted(incl)
    ]
    return tax, fmt(sum(incl.values(), ZERO), 2)


def _negate(price: dict[str, str]) -> dict[str, str]:
    places = {"amount": 6, "amount_including_tax": 2}
    return {
        key: fmt(-Decimal(value), places[key]) if key in places else value
        for key, value in price.items()
    }


def _stamp(rng: random.Random, when: dt.datetime, status: int) -> dict[str, str]:
    changed = (
        when if status == STATUS_NEW else when + dt.timedelta(minutes=rng.randint(2, 60 * 24 * 3))
    )
    return {
        "date": when.date().isoformat(),
        "time": when.strftime("%H:%M:%S"),
        "status_changed_date": changed.date().isoformat(),
        "status_changed_time": changed.strftime("%H:%M:%S"),
    }


# Fields every generated order carries as a Dutch EUR store sends them.
ORDER_DEFAULTS = {
    "archived": False,
    "finished": True,
    "taxed": "include",
    "locale": "nl_NL",
    "currency": "EUR",
}


def make_order(
    number: int,
    *,
    kind: str = "domestic",
    seed: int | str = 0,
    status: int = STATUS_PAID,
    date: dt.date | dt.datetime | None = None,
    email: str | None = None,
    credited: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One order. Deterministic in (number, kind, seed, status, date, email, credited).

    ``date`` may be a datetime (it then also sets ``time``); without it the date is
    drawn from 2024. For ``kind="credit"`` the order refunds ``credited`` (an order
    dict from here) in full, or a fresh domestic order numbered ``number - 1`` if none;
    ``status`` is forced to a credit status (10) unless it already is one (10, 11).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown order kind {kind!r}; expected one of {KINDS}")
    rng = random.Random(f"mww-order:{seed}:{number}:{kind}")
    if isinstance(date, dt.datetime):
        when = date.replace(tzinfo=None, microsecond=0)
    else:
        day = date or dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(366))
        when = dt.datetime.combine(
            day, dt.time(rng.randint(7, 22), rng.randrange(60), rng.randrange(60))
        )
    if kind == "credit":
        return _credit(
            rng,
            number,
            credited or make_order(max(1, number - 1), seed=seed, date=when - dt.timedelta(days=7)),
            status if status in CREDIT_STATUSES else STATUS_CREDITED,
            when,
            email,
        )

    order: dict[str, Any] = {
        "number": f"T-{number}" if kind == "test" else number,
        "uuid": _uuid(rng),
    }
    body = _build(rng, kind, status)
    if email:
        body["debtor"]["email"] = email
    tax, total = summarise(body["orderlines"])
    order.update(_stamp(rng, when, status))
    order.update({"status": status, **ORDER_DEFAULTS})
    order.update(body)
    order["price"] = {"tax": tax, "total": total}
    order["credit_order_numbers"] = []
    if rng.random() < 0.2:
        order["comments"] = {
            "customer": rng.choice(
                (
                    "Graag inpakken als cadeau.",
                    "Mag bij de buren worden afgegeven.",
                    "Bezorgen na 17:00 graag.",
                )
            )
        }
    return order


def _credit(
    rng: random.Random,
    number: int,
    original: dict[str, Any],
    status: int,
    when: dt.datetime,
    email: str | None,
) -> dict[str, Any]:
    """A full refund of ``original``: a separate credit order, negative amounts."""
    lines = []
    for line in original["orderlines"]:
        price = line["price"]
        negated = [_negate(p) for p in price] if isinstance(price, list) else _negate(price)
        lines.append(
            _line(
                rng,
                line["type"],
                line.get("description", ""),
                line["quantity"],
                negated,
            )
        )
    tax, total = summarise(lines)
    original_number = original["number"]
    if isinstance(original_number, str):
        raise ValueError("test orders are not credited")
    order: dict[str, Any] = {"number": number, "uuid": _uuid(rng)}
    order.update(_stamp(rng, when, status))
    order.update(
        {
            "status": status,
            **ORDER_DEFAULTS,
            "business_model": original.get("business_model", "B2C"),
            "tax_strategy": original.get("tax_strategy", ""),
            "tax_region": original.get("tax_region", "NL"),
            "credited_order_number": original_number,
            "credit_order_numbers": [],
            "debtor": dict(
                copy.deepcopy(original["debtor"]),
                email=email or original["debtor"]["email"],
            ),
            "price": {"tax": tax, "total": total},
            "orderlines": lines,
            "shipping": copy.deepcopy(original.get("shipping", [])),
        }
    )
    if "reference" in original:
        order["reference"] = original["reference"]
    return order


# A realistic mix for make_orders (weights) and the statuses of non-credit orders.
MIX = {
    "domestic": 45,
    "mixed_rates": 25,
    "oss": 8,
    "reverse_charge": 6,
    "export": 6,
    "credit": 5,
    "test": 5,
}
STATUS_MIX = {
    STATUS_PAID: 50,
    STATUS_SHIPPED: 25,
    STATUS_PICKED_UP: 5,
    STATUS_NEW: 8,
    STATUS_AWAITING_PAYMENT: 5,
    STATUS_CANCELLED: 7,
}


def make_orders(
    n: int,
    seed: int | str = 0,
    *,
    start_number: int = 1001,
    start: dt.datetime = dt.datetime(2024, 3, 1, 9, 0),
    kinds: list[str] | tuple[str, ...] | None = None,
    existing: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """``n`` orders numbered from ``start_number`` with rising dates from ``start``.

    ``kinds`` restricts the mix (default: :data:`MIX`). Credit orders refund an earlier
    paid order of the batch (or of ``existing``) and are appended to its
    ``credit_order_numbers``; with nothing to credit yet, a domestic order is made.
    """
    rng = random.Random(f"mww-orders:{seed}:{start_number}")
    allowed = list(kinds) if kinds else list(MIX)
    for kind in allowed:
        if kind not in KINDS:
            raise ValueError(f"unknown order kind {kind!r}; expected one of {KINDS}")
    weights = [MIX[kind] for kind in allowed]
    orders: list[dict[str, Any]] = []
    creditable = [order for order in existing or [] if _creditable(order)]
    when = start
    for i in range(n):
        number = start_number + i
        when += dt.timedelta(minutes=rng.randint(5, 600))
        kind = rng.choices(allowed, weights=weights)[0]
        credited = None
        if kind == "credit":
            if creditable:
                credited = rng.choice(creditable)
            else:
                kind = "domestic"
        status = (
            STATUS_CREDITED
            if kind == "credit"
            else rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()))[0]
        )
        order = make_order(
            number, kind=kind, seed=seed, status=status, date=when, credited=credited
        )
        if credited is not None:
            credited["credit_order_numbers"].append(number)
            creditable.remove(credited)
        elif _creditable(order):
            creditable.append(order)
        orders.append(order)
    return orders


def _creditable(order: dict[str, Any]) -> bool:
    return (
        isinstance(order.get("number"), int)
        and order.get("status") in (STATUS_PAID, STATUS_SHIPPED, STATUS_PICKED_UP)
        and not order.get("credit_order_numbers")
    )
