"""PURE: payment facts from Mijnwebwinkel + a booked invoice → the payments to book.

No I/O. The facts (``app.core.payment_facts``) come from the payments listing
(``GET /orders/{n}/payments``) or, when that is empty or not offered, from the order's
deprecated ``payment_status`` / ``payment`` fields. The listing wins whenever it has a
capture or a refund: it has dates and amounts, the deprecated fields have neither.

Rules (docs/booking-rules.md, "Payments"):
- invoice_and_payment: one FactuurbetalingOntvangen per capture (not per day: a bank or
  PSP statement line is one capture, so matching stays one-to-one), dated on the
  capture's shop-local date, for the captured amount, on the ledger of its payment
  method, against the debtors ledger under **the invoice's own Factuurnummer and
  relation** (the ones it was booked with: ``Invoice``). Captures beyond the invoice
  total are held back with a reason, never booked.
- a credit note: the refunds allocated to it (app/core/refunds.py) are payments out
  (negative), dated on the refund date, up to the credit note's total.
- money of an invoice booked without payments, dated before the date the shop chose when
  it switched to a payment mode, is the bookkeeper's (state MANUAL, not booked).
- cash: one GeldOntvangen once the order is paid in full (or the credit note refunded
  in full), dated on the date of the capture (refund) that completed it, on the ledger
  of the method; a mix of ledgers, or "niet boeken", is held back with a reason. An
  order of € 0,00 paid with a gift card or store credit has no money to wait for: it is
  booked at once, on its order date, on the voucher's ledger.
- a method without a ledger in "Betaalmethoden" holds its payment back (Dutch reason);
  a method on "niet boeken" books nothing and leaves that part of the invoice open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from app.core.line_types import MEANS_OF_PAYMENT
from app.core.mapping_settings import NOT_BOOKED, MappingSettings
from app.core.mutations import Mutation, MutationRow, Soort, euro
from app.core.payment_facts import (
    CAPTURE,
    REFUND,
    MoneyMovement,
    PaymentFacts,
    method_label,
)

ZERO = Decimal("0")
MAX_DESCRIPTION = 200

# Payment-state strings of one planned payment.
POST, HELD, NOT_BOOKED_STATE, MANUAL = "post", "held", "not_booked", "manual"


@dataclass(frozen=True, slots=True)
class Invoice:
    """A booked invoice (or credit note) whose money is booked: what its payments carry."""

    order_number: str
    invoice_number: str  # the Factuurnummer it was booked with (bookings.invoice_number)
    relation_code: str  # the relation it was booked on
    total: Decimal  # signed: negative for a credit note
    money_from: dt.date | None = None  # money dated before this is the bookkeeper's


@dataclass(frozen=True, slots=True)
class PlannedPayment:
    """One payment of one order, as the payments register records it."""

    key: str
    kind: str
    date: dt.date
    amount: Decimal  # signed: positive received, negative paid out
    method: str
    ledger: str
    state: str  # POST | HELD | NOT_BOOKED_STATE | MANUAL
    reason: str = ""
    mutation: Mutation | None = None
    order_number: str = ""  # the invoice or credit note it is booked on


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    payments: tuple[PlannedPayment, ...]
    outstanding: Decimal  # still to be received (or refunded), never negative

    @property
    def settled(self) -> bool:
        return self.outstanding == ZERO and all(p.state in (POST, MANUAL) for p in self.payments)


@dataclass(frozen=True, slots=True)
class Waiting:
    """Cash mode: no money yet (or not all of it); booked once it arrives."""

    reason: str


@dataclass(frozen=True, slots=True)
class Held:
    """Cash mode: money arrived but cannot be placed; a person must configure it."""

    reason: str


# --- invoice and payment ----------------------------------------------------------------


def plan_payments(invoice: Invoice, facts: PaymentFacts, settings: MappingSettings) -> PaymentPlan:
    """The payments of a booked invoice (captures) or credit note (the refunds in
    ``facts``: the caller passes the ones allocated to it)."""
    credit = invoice.total < ZERO
    sign = Decimal(-1) if credit else Decimal(1)
    wanted = abs(invoice.total)
    planned: list[PlannedPayment] = []
    covered = ZERO
    for move in facts.of_kind(REFUND if credit else CAPTURE):
        if covered + move.amount > wanted:
            reason = _too_much(invoice, move, wanted, credit)
            planned.append(_unposted(invoice, move, sign, HELD, reason))
            continue
        covered += move.amount
        if invoice.money_from is not None and move.date < invoice.money_from:
            reason = _before_start(move, invoice.money_from)
            planned.append(_unposted(invoice, move, sign, MANUAL, reason))
            continue
        planned.append(_planned(invoice, move, sign, settings))
    return PaymentPlan(tuple(planned), wanted - covered)


def _unposted(
    invoice: Invoice, move: MoneyMovement, sign: Decimal, state: str, reason: str
) -> PlannedPayment:
    return PlannedPayment(
        move.key,
        move.kind,
        move.date,
        sign * move.amount,
        move.method,
        "",
        state,
        reason=reason,
        order_number=invoice.order_number,
    )


def _planned(
    invoice: Invoice, move: MoneyMovement, sign: Decimal, settings: MappingSettings
) -> PlannedPayment:
    ledger = settings.payment_ledgers.get(move.method, "")
    if ledger == NOT_BOOKED:
        reason = not_booked_reason(invoice, move, settings.debtors_ledger)
        return _unposted(invoice, move, sign, NOT_BOOKED_STATE, reason)
    if not ledger:
        return _unposted(
            invoice, move, sign, HELD, unmapped_reason(invoice.order_number, move.method)
        )
    amount = sign * move.amount
    mutation = payment_mutation(invoice, move.date, amount, move.method, ledger, settings)
    return PlannedPayment(
        move.key,
        move.kind,
        move.date,
        amount,
        move.method,
        ledger,
        POST,
        mutation=mutation,
        order_number=invoice.order_number,
    )


def payment_mutation(
    invoice: Invoice,
    date: dt.date,
    amount: Decimal,
    method: str,
    ledger: str,
    settings: MappingSettings,
) -> Mutation:
    """One FactuurbetalingOntvangen: the money on ``ledger``, against the debtors ledger,
    under the invoice's own Factuurnummer and relation."""
    what = "Terugbetaling creditnota" if amount < ZERO else "Betaling bestelling"
    description = f"{what} {invoice.order_number} ({method_label(method)})"[:MAX_DESCRIPTION]
    row = MutationRow(amount, amount, ZERO, "GEEN", ZERO, settings.debtors_ledger)
    return Mutation(
        Soort.FACTUURBETALING_ONTVANGEN,
        date,
        ledger,
        invoice.invoice_number,
        description,
        (row,),
        relation_code=invoice.relation_code,
    )


