"""The one password rule (app/accounts/passwords.py): long enough, not too long, and not on
the bundled list of common and breached passwords (ASVS 4.0.3 V2.1.7)."""

from __future__ import annotations

import pytest

from app.accounts.passwords import MIN_PASSWORD, common_passwords, password_problem


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("1234567890", "te bekend"),  # the probe's example
        ("qwertyuiop", "te bekend"),
        ("wachtwoord", "te bekend"),
        ("Wachtwoord", "te bekend"),  # without case
        ("  1q2w3e4r5t  ", "te bekend"),  # and without surrounding spaces
        ("basketball", "te bekend"),
        ("123456789", f"minstens {MIN_PASSWORD}"),
        ("x" * 201, "hoogstens 200"),
        ("paard-nietje-batterij", None),
        ("een-lang-wachtwoord", None),
        ("1234567890x", None),  # only the listed passwords themselves
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
    assert len(listed) > 1_500
    assert all(len(p) >= MIN_PASSWORD and p == p.lower().strip() for p in listed)
    from importlib import resources

    text = resources.files("app.accounts").joinpath("data/common-passwords.txt").read_text()
    assert "Source:" in text.splitlines()[1]
