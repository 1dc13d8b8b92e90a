"""PURE: payment facts from Mijnwebwinkel + a booked invoice → the payments to book.

No I/O. The facts come from the payments listing (``GET /orders/{n}/payments``, parsed
by ``parse_payments``) or, when that is empty or not offered, from the order's deprecated
``payment_status`` / ``payment`` fields (``facts_from_order``). The listing wins whenever
it has a capture or a refund: it has dates and amounts, the deprecated fields have
neither.

Rules (docs/booking-rules.md, "Betalingen"):
- invoice_and_payment: one FactuurbetalingOntvangen per capture (not per day: a bank or
  PSP statement line is one capture, so matching stays one-to-one), dated on the
  capture's shop-local date, for the captured amount, on the ledger of its payment
  method, against the debtors ledger under the invoice number. Captures beyond the
  invoice total are held back with a reason, never booked.
- a credit order: each refund on the credited order is a payment out (negative),
  dated on the refund date, up to the credit note's total.
- cash: one GeldOntvangen once the order is paid in full (or the credit note refunded
  in full), dated on the date of the capture (refund) that completed it, on the ledger
  of the method; a mix of ledgers, or "niet boeken", is held back with a reason.
- a method without a ledger in "Betaalmethoden" holds its payment back (Dutch reason);
  a method mapped to "niet boeken" (gift cards) books nothing and counts as settled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from app.core.mapping_settings import NOT_BOOKED, MappingSettings
from app.core.mutations import Mutation, MutationRow, Soort, money
from app.core.orders import Order

ZERO = Decimal("0")
SHOP_TZ = ZoneInfo("Europe/Amsterdam")
CAPTURE, REFUND = "capture", "refund"
SOURCE_LISTING, SOURCE_ORDER = "listing", "order"
MAX_DESCRIPTION = 200

# Payment-state strings of one planned payment.
POST, HELD, NOT_BOOKED_STATE = "post", "held", "not_booked"

METHOD_LABELS = {
    "ideal": "iDEAL", "bancontact": "Bancontact", "creditcard": "creditcard",
    "paypal": "PayPal", "bank_transfer": "bankoverschrijving", "in_arrears": "op rekening",
    "cash": "contant", "pickup": "betalen bij afhalen", "card": "pin",
    "webshop_giftcard": "cadeaubon (webwinkel)", "podium_giftcard": "cadeaubon (Podium)",
    "klarna_paylater": "Klarna achteraf betalen", "afterpay": "AfterPay",
    "invoice": "factuur", "rembours": "rembours", "advance": "vooruitbetaling",
}


def method_key(method: str) -> str:
    """``ideal:ideal_INGBNL2A`` → ``ideal``: the issuer does not change the ledger."""
    return method.split(":", 1)[0].strip().lower()


def method_label(method: str) -> str:
    key = method_key(method)
    return METHOD_LABELS.get(key, key or "onbekend")


@dataclass(frozen=True, slots=True)
class MoneyMovement:
    """Money that moved: a capture (in) or a refund (out), always a positive amount."""

    key: str  # stable per movement: "<payment id>:<mutation id>", or "order:captured"
    kind: str  # CAPTURE | REFUND
    date: dt.date  # shop-local
    amount: Decimal
    method: str  # method_key(...)


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    movements: tuple[MoneyMovement, ...]
    source: str  # SOURCE_LISTING | SOURCE_ORDER
    methods: tuple[str, ...] = ()  # every method seen, also of pending or failed payments

    def of_kind(self, kind: str) -> list[MoneyMovement]:
        return sorted((m for m in self.movements if m.kind == kind),
                      key=lambda m: (m.date, m.key))


@dataclass(frozen=True, slots=True)
class PlannedPayment:
    """One payment of one order, as the ledger of payments records it."""

    key: str
    kind: str
    date: dt.date
    amount: Decimal  # signed: positive received, negative paid out
    method: str
    ledger: str
    state: str  # POST | HELD | NOT_BOOKED_STATE
    reason: str = ""
    mutation: Mutation | None = None


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    payments: tuple[PlannedPayment, ...]
    outstanding: Decimal  # still to be received (or refunded), never negative

    @property
    def settled(self) -> bool:
        return self.outstanding == ZERO and all(p.state != HELD for p in self.payments)


@dataclass(frozen=True, slots=True)
class Waiting:
    """Cash mode: no money yet (or not all of it); booked once it arrives."""

    reason: str


@dataclass(frozen=True, slots=True)
class Held:
    """Cash mode: money arrived but cannot be placed; a person must configure it."""

    reason: str


# --- facts ------------------------------------------------------------------------------


def parse_payments(data: Any) -> PaymentFacts:
    """The spec's ``{"payments": [Payment]}`` (or a bare list). ``price`` is in minor
    units; test payments and non-EUR payments are left out, as are authorize, void and
    failed mutations (their methods are still reported)."""
    items = data.get("payments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("expected a list of payments")
    movements: list[MoneyMovement] = []
    methods: list[str] = []
    for payment in items:
        if not isinstance(payment, dict) or payment.get("isTest") is True:
            continue
        method = method_key(str(payment.get("method") or ""))
        if method and method not in methods:
            methods.append(method)
        if str(payment.get("currency") or "EUR").upper() != "EUR":
            continue
        for mutation in payment.get("mutations") or ():
            kind = str(mutation.get("type") or "")
            if kind not in (CAPTURE, REFUND):
                continue
            amount = _minor_units(mutation.get("price"))
            when = _local_date(mutation.get("createdAt") or payment.get("createdAt"))
            if amount is None or amount <= ZERO or when is None:
                continue
            key = f"{payment.get('id') or payment.get('reference')}:{mutation.get('id')}"
            movements.append(MoneyMovement(key[:100], kind, when, amount, method))
    return PaymentFacts(tuple(movements), SOURCE_LISTING, tuple(methods))


def facts_from_order(order: Order) -> PaymentFacts:
    """The deprecated fields: "captured" (or status 1) is the order total received on
    the day the order reached its status (its date when unknown); "refunded" (7) is that
    and a refund of it. No partial payments can be seen this way."""
    method = method_key(order.payment_method)
    methods = (method,) if method else ()
    captured = order.payment_status in ("captured", "refunded") or order.payment_status_id in (1, 7)
    if not captured or order.total <= ZERO:
        return PaymentFacts((), SOURCE_ORDER, methods)
    day = order.status_changed_at.date() if order.status_changed_at else order.date
    moves = [MoneyMovement("order:captured", CAPTURE, day, order.total, method)]
    if order.payment_status == "refunded" or order.payment_status_id == 7:
        moves.append(MoneyMovement("order:refunded", REFUND, day, order.total, method))
    return PaymentFacts(tuple(moves), SOURCE_ORDER, methods)


def choose_facts(listing: PaymentFacts | None, order: Order) -> PaymentFacts:
    """The listing when it shows money moving, else the order's deprecated fields."""
    if listing is not None and listing.movements:
        return listing
    fallback = facts_from_order(order)
    if listing is not None and not fallback.movements:
        return listing  # nothing anywhere: keep the listing's methods
    return fallback


