"""The two external systems, each behind a small interface that speaks domain types.

Only these client modules import ``requests`` (both) and ``zeep`` (e-Boekhouden); the
rest of the code sees these Protocols and the types in
``app.core.orders`` and ``app.core.mutations``. Both have a real implementation here and a simulator
in ``sandbox/`` that the real clients are tested against over HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Protocol

from app.core.mutations import (
    Administration,
    BookedMutation,
    ExistingRelation,
    LedgerAccount,
    Mutation,
    MutationListing,
    Relation,
)
from app.core.orders import Order, OrderStatus, OrderSummary, ShopInfo
from app.core.payment_facts import PaymentFacts


class ShopApi(Protocol):
    """One shop's Mijnwebwinkel API (its token is bound at construction)."""

    def get_order(self, number: str) -> Order:
        """The full order. Raises OrderNotFoundError, ShopAuthError, OrderDataError."""
        ...

    def iter_orders_changed(self, start: dt.datetime, end: dt.datetime) -> Iterator[OrderSummary]:
        """Orders whose status changed in [start, end] (shop-local naive times), all pages,
        deduplicated by uuid."""
        ...

    def iter_orders_by_date(
        self, start: dt.date, end: dt.date, status_id: int
    ) -> Iterator[OrderSummary]:
        """Orders placed in [start, end] with this status, all pages (backfill)."""
        ...

    def iter_orders_placed(self, start: dt.date, end: dt.date) -> Iterator[Order | OrderSummary]:
        """Every order placed in [start, end], any status, all pages, as full orders (an
        order that does not parse comes as its summary): the period report's one pass."""
        ...

    def count_orders(self, **filters: object) -> int: ...

    def order_statuses(self) -> list[OrderStatus]: ...

    def store(self) -> ShopInfo: ...

    def order_payments(self, number: str) -> PaymentFacts | None:
        """The order's captures and refunds (``GET /orders/{n}/payments``); None when the
        listing is not offered (fall back on the order's deprecated payment fields)."""
        ...

    def payment_methods(self) -> list[tuple[str, str]]:
        """The shop's payment methods, (name, display name)."""
        ...


class BookkeepingApi(Protocol):
    """One e-Boekhouden administration (credentials bound at construction)."""

    def verify(self) -> None:
        """Open a session now; raises BookkeepingAuthError on bad credentials."""
        ...

    def add_mutation(self, mutation: Mutation) -> int:
        """AddMutatie; returns the Mutatienummer."""
        ...

    def find_mutations(self, invoice_number: str) -> list[BookedMutation]:
        """GetMutaties filtered by Factuurnummer (capped at 5,000 calls a month: use
        only to resolve an uncertain post)."""
        ...

    def list_mutations(
        self, start: dt.date, end: dt.date, *, progress: Callable[[int], None] | None = None
    ) -> MutationListing:
        """Every mutation of the administration dated in [start, end], with its rows, and
        the number of calls that cost (SOAP: GetMutaties, capped at 5,000 a month; REST:
        the listing's pages and one call per mutation). ``progress(n)``: n read so far."""
        ...

    def find_relation(self, code: str) -> ExistingRelation | None: ...

    def find_relations_by_email(self, email: str) -> list[ExistingRelation]: ...

    def add_relation(self, relation: Relation) -> int:
        """AddRelatie; returns Rel_ID."""
        ...

    def update_relation(self, existing: ExistingRelation, changes: dict[str, str]) -> None:
        """UpdateRelatie: ``existing`` with ``changes`` (cRelatie field names, e.g.
        ``BTWNummer``, ``Bedrijf``), every other field sent back as it was."""
        ...

    def ledger_accounts(self) -> list[LedgerAccount]: ...

    def administrations(self) -> list[Administration]: ...

    def close(self) -> None: ...