def unmapped_reason(order_number: str, method: str) -> str:
    return (
        f"De betaling van bestelling {order_number} is gedaan met "
        f"{method_label(method)}, en die betaalmethode heeft geen grootboekrekening. "
        "Kies bij Instellingen → Betaalmethoden een rekening (bank, tussenrekening "
        "van de betaalprovider, kas, of voor cadeaubonnen de balansrekening "
        "'Uitstaande cadeaubonnen')."
    )


def not_booked_reason(invoice: Invoice, move: MoneyMovement, debtors_ledger: str) -> str:
    what = "terugbetaling" if move.kind == REFUND else "betaling"
    return (
        f"Betaalmethode {method_label(move.method)} staat op 'niet boeken': de {what} "
        f"van {euro(move.amount)} op {move.date:%d-%m-%Y} is niet geboekt, dus dat deel "
        f"van factuur {invoice.invoice_number} blijft open op de debiteurenrekening "
        f"({debtors_ledger}). Boek het zelf, of kies bij Instellingen → Betaalmethoden "
        "een rekening; dan boekt de koppeling het alsnog."
    )


def _before_start(move: MoneyMovement, start: dt.date) -> str:
    what = "Terugbetaald" if move.kind == REFUND else "Ontvangen"
    return (
        f"{what} op {move.date:%d-%m-%Y}, vóór {start:%d-%m-%Y}: de datum vanaf wanneer "
        "de koppeling betalingen boekt van facturen die zonder betaling zijn geboekt. "
        "Deze betaling verwerkt de boekhouder zelf (niet geboekt)."
    )