def _minor_units(value: Any) -> Decimal | None:
    try:
        return (Decimal(str(value)) / 100).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _local_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        return at.date()
    return at.astimezone(SHOP_TZ).date()


# --- invoice and payment ----------------------------------------------------------------


def plan_payments(order_number: str, total: Decimal, relation_code: str, facts: PaymentFacts,
                  settings: MappingSettings) -> PaymentPlan:
    """The payments of a booked invoice (``total`` > 0) or credit note (``total`` < 0)."""
    credit = total < ZERO
    wanted = abs(total)
    planned: list[PlannedPayment] = []
    covered = ZERO
    for move in facts.of_kind(REFUND if credit else CAPTURE):
        sign = Decimal(-1) if credit else Decimal(1)
        if covered + move.amount > wanted:
            planned.append(PlannedPayment(
                move.key, move.kind, move.date, sign * move.amount, move.method, "", HELD,
                reason=_too_much(order_number, move, wanted, credit)))
            continue
        covered += move.amount
        planned.append(_planned(order_number, relation_code, move, sign, settings))
    return PaymentPlan(tuple(planned), wanted - covered)


def _planned(order_number: str, relation_code: str, move: MoneyMovement, sign: Decimal,
             settings: MappingSettings) -> PlannedPayment:
    amount = sign * move.amount
    ledger = settings.payment_ledgers.get(move.method, "")
    if ledger == NOT_BOOKED:
        return PlannedPayment(move.key, move.kind, move.date, amount, move.method, "",
                              NOT_BOOKED_STATE, reason=(
                                  f"Betaalmethode {method_label(move.method)} staat op "
                                  "'niet boeken'."))
    if not ledger:
        return PlannedPayment(move.key, move.kind, move.date, amount, move.method, "", HELD,
                              reason=unmapped_reason(order_number, move.method))
    what = "Terugbetaling creditnota" if sign < ZERO else "Betaling bestelling"
    description = f"{what} {order_number} ({method_label(move.method)})"[:MAX_DESCRIPTION]
    row = MutationRow(amount, amount, ZERO, "GEEN", ZERO, settings.debtors_ledger)
    mutation = Mutation(Soort.FACTUURBETALING_ONTVANGEN, move.date, ledger, order_number,
                        description, (row,), relation_code=relation_code)
    return PlannedPayment(move.key, move.kind, move.date, amount, move.method, ledger, POST,
                          mutation=mutation)


