"""The connector's booking types ↔ e-Boekhouden REST JSON (pure: no I/O).

- ``Soort`` → ``type`` 1..7 (MutationType.md, NOTES.md §4.3) and back, so a
  ``BookedMutation`` found over REST carries the same ``soort`` as one found over SOAP.
- VAT codes: the REST enum (VatCode.md) has only the 16 current codes. The legacy
  ``LAAG_VERK`` (9 % since 2019) is sent as ``LAAG_VERK_9``; ``HOOG_VERK`` (19 %, before
  October 2012) has no REST code and is refused before anything is sent.
- VAT: REST takes one ``amount`` per row (incl. VAT, ``inExVat`` IN) and computes the VAT
  itself from the code; only ``AFW``/``AFW_VERK`` take our ``vatAmount``. ``expected_vat``
  is that computation (rounding half-up is an assumption; for 21 % and 9 % no amount in
  whole cents lands exactly on half a cent, so the rounding mode cannot matter there).
  ``mutation_body`` refuses a row whose VAT e-Boekhouden would compute differently from the
  order's, so the booking's VAT per rate always equals the order's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.core.mutations import (
    CENT,
    Administration,
    BookedMutation,
    BookRow,
    ExistingRelation,
    LedgerAccount,
    Mutation,
    MutationRow,
    Relation,
    Soort,
)

# MutationType.md: 1..7; SOAP names per NOTES.md §4.3.
SOORT_BY_TYPE: dict[int, str] = {
    1: "FactuurOntvangen",
    2: "FactuurVerstuurd",
    3: "FactuurbetalingOntvangen",
    4: "FactuurbetalingVerstuurd",
    5: "GeldOntvangen",
    6: "GeldUitgegeven",
    7: "Memoriaal",
}
TYPE_BY_SOORT: dict[str, int] = {soort: number for number, soort in SOORT_BY_TYPE.items()}
PAYMENT_TYPES = frozenset({3, 4})  # rows need invoiceNumber (MUT_120)
TERM_TYPES = frozenset({1, 2})  # termOfPayment only on invoices (else MUT_016, assumed)

# VatCode.md, with the rate e-Boekhouden applies to the row amount (None: vatAmount given).
VAT_RATES: dict[str, Decimal | None] = {
    "HOOG_VERK_21": Decimal(21), "LAAG_VERK_9": Decimal(9), "VERL_VERK": Decimal(0),
    "VERL_VERK_L9": Decimal(0), "AFW": None, "BU_EU_VERK": Decimal(0),
    "BI_EU_VERK": Decimal(0), "BI_EU_VERK_D": Decimal(0), "AFST_VERK": Decimal(0),
    "LAAG_INK_9": Decimal(9), "HOOG_INK_21": Decimal(21), "VERL_INK": Decimal(0),
    "AFW_VERK": None, "BU_EU_INK": Decimal(0), "BI_EU_INK": Decimal(0), "GEEN": Decimal(0),
}  # fmt: skip
VAT_CODES: tuple[str, ...] = tuple(VAT_RATES)
LEGACY_VAT_CODES: dict[str, tuple[str, dt.date]] = {
    # SOAP code: (REST code, first date it means the same)
    "LAAG_VERK": ("LAAG_VERK_9", dt.date(2019, 1, 1)),
}


class UnsupportedVatCode(ValueError):
    """A SOAP-era BTW code with no REST equivalent on this date."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class VatMismatch(ValueError):
    """e-Boekhouden would compute another VAT amount for this row than the order has."""

    def __init__(self, row: MutationRow, theirs: Decimal) -> None:
        super().__init__(f"row {row.btw_code} {row.amount_incl}: {theirs} != {row.amount_vat}")
        self.row = row
        self.theirs = theirs


def rest_vat_code(code: str, date: dt.date) -> str:
    if code in VAT_RATES:
        return code
    legacy = LEGACY_VAT_CODES.get(code)
    if legacy is not None and date >= legacy[1]:
        return legacy[0]
    raise UnsupportedVatCode(code)


def expected_vat(code: str, amount: Decimal, in_ex: str = "IN") -> Decimal | None:
    """The VAT e-Boekhouden computes for a row (None: the row's ``vatAmount`` is used)."""
    rate = VAT_RATES.get(code)
    if rate is None:
        return None
    base = Decimal(100) + rate if in_ex == "IN" else Decimal(100)
    vat = (amount * rate / base).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(vat) if vat == 0 else vat


def _number(value: Decimal) -> float:
    """A JSON number with at most two decimals (the spec types amounts as f64)."""
    return float(value.quantize(CENT))


