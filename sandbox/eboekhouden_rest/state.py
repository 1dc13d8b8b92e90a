"""The REST simulator's administrations and e-Boekhouden's business rules (no HTTP).

The codes are e-Boekhouden's own, from the REST reference pages. The rules mirror the SOAP
simulator's (``sandbox/eboekhouden/state.py``): unique invoice numbers, known relations
and ledgers; plus what the REST pages add: ledger categories per mutation type (MUT_106),
invoice numbers on payment rows (MUT_115/MUT_120), a term of payment only on invoices
(MUT_016), and a VAT code that fits the mutation type (MUT_109).

VAT: e-Boekhouden computes each row's VAT from ``amount`` and ``vatCode`` (``inExVat`` IN:
amount × rate / (100 + rate); EX: amount × rate / 100; rounded half-up to cents, which
is our assumption); ``AFW``/``AFW_VERK`` rows take the given ``vatAmount``.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.eboekhouden.state import STANDARD_CHART

CENT = Decimal("0.01")
DEFAULT_SESSION_LIFETIME = 3600  # expiresIn, seconds (assumed; not documented)
RATES: dict[str, Decimal | None] = {
    "HOOG_VERK_21": Decimal(21), "LAAG_VERK_9": Decimal(9), "VERL_VERK": Decimal(0),
    "VERL_VERK_L9": Decimal(0), "AFW": None, "BU_EU_VERK": Decimal(0),
    "BI_EU_VERK": Decimal(0), "BI_EU_VERK_D": Decimal(0), "AFST_VERK": Decimal(0),
    "LAAG_INK_9": Decimal(9), "HOOG_INK_21": Decimal(21), "VERL_INK": Decimal(0),
    "AFW_VERK": None, "BU_EU_INK": Decimal(0), "BI_EU_INK": Decimal(0), "GEEN": Decimal(0),
}  # fmt: skip
SALES_TYPES = frozenset({2, 3, 5})  # no purchase (_INK) VAT codes
PURCHASE_TYPES = frozenset({1, 4, 6})  # no sales (_VERK) VAT codes
INVOICE_TYPES = frozenset({1, 2})
PAYMENT_TYPES = {3: 2, 4: 1}  # payment type: the invoice type it pays
RELATION_TYPES = frozenset({1, 2, 3, 4})
NO_MONEY_LEDGERS = frozenset({1, 2, 5, 6})  # row ledgers may not be FIN/CRED/DEB
MONEY_CATEGORIES = frozenset({"FIN", "CRED", "DEB"})


class ApiError(Exception):
    """An Error.md body: ``type`` validation (400) or security (401)."""

    def __init__(
        self,
        code: str,
        title: str,
        *,
        status: int = 400,
        prop: str = "",
        kind: str = "validation",
        errors: list[str] | None = None,
    ) -> None:
        super().__init__(f"{code or status}: {title}")
        self.code, self.title, self.status = code, title, status
        self.prop, self.kind, self.errors = prop, kind, errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.kind,
            "title": self.title,
            "status": self.status,
            "traceId": uuid.uuid4().hex,
        }
        if self.code:
            body["code"] = self.code
        if self.prop:
            body["propertyName"] = self.prop
        if self.errors:
            body["errors"] = self.errors
        if self.kind == "security":
            body["securityType"] = 1
        return body


def vat_for(code: str, amount: Decimal, in_ex: str, given: Decimal | None) -> Decimal:
    rate = RATES.get(code)
    if rate is None:
        return given if given is not None else Decimal(0)
    base = Decimal(100) + rate if in_ex == "IN" else Decimal(100)
    vat = (amount * rate / base).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(vat) if vat == 0 else vat


@dataclass
class Administration:
    token: str
    name: str
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    token_expired: bool = False
    ledgers: dict[int, dict[str, Any]] = field(default_factory=dict)
    relations: dict[int, dict[str, Any]] = field(default_factory=dict)
    mutations: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)

    def relation_by_code(self, code: str) -> dict[str, Any] | None:
        wanted = code.strip().casefold()
        return next((r for r in self.relations.values() if r["code"].casefold() == wanted), None)


@dataclass
class Session:
    token: str
    admin: str
    expires_at: float


class Books:
    """All administrations and sessions. Not thread-safe: the app holds one lock."""

    def __init__(self, clock: Callable[[], float], lifetime: int) -> None:
        self.clock, self.lifetime = clock, lifetime
        self.administrations: dict[str, Administration] = {}
        self.sessions: dict[str, Session] = {}
        self._next_id = 1

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_administration(self, token: str, name: str) -> Administration:
        admin = Administration(token, name)
        self.administrations[token] = admin
        self.seed(admin)
        return admin

    def seed(self, admin: Administration) -> None:
        admin.ledgers.clear()
        for code, description, category, group in STANDARD_CHART:
            self.add_ledger(admin, code, description, category, group)

    def add_ledger(
        self, admin: Administration, code: str, description: str, category: str, group: str = ""
    ) -> int:
        ledger_id = self.next_id()
        admin.ledgers[ledger_id] = {
            "id": ledger_id,
            "code": code,
            "description": description,
            "category": category,
            "group": group,
        }
        return ledger_id

    def reset(self) -> None:
        for admin in self.administrations.values():
            admin.relations.clear()
            admin.mutations.clear()
            admin.calls.clear()
            admin.sources.clear()
            admin.token_expired = False
            self.seed(admin)
        self.sessions.clear()

    # -- sessions ----------------------------------------------------------------------

    def open_session(self, access_token: str, source: str) -> dict[str, Any]:
        admin = self.administrations.get(access_token)
        if admin is None:
            raise ApiError("", "Unauthorized.", status=401, kind="security")
        if admin.token_expired:
            raise ApiError(
                "API_SESSION_004",
                "Access token has expired.",
                status=401,
                kind="security",
                prop="accessToken",
            )
        admin.calls["session"] += 1
        admin.sources[source] += 1
        session = Session(
            uuid.uuid4().hex + uuid.uuid4().hex, admin.token, self.clock() + self.lifetime
        )
        self.sessions[session.token] = session
        return {"token": session.token, "expiresIn": self.lifetime}

    def resolve(self, authorization: str | None, operation: str) -> Administration:
        token = (authorization or "").removeprefix("Bearer ").strip()
        session = self.sessions.get(token)
        if session is None:
            raise ApiError("", "Unauthorized.", status=401, kind="security")
        if self.clock() >= session.expires_at:
            del self.sessions[token]
            raise ApiError(
                "API_SESSION_004", "Access token has expired.", status=401, kind="security"
            )
        admin = self.administrations[session.admin]
        admin.calls[operation] += 1
        return admin

    def end_session(self, authorization: str | None) -> None:
        token = (authorization or "").removeprefix("Bearer ").strip()
        session = self.sessions.pop(token, None)
        if session is not None:
            self.administrations[session.admin].calls["end_session"] += 1

    def expire_sessions(self, token: str | None = None) -> int:
        doomed = [s.token for s in self.sessions.values() if token in (None, s.admin)]
        for key in doomed:
            del self.sessions[key]
        return len(doomed)

    # -- mutations ---------------------------------------------------------------------

    def create_mutation(self, admin: Administration, body: dict[str, Any]) -> int:
        kind, in_ex = body["type"], body["inExVat"]
        invoice = (body.get("invoiceNumber") or "").strip()
        if kind in INVOICE_TYPES or kind in PAYMENT_TYPES:
            if not invoice:
                raise ApiError("MUT_002", "Invoice number is missing.", prop="invoiceNumber")
            if body.get("relationId") is None:
                raise ApiError("MUT_012", "Relation is missing.", prop="relationId")
        if body.get("relationId") is not None and body["relationId"] not in admin.relations:
            raise ApiError("MUT_013", "Relation not found.", prop="relationId")
        if body["ledgerId"] not in admin.ledgers:
            raise ApiError("MUT_007", "Unknown ledger for mutation.", prop="ledgerId")
        if body.get("termOfPayment") is not None and kind not in INVOICE_TYPES:
            raise ApiError("MUT_016", "Term of payment is prohibited.", prop="termOfPayment")
        if kind in INVOICE_TYPES and any(
            m["type"] == kind and m["invoiceNumber"].casefold() == invoice.casefold()
            for m in admin.mutations
        ):
            raise ApiError("MUT_019", "Invoice number already exists.", prop="invoiceNumber")
        rows = [self._row(admin, kind, in_ex, n, row) for n, row in enumerate(body["rows"])]
        stored = copy.deepcopy(body)
        stored.update(id=self.next_id(), invoiceNumber=invoice, rows=rows)
        vat: dict[str, Decimal] = {}
        for row in rows:
            vat[row["vatCode"]] = vat.get(row["vatCode"], Decimal(0)) + row["vatAmount"]
        stored["vat"] = [{"vatCode": code, "amount": amount} for code, amount in vat.items()]
        admin.mutations.append(stored)
        return int(stored["id"])

    def _row(
        self, admin: Administration, kind: int, in_ex: str, number: int, row: dict[str, Any]
    ) -> dict[str, Any]:
        prop = f"rows[{number}]"
        code = row["vatCode"]
        if (kind in SALES_TYPES and "_INK" in code) or (kind in PURCHASE_TYPES and "_VERK" in code):
            raise ApiError("MUT_109", "Invalid VAT code.", prop=f"{prop}.vatCode")
        given = row.get("vatAmount")
        if given is not None and RATES.get(code, 0) is not None:
            raise ApiError(
                "",
                "vatAmount can only be used with vatCode AFW_VERK or AFW.",
                prop=f"{prop}.vatAmount",
            )
        ledger_id = row.get("ledgerId")
        if ledger_id is None:
            raise ApiError("MUTA_004", "Ledger ID for row is missing.", prop=f"{prop}.ledgerId")
        ledger = admin.ledgers.get(ledger_id)
        if ledger is None:
            raise ApiError("MUT_104", "Unknown ledger for row.", prop=f"{prop}.ledgerId")
        if kind in NO_MONEY_LEDGERS and ledger["category"] in MONEY_CATEGORIES:
            raise ApiError("MUT_106", "Invalid ledger category for row.", prop=f"{prop}.ledgerId")
        if row.get("relationId") is not None and row["relationId"] not in admin.relations:
            raise ApiError("MUT_113", "Relation not found.", prop=f"{prop}.relationId")
        if kind in PAYMENT_TYPES:
            invoice = (row.get("invoiceNumber") or "").strip()
            if not invoice:
                raise ApiError(
                    "MUT_120", "Invoice number is missing.", prop=f"{prop}.invoiceNumber"
                )
            if not any(
                m["type"] == PAYMENT_TYPES[kind]
                and m["invoiceNumber"].casefold() == invoice.casefold()
                for m in admin.mutations
            ):
                raise ApiError("MUT_115", "Invoice not found.", prop=f"{prop}.invoiceNumber")
        amount = Decimal(str(row["amount"]))
        vat = vat_for(code, amount, in_ex, None if given is None else Decimal(str(given)))
        return {**row, "amount": amount, "vatAmount": vat}

    # -- by hand (a person in e-Boekhouden's own screens; test helpers) ----------------

    @staticmethod
    def mutation(admin: Administration, mutation_id: int) -> dict[str, Any]:
        for mutation in admin.mutations:
            if mutation["id"] == mutation_id:
                return mutation
        raise KeyError(f"no mutation {mutation_id}")

    def change_mutation(
        self,
        admin: Administration,
        mutation_id: int,
        *,
        row: int = 0,
        amount: Decimal | None = None,
        vat_code: str | None = None,
        ledger_code: str | None = None,
        date: str | None = None,
    ) -> dict[str, Any]:
        """Change one row's amount, VAT code or ledger (its VAT computed again, and the
        mutation's VAT totals), or the mutation's date."""
        mutation = self.mutation(admin, mutation_id)
        line = mutation["rows"][row]
        if ledger_code is not None:
            found = [i for i, g in admin.ledgers.items() if g["code"] == ledger_code]
            if not found:
                raise ApiError("MUT_104", "Unknown ledger for row.")
            line["ledgerId"] = found[0]
        if vat_code is not None:
            if vat_code not in RATES:
                raise ApiError("MUT_109", "Invalid VAT code.")
            line["vatCode"] = vat_code
        if amount is not None:
            line["amount"] = Decimal(amount)
        line["vatAmount"] = vat_for(line["vatCode"], line["amount"], mutation["inExVat"], None)
        vat: dict[str, Decimal] = {}
        for each in mutation["rows"]:
            vat[each["vatCode"]] = vat.get(each["vatCode"], Decimal(0)) + each["vatAmount"]
        mutation["vat"] = [{"vatCode": code, "amount": total} for code, total in vat.items()]
        if date is not None:
            mutation["date"] = date
        return mutation

    @staticmethod
    def total(mutation: dict[str, Any]) -> Decimal:
        """The mutation's amount incl. VAT (MutationListItem.amount)."""
        rows = mutation["rows"]
        if mutation["inExVat"] == "IN":
            return sum((r["amount"] for r in rows), Decimal(0))
        return sum((r["amount"] + r["vatAmount"] for r in rows), Decimal(0))

    # -- relations ---------------------------------------------------------------------

    def create_relation(self, admin: Administration, body: dict[str, Any]) -> dict[str, Any]:
        code = (body.get("code") or "").strip()
        if code and admin.relation_by_code(code) is not None:
            raise ApiError("REL_049", "Code already exists.", prop="code")
        relation_id = self.next_id()
        code = code or f"REL{relation_id}"
        stored = {k: v for k, v in body.items() if v is not None}
        stored.update(id=relation_id, code=code, type=body.get("type") or "B")
        admin.relations[relation_id] = stored
        return {"id": relation_id, "code": code}

    def update_relation(
        self, admin: Administration, relation_id: int, body: dict[str, Any]
    ) -> None:
        current = admin.relations.get(relation_id)
        if current is None:
            raise ApiError("", "Relation not found.", status=404)
        code = (body.get("code") or "").strip()
        other = admin.relation_by_code(code) if code else None
        if other is not None and other["id"] != relation_id:
            raise ApiError("REL_049", "Code already exists.", prop="code")
        current.update({k: v for k, v in body.items() if v is not None})
