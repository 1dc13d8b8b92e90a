"""Users: the people who may log in to the web interface."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update

from app.store.db import aware, new_id, transaction, users


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    password_hash: str = field(repr=False)
    created_at: dt.datetime | None = None


def _user(row: Any) -> User:
    return User(row.id, row.email, row.password_hash, aware(row.created_at))


def normalise_email(email: str) -> str:
    return email.strip().lower()


class UserStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, email: str, password_hash: str) -> int:
        with transaction(self.engine) as conn:
            return new_id(conn.execute(users.insert().values(
                email=normalise_email(email), password_hash=password_hash)))

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users)
                               .where(users.c.email == normalise_email(email))).first()
        return _user(row) if row else None

    def set_password(self, user_id: int, password_hash: str) -> None:
        with transaction(self.engine) as conn:
            conn.execute(update(users).where(users.c.id == user_id)
                         .values(password_hash=password_hash))

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(row) for row in conn.execute(select(users).order_by(users.c.id))]
