"""The one password rule (app/accounts/passwords.py): long enough, not too long, and not on
the bundled list of common and breached passwords (ASVS 4.0.3 V2.1.7)."""

from __future__ import annotations

import pytest

from app.accounts.passwords import MIN_PASSWORD, common_passwords, password_problem


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("1234567890", f"minstens {MIN_PASSWORD}"),  # the probe's example: too short now
        ("1234567890ab", None),
        ("1qaz2wsx3edc", "te bekend"),
        ("qwerty123456", "te bekend"),
        ("password1234", "te bekend"),
        ("Q1W2E3R4T5Y6", "te bekend"),  # without case
        ("  123qweasdzxc  ", "te bekend"),  # and without surrounding spaces
        ("qwertyuiop12", "te bekend"),
        ("wachtwoord", f"minstens {MIN_PASSWORD}"),
        ("x" * 201, "hoogstens 200"),
        ("paard-nietje-batterij", None),
        ("een-lang-wachtwoord", None),
        ("1qaz2wsx3edc!", None),  # only the listed passwords themselves
    ],
)
def test_password_rule(password: str, fragment: str | None) -> None:
    problem = password_problem(password)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem


def test_the_bundled_list_is_read_and_names_its_source() -> None:
    listed = common_passwords()
    assert len(listed) > 2_000
    assert all(len(p) >= 10 and p == p.lower().strip() for p in listed)
    assert sum(len(p) >= MIN_PASSWORD for p in listed) > 300
    from importlib import resources

    text = resources.files("app.accounts").joinpath("data/common-passwords.txt").read_text()
    assert "Sources" in text.splitlines()[1]


def test_the_service_stores_scrypt_at_its_full_cost() -> None:
    """The tests' users have cheap hashes (tests/web/helpers.py ``TEST_SCRYPT``); the
    service's own keep werkzeug's scrypt cost (2^15), and check as they should."""
    from werkzeug.security import check_password_hash

    from app.accounts.passwords import hash_password

    stored = hash_password("een-lang-wachtwoord")
    assert stored.startswith("scrypt:32768:8:1$")
    assert check_password_hash(stored, "een-lang-wachtwoord")
    assert not check_password_hash(stored, "een-ander-wachtwoord")
