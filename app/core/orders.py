"""Mijnwebwinkel order types: what the shop says was sold (frozen, no I/O).

Parsed from the API's JSON by ``app.core.order_schema``; consumed by the pure mapping in
``app.core.mapping``. Money is always ``Decimal``; order numbers are strings (the live API
sends them as strings, test orders carry a ``T-`` prefix).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

# Order-line types: the order lines' (article, custom, shipping, payment, discount; spec,
# examples, changelog) and the payment lines' enum of the same spec (physical, digital,
# shipping_fee, payment_fee, surcharge, discount, gift_card, store_credit, sales_tax).
# The full enum of order lines is undocumented (NOTES.md §6.3); see app.core.line_types.
LINE_ARTICLE = "article"
LINE_CUSTOM = "custom"
LINE_SHIPPING = "shipping"
LINE_PAYMENT = "payment"
LINE_DISCOUNT = "discount"

TAX_STRATEGY_REGULAR = ""
TAX_STRATEGY_REVERSE_CHARGE = "reverse_charged_vat"
TAX_STRATEGY_ZERO_PERCENT = "zero_percent"


@dataclass(frozen=True, slots=True)
class TaxPrice:
    """One VAT-rate slice of an amount: the spec's ``TaxPrice``."""

    rate: Decimal
    # On order lines: the amount excluding VAT (up to 6 decimals). In ``price.tax`` the
    # spec example and live responses put the VAT amount here. Neither is booked: the
    # mapping works from amount_including_tax only.
    amount: Decimal | None = None
    amount_including_tax: Decimal | None = None  # including VAT, 2 decimals


@dataclass(frozen=True, slots=True)
class OrderLine:
    type: str
    quantity: int
    description: str
    prices: tuple[TaxPrice, ...]  # the line total for the whole quantity, per VAT rate
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    name: str = ""
    company: str = ""
    street: str = ""
    number: str = ""
    zipcode: str = ""
    city: str = ""
    country_code: str = ""
    phone: str = ""
    gender: str = ""
    taxnumber: str = ""  # VAT number, invoice address only


@dataclass(frozen=True, slots=True)
class Debtor:
    email: str = ""
    invoice: Address | None = None
    delivery: Address | None = None
    # Deprecated debtor-level copies; live responses may carry only these.
    name: str = ""
    company: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    number: str
    uuid: str
    date: dt.date
    status: int
    total: Decimal
    lines: tuple[OrderLine, ...]
    debtor: Debtor
    time: dt.time | None = None
    currency: str = "EUR"
    tax: tuple[TaxPrice, ...] = ()
    tax_strategy: str = TAX_STRATEGY_REGULAR
    tax_region: str = ""
    business_model: str = "B2C"
    credited_order_number: str | None = None
    credit_order_numbers: tuple[str, ...] = ()  # the credit orders that credit this one
    shipping_country: str = ""
    status_changed_at: dt.datetime | None = None  # shop-local time, naive
    reference: str = ""
    archived: bool = False
    # The deprecated payment fields (NOTES.md §6.5): the fallback when the payments
    # listing is empty or not offered (app/core/payments.py).
    payment_status: str = ""  # new | pending | authorized | captured | refunded | …
    payment_status_id: int | None = None  # payment.status.id: 1 Successful, 7 Refunded, …
    payment_method: str = ""  # payment.method_name, e.g. "ideal", "in_arrears", "cash"

    @property
    def is_test(self) -> bool:
        """Test orders carry a ``T-`` marker in their number (NOTES.md §8)."""
        return self.number.upper().startswith("T-")

    @property
    def customer(self) -> str:
        """Who the invoice is for, as a person reads it: the company, else the name."""
        invoice = self.debtor.invoice
        for value in (
            invoice.company if invoice else "",
            invoice.name if invoice else "",
            self.debtor.company,
            self.debtor.name,
        ):
            if value and value.strip():
                return value.strip()
        return ""


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """The few fields of a listed order the reconciler needs to decide what to enqueue."""

    number: str
    uuid: str
    status: int
    status_changed_at: dt.datetime | None = None
    date: dt.date | None = None  # placed on (shop-local), when the listing says
    time: dt.time | None = None

    @property
    def is_test(self) -> bool:
        return self.number.upper().startswith("T-")


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """One entry of ``GET /orderstatuses``."""

    status: int
    description: str
    credit_order: bool = False


@dataclass(frozen=True, slots=True)
class ShopInfo:
    """What Mijnwebwinkel says about the shop itself (``GET /store``): its name, currency
    and tax region. Not app.store, which is our SQL."""

    id: str
    name: str
    currency: str = "EUR"
    region_code: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False)
