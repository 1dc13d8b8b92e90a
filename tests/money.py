"""Shared by the money tests (issue 23), not fixtures themselves: a shop (or two on one
e-Boekhouden administration) on either adapter, order builders, and one view of the
simulator's books, whichever adapter wrote them.

``money_world`` yields a ``Money``: the usual ``World`` (tests/helpers.py), on SOAP or
switched to REST (as "Gegevens" does with an API token), with a gift-card ledger
("Uitstaande cadeaubonnen", 1610) added to the administration's chart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app.clients.eboekhouden_rest import clear_caches
from app.core.mapping_settings import MappingSettings
from app.services import real_bookkeeping_factory
from app.states import ShopStatus
from app.store.shops import Credentials, Shop
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.order_factory import make_order, summarise, tax_price
from sandbox.server import ServerThread
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, Backend, World, make_world

API_TOKEN = "rest-api-token-money-0123456789abcdef"
SECOND_TOKEN = "shop-token-second-0987654321"
VOUCHER = "1610"  # "Uitstaande cadeaubonnen": a balance-sheet ledger the shop made
BANK, PSP = "1100", "1010"
LEDGERS = {"ideal": PSP, "in_arrears": BANK, "bank_transfer": BANK, "cash": "1000"}
PAYMENT = "FactuurbetalingOntvangen"


@dataclass(frozen=True)
class Booked:
    """A mutation in the simulator's books, the same shape for SOAP and REST."""

    number: int
    soort: str
    date: dt.date
    ledger: str  # Rekening
    invoice_number: str
    relation_code: str
    total: Decimal
    rows: tuple[tuple[str, str, Decimal], ...]  # (ledger, BTW code, amount incl.)
    vat: Decimal = Decimal(0)  # the VAT of all rows


@dataclass
class Money:
    world: World
    adapter: str  # "soap" | "rest"
    rest: EBoekhoudenRestSimulator | None = None

    @property
    def services(self) -> Any:
        return self.world.services

    @property
    def shop(self) -> Shop:
        return self.world.shop

    @property
    def faults(self) -> Any:
        return self.rest.faults if self.rest is not None else self.world.eb.faults

    def lookups(self) -> int:
        """Look-ups by Factuurnummer so far (GetMutaties; REST: the mutation list)."""
        if self.rest is not None:
            return int(self.rest.calls["get_mutations"])
        return int(self.world.eb.calls["GetMutaties"])

    @property
    def add_operation(self) -> str:
        return "create_mutation" if self.rest is not None else "AddMutatie"

    def books(self) -> list[Booked]:
        if self.rest is None:
            return [_soap(m) for m in self.world.eb.mutations(EB_USER)]
        codes = {r["id"]: r["code"] for r in self.rest.relations(API_TOKEN)}
        return [_rest(m, codes) for m in self.rest.mutations(API_TOKEN)]

    def payments(self, invoice_number: str | None = None) -> list[Booked]:
        return [
            b
            for b in self.books()
            if b.soort == PAYMENT and invoice_number in (None, b.invoice_number)
        ]

    def invoices(self, invoice_number: str | None = None) -> list[Booked]:
        return [
            b
            for b in self.books()
            if b.soort != PAYMENT and invoice_number in (None, b.invoice_number)
        ]

    def add_ledger(self, code: str, description: str, category: str) -> None:
        if self.rest is None:
            self.world.eb.books.admin(EB_USER).add_ledger(code, description, category)
        else:
            books = self.rest.books
            books.add_ledger(books.administrations[API_TOKEN], code, description, category)

    def configure(self, shop: Shop, **changes: Any) -> Shop:
        base = MappingSettings(payment_ledgers=dict(LEDGERS))
        mapping = dataclasses.replace(base, **changes)
        self.services.store.shops.save_mapping(shop.id, mapping)
        loaded = self.services.load_shop(shop.id)
        assert loaded is not None
        if shop.id == self.world.shop.id:
            self.world.shop = loaded
        return loaded

    def second_shop(self) -> Shop:
        """Another webshop (its own Mijnwebwinkel token) on the same administration."""
        self.world.mww.add_shop(SECOND_TOKEN, name="Tweede winkel")
        token = API_TOKEN if self.rest is not None else None
        shop_id, _ = self.services.store.shops.register(
            name="Tweede winkel",
            status=ShopStatus.ACTIVE,
            credentials=Credentials(SECOND_TOKEN, EB_USER, EB_CODE1, EB_CODE2, token),
        )
        shop = self.services.load_shop(shop_id)
        assert shop is not None
        return shop

    def sim(self, shop: Shop) -> Any:
        """The shop's side in the Mijnwebwinkel simulator."""
        return self.world.mww.shop(shop.credentials.mww_token)

    def run_jobs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(worker.jobs, "runtime_services", lambda: self.services)
        SimpleWorker(
            [self.services.queue], connection=self.services.redis, serializer=JSONSerializer
        ).work(burst=True)


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value))


