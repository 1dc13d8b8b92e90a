"""Invitations: an owner invites a person to one shop, as owner or meekijker.

The link carries a random token; only its SHA-256 digest is stored, so the table alone
opens nothing. A link works once (``accepted_at``) and until ``expires_at``; a new
invitation of the same address to the same shop replaces the pending one. Accepting
links the account to the shop in the same transaction that uses the link up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from app.states import Role, ShopRole
from app.store.db import invitations, users
from app.store.engine import aware, new_id, transaction, utcnow
from app.store.users import link_user, normalise_email


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    email: str
    shop_id: int
    role: ShopRole
    invited_by: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    accepted_at: dt.datetime | None

    def usable(self, now: dt.datetime) -> bool:
        return self.accepted_at is None and now < self.expires_at


def _invitation(row: Any) -> Invitation:
    return Invitation(
        row.id,
        row.email,
        row.shop_id,
        ShopRole.parse(row.role) or ShopRole.VIEWER,
        row.invited_by,
        aware(row.created_at) or utcnow(),
        aware(row.expires_at) or utcnow(),
        aware(row.accepted_at),
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, *, email: str, shop_id: int, role: ShopRole, invited_by: int | None, ttl: int
    ) -> tuple[str, Invitation]:
        """A new invitation (replacing a pending one of this address to this shop);
        returns the link's token (shown or mailed once, never stored) and the row."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        values = {
            "token_hash": digest(token),
            "email": normalise_email(email),
            "shop_id": shop_id,
            "role": str(role),
            "invited_by": invited_by,
            "created_at": now,
            "expires_at": now + dt.timedelta(seconds=ttl),
        }
        with transaction(self.engine) as conn:
            conn.execute(
                delete(invitations).where(
                    invitations.c.shop_id == shop_id,
                    invitations.c.email == values["email"],
                    invitations.c.accepted_at.is_(None),
                )
            )
            invitation_id = new_id(conn.execute(invitations.insert().values(**values)))
            row = conn.execute(select(invitations).where(invitations.c.id == invitation_id)).one()
        return token, _invitation(row)

    def find(self, token: str) -> Invitation | None:
        """The invitation of a link (used up or expired ones too: the page says so)."""
        if not token or len(token) > 100:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(invitations).where(invitations.c.token_hash == digest(token))
            ).first()
        return _invitation(row) if row else None

    def pending(self, shop_id: int) -> list[Invitation]:
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(invitations)
                .where(
                    invitations.c.shop_id == shop_id,
                    invitations.c.accepted_at.is_(None),
                    invitations.c.expires_at > now,
                )
                .order_by(invitations.c.email)
            ).all()
        return [_invitation(row) for row in rows]

    def revoke(self, shop_id: int, invitation_id: int) -> bool:
        with transaction(self.engine) as conn:
            result = conn.execute(
                delete(invitations).where(
                    invitations.c.id == invitation_id,
                    invitations.c.shop_id == shop_id,
                    invitations.c.accepted_at.is_(None),
                )
            )
        return bool(result.rowcount)

    def accept(self, token: str, user_id: int) -> Invitation | None:
        """Use the link up for an existing account: it sees the shop as invited. None
        when the link is unknown, used or expired (nothing changes then)."""
        with transaction(self.engine) as conn:
            invitation = _use(conn, token)
            if invitation is not None:
                link_user(conn, invitation.shop_id, user_id, invitation.role)
            return invitation

    def accept_new_account(self, token: str, password_hash: str) -> tuple[Invitation, int] | None:
        """Use the link up for a person without an account: the account is made for the
        invited address, with this password, and linked. None when the link is unknown,
        used or expired, or the address has an account by now (nothing changes then)."""
        try:
            with transaction(self.engine) as conn:
                invitation = _use(conn, token)
                if invitation is None:
                    return None
                taken = conn.execute(
                    select(users.c.id).where(users.c.email == invitation.email)
                ).first()
                if taken is not None:
                    raise _Taken  # rolls the use of the link back
                user_id = new_id(
                    conn.execute(
                        users.insert().values(
                            email=invitation.email,
                            password_hash=password_hash,
                            role=str(Role.OWNER),
                        )
                    )
                )
                link_user(conn, invitation.shop_id, user_id, invitation.role)
                return invitation, user_id
        except (_Taken, IntegrityError):  # IntegrityError: made at this very moment
            return None


class _Taken(Exception):
    """The invited address has an account by now."""


def _use(conn: Connection, token: str) -> Invitation | None:
    """Mark the invitation accepted, if it is still usable (one UPDATE: one winner)."""
    now = utcnow()
    hashed = digest(token)
    used = conn.execute(
        update(invitations)
        .where(
            invitations.c.token_hash == hashed,
            invitations.c.accepted_at.is_(None),
            invitations.c.expires_at > now,
        )
        .values(accepted_at=now)
    )
    if not used.rowcount:
        return None
    row = conn.execute(select(invitations).where(invitations.c.token_hash == hashed)).one()
    return _invitation(row)