def _too_much(invoice: Invoice, move: MoneyMovement, wanted: Decimal, credit: bool) -> str:
    if credit:
        return (
            f"Bij creditnota {invoice.order_number} is meer terugbetaald dan {euro(wanted)}; "
            f"de terugbetaling van {euro(move.amount)} op {move.date:%d-%m-%Y} wordt niet "
            "geboekt. Maak in Mijnwebwinkel een creditbestelling voor dit bedrag; dan boekt "
            "de koppeling het daarbij."
        )
    return (
        f"Bij bestelling {invoice.order_number} is meer ontvangen dan {euro(wanted)}; "
        f"de ontvangst van {euro(move.amount)} op {move.date:%d-%m-%Y} wordt niet geboekt. "
        "Boek het verschil met de hand (bijvoorbeeld als terug te betalen bedrag)."
    )


# --- cash -------------------------------------------------------------------------------


def cash_booking(
    mutation: Mutation, total: Decimal, facts: PaymentFacts, settings: MappingSettings
) -> Mutation | Waiting | Held:
    """The GeldOntvangen of a mapped order, dated and placed on the money's ledger; or
    why it waits or is held. ``facts`` of a credit note: the refunds allocated to it."""
    credit = total < ZERO
    wanted = abs(total)
    number = mutation.invoice_number
    if wanted == ZERO:
        return _paid_by_voucher(mutation, settings)
    covered = ZERO
    used: list[MoneyMovement] = []
    for move in facts.of_kind(REFUND if credit else CAPTURE):
        covered += move.amount
        used.append(move)
        if covered >= wanted:
            break
    if covered < wanted:
        what = "terugbetaald" if credit else "betaald"
        part = "nog niet" if covered == ZERO else f"pas voor {euro(covered)}"
        return Waiting(
            f"Bestelling {number} is {part} {what}; zonder factuur wordt ze "
            "geboekt zodra het geld binnen is (wacht op betaling)."
        )
    ledgers = set()
    for move in used:
        ledger = settings.payment_ledgers.get(move.method, "")
        if not ledger:
            return Held(unmapped_reason(number, move.method))
        if ledger == NOT_BOOKED:
            return Held(
                f"Bestelling {number} is betaald met {method_label(move.method)}, "
                "dat op 'niet boeken' staat; zonder factuur zou de omzet dan "
                "ontbreken. Kies bij Instellingen → Betaalmethoden een rekening, "
                "of boek met factuur en betaling."
            )
        ledgers.add(ledger)
    if len(ledgers) > 1:
        return Held(
            f"Bestelling {number} is betaald op meer dan één rekening "
            f"({', '.join(sorted(ledgers))}); één kasboeking kan dat niet. Boek "
            "met factuur en betaling, of boek deze bestelling met de hand."
        )
    return replace(mutation, date=used[-1].date, ledger=ledgers.pop())


def _paid_by_voucher(mutation: Mutation, settings: MappingSettings) -> Mutation | Held:
    """An order of € 0,00: no money comes, so nothing to wait for. Its revenue, VAT and
    the voucher's release are booked on its order date, the voucher ledger as Rekening
    (the mutation moves no money: its rows add up to zero)."""
    vouchers = {settings.line_type_ledgers.get(t, "") for t in MEANS_OF_PAYMENT} - {""}
    ledger = next((r.ledger for r in mutation.rows if r.ledger in vouchers), "")
    if ledger:
        return replace(mutation, ledger=ledger)
    return Held(
        f"Bestelling {mutation.invoice_number} heeft een totaal van € 0,00 en is niet met een "
        "cadeaubon of tegoed betaald; zonder factuur is er geen rekening om haar op te "
        "boeken. Boek haar met de hand in e-Boekhouden, of boek deze webwinkel met factuur."
    )