def _soap(m: dict[str, Any]) -> Booked:
    rows = tuple(
        (r["TegenrekeningCode"], r["BTWCode"], Decimal(str(r["BedragInclBTW"])))
        for r in m["MutatieRegels"]
    )
    return Booked(
        int(m["MutatieNr"]),
        m["Soort"],
        _day(m["Datum"]),
        m["Rekening"],
        m.get("Factuurnummer") or "",
        m.get("RelatieCode") or "",
        sum((r[2] for r in rows), Decimal(0)),
        rows,
        sum((Decimal(str(r["BedragBTW"])) for r in m["MutatieRegels"]), Decimal(0)),
    )


REST_SOORT = {2: "FactuurVerstuurd", 3: PAYMENT, 5: "GeldOntvangen"}


def _rest(m: dict[str, Any], codes: dict[int, str]) -> Booked:
    rows = tuple(
        (r["ledgerCode"], r["vatCode"], Decimal(str(r["amount"]))) for r in m["rows"]
    )  # inExVat is IN: amounts include VAT
    return Booked(
        int(m["id"]),
        REST_SOORT.get(m["type"], str(m["type"])),
        _day(m["date"]),
        m["ledgerCode"],
        m.get("invoiceNumber") or "",
        codes.get(m.get("relationId") or 0, ""),
        sum((r[2] for r in rows), Decimal(0)),
        rows,
        sum((Decimal(str(r["vatAmount"])) for r in m["rows"]), Decimal(0)),
    )


@pytest.fixture(scope="session")
def money_rest_server() -> Iterator[tuple[EBoekhoudenRestSimulator, ServerThread]]:
    sim = EBoekhoudenRestSimulator()
    sim.add_administration(API_TOKEN, name="Testwinkel BV")
    with ServerThread(sim) as server:
        yield sim, server


def open_money(
    request: pytest.FixtureRequest,
    backend: Backend,
    mww_server: Any,
    eb_server: Any,
    adapter: str | None = None,
) -> Iterator[Money]:
    """The body of a ``money`` fixture: ``adapter`` "soap" or "rest" (default: the
    fixture's parameter)."""
    adapter = adapter or request.param
    for world in make_world(backend, mww_server, eb_server):
        rest = None
        if adapter == "rest":
            rest, thread = request.getfixturevalue("money_rest_server")
            rest.reset()
            rest.faults.clear()
            clear_caches()
            settings = dataclasses.replace(world.settings, eboekhouden_rest_url=thread.url)
            world.services.bookkeeping_factory = real_bookkeeping_factory(
                settings, world.services.redis
            )
            creds = world.shop.credentials
            world.services.store.shops.update_connection(
                world.shop.id,
                name=world.shop.name,
                credentials=Credentials(
                    creds.mww_token, creds.eb_username, creds.eb_code1, creds.eb_code2, API_TOKEN
                ),
            )
            world.reload_shop()
        money = Money(world, adapter, rest)
        money.add_ledger(VOUCHER, "Uitstaande cadeaubonnen", "BAL")
        yield money
        clear_caches()


# --- orders ------------------------------------------------------------------------------


def article(incl: str, rate: str = "21", description: str = "Theepot") -> dict[str, Any]:
    return line("article", incl, rate, description)


def line(kind: str, incl: str, rate: str, description: str = "") -> dict[str, Any]:
    return {
        "id": f"{kind}-{incl}-{rate}-{description}",
        "type": kind,
        "quantity": 1,
        "description": description or kind,
        "price": tax_price(Decimal(incl), Decimal(rate)),
    }


def priced(order: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    tax, total = summarise(lines)
    order["orderlines"] = lines
    order["price"] = {"tax": tax, "total": total}
    return order


def sale(
    number: int,
    lines: list[dict[str, Any]],
    *,
    day: dt.date,
    method: str = "in_arrears",
    paid: bool = False,
    seed: str = "money",
    kind: str = "domestic",
    status: int = 2,
) -> dict[str, Any]:
    """A sale with these lines; ``paid``: captured at checkout (else "op rekening")."""
    order = make_order(number, kind=kind, status=status, date=day, seed=seed)
    priced(order, lines)
    order["payment"] = {
        "gateway_name": "basic",
        "method_name": method,
        "status": {"id": 1 if paid else 5, "text": "Successful" if paid else "Pending"},
    }
    order["payment_status"] = "captured" if paid else "pending"
    return order


def credit_of(number: int, original: dict[str, Any], amount: str, day: dt.date) -> dict[str, Any]:
    """A credit order of ``amount`` (21 %) crediting ``original`` (Mijnwebwinkel: negative
    amounts, a credit status, ``credited_order_number``)."""
    order = make_order(number, kind="credit", credited=original, date=day)
    return priced(order, [article(f"-{amount}", description="Retour")])


def at(day: dt.date, hour: int = 11) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0))


def cents(amount: str | Decimal) -> int:
    return int(Decimal(str(amount)) * 100)
