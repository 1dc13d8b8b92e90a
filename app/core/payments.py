"""PURE: payment facts from Mijnwebwinkel + a booked invoice → the payments to book.

No I/O. The facts (``app.core.payment_facts``) come from the payments listing
(``GET /orders/{n}/payments``) or, when that is empty or not offered, from the order's
deprecated ``payment_status`` / ``payment`` fields. The listing wins whenever it has a
capture or a refund: it has dates and amounts, the deprecated fields have neither.

Rules (docs/booking-rules.md, "Payments"):
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
from decimal import Decimal

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
POST, HELD, NOT_BOOKED_STATE = "post", "held", "not_booked"


@dataclass(frozen=True, slots=True)
class PlannedPayment:
    """One payment of one order, as the payments register records it."""

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


# --- invoice and payment ----------------------------------------------------------------


def plan_payments(
    order_number: str,
    total: Decimal,
    relation_code: str,
    facts: PaymentFacts,
    settings: MappingSettings,
) -> PaymentPlan:
    """The payments of a booked invoice (``total`` > 0) or credit note (``total`` < 0)."""
    credit = total < ZERO
    wanted = abs(total)
    planned: list[PlannedPayment] = []
    covered = ZERO
    for move in facts.of_kind(REFUND if credit else CAPTURE):
        sign = Decimal(-1) if credit else Decimal(1)
        if covered + move.amount > wanted:
            planned.append(
                PlannedPayment(
                    move.key,
                    move.kind,
                    move.date,
                    sign * move.amount,
                    move.method,
                    "",
                    HELD,
                    reason=_too_much(order_number, move, wanted, credit),
                )
            )
            continue
        covered += move.amount
        planned.append(_planned(order_number, relation_code, move, sign, settings))
    return PaymentPlan(tuple(planned), wanted - covered)


def _planned(
    order_number: str,
    relation_code: str,
    move: MoneyMovement,
    sign: Decimal,
    settings: MappingSettings,
) -> PlannedPayment:
    amount = sign * move.amount
    ledger = settings.payment_ledgers.get(move.method, "")
    if ledger == NOT_BOOKED:
        return PlannedPayment(
            move.key,
            move.kind,
            move.date,
            amount,
            move.method,
            "",
            NOT_BOOKED_STATE,
            reason=(f"Betaalmethode {method_label(move.method)} staat op 'niet boeken'."),
        )
    if not ledger:
        return PlannedPayment(
            move.key,
            move.kind,
            move.date,
            amount,
            move.method,
            "",
            HELD,
            reason=unmapped_reason(order_number, move.method),
        )
    what = "Terugbetaling creditnota" if sign < ZERO else "Betaling bestelling"
    description = f"{what} {order_number} ({method_label(move.method)})"[:MAX_DESCRIPTION]
    row = MutationRow(amount, amount, ZERO, "GEEN", ZERO, settings.debtors_ledger)
    mutation = Mutation(
        Soort.FACTUURBETALING_ONTVANGEN,
        move.date,
        ledger,
        order_number,
        description,
        (row,),
        relation_code=relation_code,
    )
    return PlannedPayment(
        move.key, move.kind, move.date, amount, move.method, ledger, POST, mutation=mutation
    )


def unmapped_reason(order_number: str, method: str) -> str:
    return (
        f"De betaling van bestelling {order_number} is gedaan met "
        f"{method_label(method)}, en die betaalmethode heeft geen grootboekrekening. "
        "Kies bij Instellingen → Betaalmethoden een rekening (bank, tussenrekening "
        "van de betaalprovider, kas) of 'niet boeken'."
    )


def _too_much(order_number: str, move: MoneyMovement, wanted: Decimal, credit: bool) -> str:
    what = "terugbetaald" if credit else "ontvangen"
    return (
        f"Bij bestelling {order_number} is meer {what} dan {euro(wanted)}; "
        f"de {'terugbetaling' if move.kind == REFUND else 'ontvangst'} van "
        f"{euro(move.amount)} op {move.date:%d-%m-%Y} wordt niet "
        "geboekt. Boek het verschil met de hand."
    )


# --- cash -------------------------------------------------------------------------------


def cash_booking(
    mutation: Mutation, total: Decimal, facts: PaymentFacts, settings: MappingSettings
) -> Mutation | Waiting | Held:
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
