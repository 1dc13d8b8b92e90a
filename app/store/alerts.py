"""Alert preferences (who wants which mail, per shop or for all shops) and alert marks
(what was already reported per shop, so a digest never repeats itself)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, insert, or_, select, update

from app.states import Role
from app.store.db import alert_marks, alert_prefs, shop_owners, users
from app.store.engine import aware, transaction, utcnow

DIGEST, CREDENTIALS = "digest", "credentials"
OPEN_ITEMS = "open_items"  # sent_at: up to when the digest reported open money


@dataclass(frozen=True, slots=True)
class AlertPref:
    shop_id: int | None  # None: every shop
    digest: bool
    credentials: bool


@dataclass(frozen=True, slots=True)
class Mark:
    sent_at: dt.datetime | None
    reported_upto: int


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- preferences ------------------------------------------------------------------

    def prefs(self, user_id: int) -> dict[int | None, AlertPref]:
        query = select(alert_prefs).where(alert_prefs.c.user_id == user_id)
        with self.engine.connect() as conn:
            return {
                r.shop_id: AlertPref(r.shop_id, bool(r.digest), bool(r.credentials))
                for r in conn.execute(query)
            }

    def save_prefs(self, user_id: int, prefs: list[AlertPref]) -> None:
        """Replace the user's preferences; rows with nothing on are not kept."""
        with transaction(self.engine) as conn:
            conn.execute(delete(alert_prefs).where(alert_prefs.c.user_id == user_id))
            rows = [
                {
                    "user_id": user_id,
                    "shop_id": p.shop_id,
                    "digest": p.digest,
                    "credentials": p.credentials,
                }
                for p in prefs
                if p.digest or p.credentials
            ]
            if rows:
                conn.execute(insert(alert_prefs), rows)

    def recipients(self, shop_id: int, kind: str) -> list[str]:
        """E-mail addresses of the users who opted in to ``kind`` for this shop (or for
        all shops) and may see it: its owners and the administrators, none disabled."""
        column = alert_prefs.c.digest if kind == DIGEST else alert_prefs.c.credentials
        owns = select(shop_owners.c.user_id).where(shop_owners.c.shop_id == shop_id)
        query = (
            select(users.c.email)
            .distinct()
            .join(alert_prefs, alert_prefs.c.user_id == users.c.id)
            .where(
                column.is_(True),
                or_(alert_prefs.c.shop_id.is_(None), alert_prefs.c.shop_id == shop_id),
                users.c.disabled.is_(False),
                or_(users.c.role == str(Role.ADMIN), users.c.id.in_(owns)),
            )
            .order_by(users.c.email)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    # --- marks ------------------------------------------------------------------------

    def mark(self, shop_id: int, kind: str) -> Mark:
        query = select(alert_marks).where(
            alert_marks.c.shop_id == shop_id, alert_marks.c.kind == kind
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return Mark(None, 0)
        return Mark(aware(row.sent_at), int(row.reported_upto or 0))

    def set_mark(
        self, shop_id: int, kind: str, *, reported_upto: int, sent_at: dt.datetime | None = None
    ) -> None:
        sent_at = sent_at or utcnow()
        where = and_(alert_marks.c.shop_id == shop_id, alert_marks.c.kind == kind)
        with transaction(self.engine) as conn:
            done = conn.execute(
                update(alert_marks)
                .where(where)
                .values(sent_at=sent_at, reported_upto=reported_upto)
            )
            if not done.rowcount:
                conn.execute(
                    insert(alert_marks).values(
                        shop_id=shop_id, kind=kind, sent_at=sent_at, reported_upto=reported_upto
                    )
                )