def unmapped_reason(order_number: str, method: str) -> str:
    return (f"De betaling van bestelling {order_number} is gedaan met "
            f"{method_label(method)}, en die betaalmethode heeft geen grootboekrekening. "
            "Kies bij Instellingen → Betaalmethoden een rekening (bank, tussenrekening "
            "van de betaalprovider, kas) of 'niet boeken'.")


def _too_much(order_number: str, move: MoneyMovement, wanted: Decimal, credit: bool) -> str:
    what = "terugbetaald" if credit else "ontvangen"
    return (f"Bij bestelling {order_number} is meer {what} dan € {money(wanted)}; "
            f"de {move.kind} van € {money(move.amount)} op {move.date:%d-%m-%Y} wordt niet "
            "geboekt. Boek het verschil met de hand.")


# --- cash -------------------------------------------------------------------------------


def cash_booking(mutation: Mutation, total: Decimal, facts: PaymentFacts,
                 settings: MappingSettings) -> Mutation | Waiting | Held:
    """The GeldOntvangen of a mapped order, dated and placed on the money's ledger; or
    why it waits or is held."""
    credit = total < ZERO
    wanted = abs(total)
    covered = ZERO
    used: list[MoneyMovement] = []
    for move in facts.of_kind(REFUND if credit else CAPTURE):
        covered += move.amount
        used.append(move)
        if covered >= wanted:
            break
    number = mutation.invoice_number
    if covered < wanted:
        what = "terugbetaald" if credit else "betaald"
        part = "nog niet" if covered == ZERO else f"pas voor € {money(covered)}"
        return Waiting(f"Bestelling {number} is {part} {what}; zonder factuur wordt ze "
                       "geboekt zodra het geld binnen is (wacht op betaling).")
    ledgers = set()
    for move in used:
        ledger = settings.payment_ledgers.get(move.method, "")
        if not ledger:
            return Held(unmapped_reason(number, move.method))
        if ledger == NOT_BOOKED:
            return Held(f"Bestelling {number} is betaald met {method_label(move.method)}, "
                        "dat op 'niet boeken' staat; zonder factuur zou de omzet dan "
                        "ontbreken. Kies bij Instellingen → Betaalmethoden een rekening, "
                        "of boek met factuur en betaling.")
        ledgers.add(ledger)
    if len(ledgers) > 1:
        return Held(f"Bestelling {number} is betaald op meer dan één rekening "
                    f"({', '.join(sorted(ledgers))}); één kasboeking kan dat niet. Boek "
                    "met factuur en betaling, of boek deze bestelling met de hand.")
    return replace(mutation, date=used[-1].date, ledger=ledgers.pop())
