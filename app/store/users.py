"""Users: the people who may log in, their role, and which shops each one owns.

``session_version`` ends sessions: a session remembers the version it was made under,
and logout, a password change or disabling the account raise it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from app.states import Role, ShopRole
from app.store.db import shop_owners, shops, users
from app.store.engine import aware, insert_for, new_id, transaction


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    password_hash: str = field(repr=False)
    created_at: dt.datetime | None = None
    role: Role = Role.OWNER
    disabled: bool = False
    session_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def _user(row: Any) -> User:
    return User(
        row.id,
        row.email,
        row.password_hash,
        aware(row.created_at),
        Role(row.role),
        bool(row.disabled),
        int(row.session_version),
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


class UserStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        email: str,
        password_hash: str,
        role: Role = Role.OWNER,
        shop_ids: tuple[int, ...] = (),
    ) -> int:
        with transaction(self.engine) as conn:
            user_id = new_id(
                conn.execute(
                    users.insert().values(
                        email=normalise_email(email), password_hash=password_hash, role=str(role)
                    )
                )
            )
            for shop_id in shop_ids:
                conn.execute(shop_owners.insert().values(user_id=user_id, shop_id=shop_id))
            return user_id

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == normalise_email(email))).first()
        return _user(row) if row else None

    def set_password(self, user_id: int, password_hash: str) -> None:
        """A new password ends every session of the user."""
        with transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, session_version=users.c.session_version + 1)
            )

    def end_sessions(self, user_id: int) -> None:
        with transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(session_version=users.c.session_version + 1)
            )

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        with transaction(self.engine) as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(disabled=disabled, session_version=users.c.session_version + 1)
            )

    def delete(self, user_id: int) -> bool:
        with transaction(self.engine) as conn:
            return bool(conn.execute(delete(users).where(users.c.id == user_id)).rowcount)

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(row) for row in conn.execute(select(users).order_by(users.c.id))]

    # --- ownership --------------------------------------------------------------------

    def add_owner(self, shop_id: int, user_id: int, role: ShopRole = ShopRole.OWNER) -> None:
        """Link the user to the shop as ``role`` (an existing link takes that role)."""
        with transaction(self.engine) as conn:
            link_user(conn, shop_id, user_id, role)

    def set_role(self, shop_id: int, user_id: int, role: ShopRole) -> bool:
        with transaction(self.engine) as conn:
            result = conn.execute(
                update(shop_owners)
                .where(shop_owners.c.shop_id == shop_id, shop_owners.c.user_id == user_id)
                .values(role=str(role))
            )
        return bool(result.rowcount)

    def role_of(self, user_id: int, shop_id: int) -> ShopRole | None:
        """The user's role for the shop, None when the shop is not theirs."""
        with self.engine.connect() as conn:
            role = conn.execute(
                select(shop_owners.c.role).where(
                    shop_owners.c.user_id == user_id, shop_owners.c.shop_id == shop_id
                )
            ).scalar()
        return ShopRole.parse(role) if role is not None else None

    def people(self, shop_id: int) -> list[tuple[User, ShopRole]]:
        """Everyone linked to the shop, with their role, by e-mail address."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(users, shop_owners.c.role.label("shop_role"))
                .join(shop_owners)
                .where(shop_owners.c.shop_id == shop_id)
                .order_by(users.c.email)
            ).all()
        return [(_user(row), ShopRole.parse(row.shop_role) or ShopRole.VIEWER) for row in rows]

    def remove_owner(self, shop_id: int, user_id: int) -> None:
        with transaction(self.engine) as conn:
            conn.execute(
                delete(shop_owners).where(
                    shop_owners.c.shop_id == shop_id, shop_owners.c.user_id == user_id
                )
            )

    def owns(self, user_id: int, shop_id: int) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(shop_owners.c.user_id).where(
                        shop_owners.c.user_id == user_id,
                        shop_owners.c.shop_id == shop_id,
                    )
                ).first()
                is not None
            )

    def existing_shop_ids(self, shop_ids: Iterable[int]) -> set[int]:
        """Which of ``shop_ids`` are shops (to link a new user to)."""
        with self.engine.connect() as conn:
            return {
                row.id
                for row in conn.execute(select(shops.c.id).where(shops.c.id.in_(list(shop_ids))))
            }

    def shop_ids(self, user_id: int) -> set[int]:
        with self.engine.connect() as conn:
            return {
                row.shop_id
                for row in conn.execute(
                    select(shop_owners.c.shop_id).where(shop_owners.c.user_id == user_id)
                )
            }

    def owners(self, shop_id: int) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(users)
                .join(shop_owners)
                .where(shop_owners.c.shop_id == shop_id)
                .order_by(users.c.email)
            ).all()
        return [_user(row) for row in rows]


def link_user(conn: Connection, shop_id: int, user_id: int, role: ShopRole) -> None:
    """In the caller's transaction: the user sees the shop as ``role`` (an existing link
    takes that role)."""
    conn.execute(
        insert_for(conn, shop_owners)
        .values(user_id=user_id, shop_id=shop_id, role=str(role))
        .on_conflict_do_update(
            index_elements=[shop_owners.c.user_id, shop_owners.c.shop_id],
            set_={"role": str(role)},
        )
    )
