"""What a password must be, and how it is stored (scrypt). One rule for every place a
password is set: ``flask users create|set-password`` and the pages.

A password must have at least ``MIN_PASSWORD`` characters and must not be on the bundled
list of common and breached passwords (data/common-passwords.txt, its source named in its
header; ASVS 4.0.3 V2.1.7), compared without case and surrounding spaces.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from werkzeug.security import generate_password_hash

MIN_PASSWORD = 12  # characters, not counting spaces at either end (ASVS 4.0.3 V2.1.1)
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
    if password.strip().lower() in common_passwords():
        return (
            "Dit wachtwoord is te bekend: het staat op een lijst van veelgebruikte en "
            "uitgelekte wachtwoorden. Kies een ander, bijvoorbeeld een zin van een paar "
            "woorden die niemand van u verwacht."
        )
    return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list, read once per process (about 2,400 entries)."""
    text = resources.files("app.accounts").joinpath("data/common-passwords.txt").read_text()
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normal_email(email: str) -> str | None:
    """The address as stored (trimmed, lower case), or None when it is not one."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email) or ".." in email:
        return None
    return email