def mutation_body(
    mutation: Mutation, ledger_id: Callable[[str], int], relation_id: int | None
) -> dict[str, Any]:
    """CreateMutation JSON. ``ledger_id`` translates a ledger code (may raise)."""
    number = TYPE_BY_SOORT[Soort(mutation.soort).value]
    rows = []
    for row in mutation.rows:
        code = rest_vat_code(row.btw_code, mutation.date)
        theirs = expected_vat(code, row.amount_incl, mutation.in_ex_btw)
        if theirs is not None and theirs != row.amount_vat:
            raise VatMismatch(row, theirs)
        item: dict[str, Any] = {
            "ledgerId": ledger_id(row.ledger),
            "vatCode": code,
            "amount": _number(row.amount_incl if mutation.in_ex_btw == "IN" else row.amount_excl),
            "description": mutation.description,
        }
        if theirs is None:
            item["vatAmount"] = _number(row.amount_vat)
        if number in PAYMENT_TYPES:
            item["invoiceNumber"] = mutation.invoice_number
            if relation_id is not None:
                item["relationId"] = relation_id
        rows.append(item)
    body: dict[str, Any] = {
        "type": number,
        "date": mutation.date.isoformat(),
        "ledgerId": ledger_id(mutation.ledger),
        "invoiceNumber": mutation.invoice_number,
        "entryNumber": mutation.invoice_number,
        "inExVat": mutation.in_ex_btw,
        "description": mutation.description,
        "rows": rows,
    }
    if relation_id is not None:
        body["relationId"] = relation_id
    if mutation.payment_term_days is not None and number in TERM_TYPES:
        body["termOfPayment"] = mutation.payment_term_days
    return body


def relation_body(relation: Relation) -> dict[str, Any]:
    """CreateRelation / PatchRelation JSON (empty optional fields are left out)."""
    body: dict[str, Any] = {"type": relation.bp, "code": relation.code, "name": relation.name}
    optional = {
        "contact": relation.contact,
        "address": relation.address,
        "postalCode": relation.postcode,
        "city": relation.city,
        "country": relation.country,
        "emailAddress": relation.email,
        "phoneNumber": relation.phone,
        "vatNumber": relation.vat_number,
    }
    body.update({k: v for k, v in optional.items() if v})
    return body


def _decimal(value: Any) -> Decimal:
    if value is None or isinstance(value, bool):
        return Decimal(0)
    return Decimal(str(value))


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def booked_mutation(
    item: Mapping[str, Any],
    *,
    relation_code: str = "",
    ledger_code: Callable[[int], str] | None = None,
) -> BookedMutation:
    """A Mutation (GET /v1/mutation/{id}) or MutationListItem, shaped like SOAP's: ``soort``
    by name, ``relation_code`` (the caller translates ``relationId``), and per row the
    ledger **code**, the VAT code and the amount incl. VAT. ``total`` is the rows' sum
    incl. VAT when rows came, else the list item's ``amount``."""
    number = item.get("type")
    in_ex = str(item.get("inExVat") or "IN").upper()
    rows, lines = [], []
    for row in item.get("rows") or []:
        if not isinstance(row, Mapping):
            continue
        code = str(row.get("vatCode") or "").strip()
        amount = _decimal(row.get("amount"))
        given = row.get("vatAmount")
        vat = _decimal(given) if given is not None else expected_vat(code, amount, in_ex)
        vat = vat or Decimal(0)
        incl = amount + vat if in_ex != "IN" else amount  # EX: amount excludes VAT
        ledger_id = row.get("ledgerId")
        ledger = (ledger_code(int(ledger_id)) if ledger_code and ledger_id else "").strip()
        rows.append((ledger, code, incl.quantize(CENT)))
        lines.append(BookRow(ledger, code, (incl - vat).quantize(CENT), vat, incl.quantize(CENT)))
    total = (
        sum((amount for _, _, amount in rows), Decimal(0)) if rows else _decimal(item.get("amount"))
    )
    main = item.get("ledgerId")
    ledger = ledger_code(int(main)) if ledger_code and main else ""
    return BookedMutation(
        number=int(item.get("id") or 0),
        soort=SOORT_BY_TYPE.get(number, str(number or "")) if isinstance(number, int) else "",
        date=_date(item.get("date")),
        invoice_number=str(item.get("invoiceNumber") or ""),
        total=total,
        relation_code=relation_code.strip(),
        rows=tuple(rows),
        ledger=ledger.strip(),
        lines=tuple(lines),
    )


def existing_relation(item: Mapping[str, Any], *, email: str = "") -> ExistingRelation:
    """A Relation or RelationListItem (list items carry no name or e-mail)."""
    return ExistingRelation(
        id=int(item.get("id") or 0),
        code=str(item.get("code") or ""),
        name=str(item.get("name") or ""),
        email=str(item.get("emailAddress") or email),
        vat_number=str(item.get("vatNumber") or ""),
    )


# cRelatie's field names (app.core.relations speaks them for both adapters) → PatchRelation.
PATCH_FIELDS = {"BTWNummer": "vatNumber", "Bedrijf": "name", "BP": "type"}


def relation_patch(existing: ExistingRelation, changes: Mapping[str, str]) -> dict[str, Any]:
    """PatchRelation JSON: the changed fields; ``name`` is required, so the current one
    is sent when it does not change."""
    body: dict[str, Any] = {"name": existing.name}
    for key, value in changes.items():
        if key in PATCH_FIELDS:
            body[PATCH_FIELDS[key]] = value
    return body


def ledger_account(item: Mapping[str, Any]) -> LedgerAccount:
    return LedgerAccount(
        id=int(item.get("id") or 0),
        code=str(item.get("code") or ""),
        description=str(item.get("description") or ""),
        category=str(item.get("category") or ""),
    )


def administration(item: Mapping[str, Any]) -> Administration:
    return Administration(name=str(item.get("company") or ""), guid=str(item.get("guid") or ""))
