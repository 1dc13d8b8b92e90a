"""The store: every SQL statement of the connector, one module per aggregate.

shops (a shop, its credentials and settings), bookings (the bookings register: which are
booked, claimed, failed), payments (each capture or refund of an order, its own
claim), runs (reconcile passes), users (who may log in, and their role per shop),
invitations (to a shop). Each function owns its transaction; callers pass the engine and
get typed rows back. ``db`` holds the tables and the engine.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from app.crypto import Vault
from app.store.alerts import AlertStore
from app.store.bookings import BookingStore
from app.store.history import HistoryStore
from app.store.invitations import InvitationStore
from app.store.payments import PaymentStore
from app.store.reports import ReportStore
from app.store.runs import RunStore
from app.store.shops import ShopStore
from app.store.users import UserStore


class Store:
    """The four aggregates over one engine: ``store.shops``, ``store.bookings``,
    ``store.runs``, ``store.users``."""

    def __init__(self, engine: Engine, vault: Vault) -> None:
        self.engine = engine
        self.shops = ShopStore(engine, vault)
        self.bookings = BookingStore(engine)
        self.payments = PaymentStore(engine)
        self.runs = RunStore(engine, self.shops)
        self.users = UserStore(engine)
        self.history = HistoryStore(engine)  # booked rows and attempts (read side)
        self.alerts = AlertStore(engine)  # alert preferences and what was reported
        self.invitations = InvitationStore(engine)  # people invited to a shop
        self.reports = ReportStore(engine)  # the period report's reads and akkoord marks

    def ping(self) -> None:
        """Raises if the database does not answer (``/healthz``)."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
