"""What one booking's page shows: the booking, where to fix a failure, its payments, the
rows it was booked with (grouped per mutation, with totals and ledger names) and every
attempt; and its status for the page's script (which reloads once it changes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import url_for

from app.states import BookingState, PaymentState, ShopStatus
from app.store.booking_records import BookingRecord
from app.store.history_records import BookedRow
from app.store.shops import Shop
from app.web.common import services
from app.web.ledgers import ledger_names

ZERO = Decimal("0")
# Failures by their error code: which page fixes them (endpoint, anchor, link text).
CREDENTIALS = ("shops.credentials", "", "Naar Gegevens")
FIXES = {
    "mapping": ("mapping.edit", "regels", "Naar Instellingen"),
    "payment_method": ("mapping.edit", "betaalmethoden", "Naar Betaalmethoden"),
    "foreign_invoice": ("mapping.edit", "boeken", "Naar Instellingen (factuurnummer)"),
    "GROOTBOEK_ONBEKEND": ("mapping.edit", "regels", "Naar Instellingen"),
    "BTWCODE_ONGELDIG": ("mapping.edit", "regels", "Naar Instellingen"),
    "ledger_unknown": ("mapping.edit", "regels", "Naar Instellingen"),
    "vat_code_unsupported": ("mapping.edit", "regels", "Naar Instellingen"),
    "MUT_007": ("mapping.edit", "regels", "Naar Instellingen"),
    "MUT_104": ("mapping.edit", "regels", "Naar Instellingen"),
    "MUT_106": ("mapping.edit", "regels", "Naar Instellingen"),
    "MUT_109": ("mapping.edit", "regels", "Naar Instellingen"),
    "INLOG_ONGELDIG": CREDENTIALS,
    "BEVEILIGINGSCODE_ONGELDIG": CREDENTIALS,
    "API_SESSION_003": CREDENTIALS,
    "API_SESSION_004": CREDENTIALS,
    "http_401": CREDENTIALS,
    "http_403": CREDENTIALS,
    "credentials_refused": CREDENTIALS,  # held while the shop's credentials are refused
}
WAITING = (BookingState.POSTING, BookingState.RETRYING)
# No live call for ledger names with credentials that are refused or erased: codes alone.
NO_CHART = (ShopStatus.AUTH_FAILED, ShopStatus.REMOVED)
PAYMENT_WAITING = (PaymentState.PENDING, PaymentState.POSTING, PaymentState.RETRYING)


@dataclass
class Mutation:
    """The rows of one mutation as booked, with their totals."""

    soort: str
    date: Any
    number: int | None
    invoice_number: str
    rows: list[BookedRow] = field(default_factory=list)

    @property
    def excl(self) -> Decimal:
        return sum((r.excl for r in self.rows), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((r.vat for r in self.rows), ZERO)

    @property
    def incl(self) -> Decimal:
        return sum((r.incl for r in self.rows), ZERO)


def mutations_of(rows: list[BookedRow]) -> list[Mutation]:
    grouped: dict[tuple[str, int | None], Mutation] = {}
    for row in rows:
        key = (row.soort, row.mutation_number)
        if key not in grouped:
            grouped[key] = Mutation(row.soort, row.date, row.mutation_number, row.invoice_number)
        grouped[key].rows.append(row)
    return list(grouped.values())


def fix_for(shop: Shop, row: BookingRecord) -> tuple[str, str] | None:
    """(url, link text) of the page where this failure is fixed, if there is one."""
    fix = FIXES.get(row.error_code or "")
    if fix is None:
        return None
    endpoint, anchor, text = fix
    return url_for(endpoint, shop_id=shop.id, _anchor=anchor or None), text


def booking_context(shop: Shop, row: BookingRecord) -> dict[str, Any]:
    store = services().store
    booked_rows = store.history.rows(row.id)
    payments = store.payments.for_order(shop.id, row.order_number)
    ledgers = {r.ledger for r in booked_rows} | {p.ledger for p in payments if p.ledger}
    return {
        "shop": shop,
        "row": row,
        "invoice_number": row.invoice_number
        or (booked_rows[0].invoice_number if booked_rows else ""),
        "payments": payments,
        "mutations": mutations_of(booked_rows),
        "attempts": store.history.attempts(row.id),
        "fix": fix_for(shop, row) if row.state == BookingState.FAILED else None,
        "names": ledger_names(shop) if ledgers and shop.status not in NO_CHART else {},
        "waiting": is_waiting(row, payments),
        "status": _status(row, payments),
    }


def is_waiting(row: BookingRecord, payments: list[Any]) -> bool:
    """Will this booking change without a person acting (a worker is at it)?"""
    return row.state in WAITING or any(p.state in PAYMENT_WAITING for p in payments)


def status_of(shop: Shop, row: BookingRecord) -> dict[str, Any]:
    return _status(row, services().store.payments.for_order(shop.id, row.order_number))


def _status(row: BookingRecord, payments: list[Any]) -> dict[str, Any]:
    return {
        "state": str(row.state),
        "payment_state": row.payment_state or "",
        "payments": [str(p.state) for p in payments],
        "waiting": is_waiting(row, payments),
    }
