"""What a password must be, and how it is stored (scrypt). One rule for every place a
password is set: ``flask users create|set-password`` and the pages."""

from __future__ import annotations

import re

from werkzeug.security import generate_password_hash

MIN_PASSWORD = 10  # characters, not counting spaces at either end
MAX_PASSWORD = 200  # bounds the hashing work per attempt
MAX_EMAIL = 200
EMAIL = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,63}")


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be used (Dutch), or None when it can."""
    if len(password.strip()) < MIN_PASSWORD:
        return (
            f"Het wachtwoord moet minstens {MIN_PASSWORD} tekens lang zijn (spaties aan het "
            "begin of eind tellen niet mee)."
        )
    if len(password) > MAX_PASSWORD:
        return f"Het wachtwoord mag hoogstens {MAX_PASSWORD} tekens lang zijn."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normal_email(email: str) -> str | None:
    """The address as stored (trimmed, lower case), or None when it is not one."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email) or ".." in email:
        return None
    return email
